package kopilka

import (
	"encoding/json"
	"time"
)

// AuditEntry is one write made through the API by a key, an operator or a
// member: who, when, what, the state before and after, the request id and
// the source address. The log is append-only: the store has no way to
// change or remove an entry, and no route asks it to.
type AuditEntry struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	ActorKind string    `json:"actor_kind"` // key, operator or member
	ActorID   string    `json:"actor_id"`
	Actor     string    `json:"actor"` // "operator:… (anna@example.com)"
	Role      string    `json:"role"`
	PartnerID string    `json:"partner_id,omitempty"`
	// Action is the route ("POST /v1/members/{id}/block"), Path the path asked.
	Action    string `json:"action"`
	Path      string `json:"path"`
	Target    string `json:"target,omitempty"` // the id the path names
	Status    int    `json:"status"`
	RequestID string `json:"request_id"`
	Source    string `json:"source"` // the client's address
	// Request is the body sent, Before the resource before the write and
	// After the answer; secrets, passwords and codes are removed.
	Request json.RawMessage `json:"request,omitempty"`
	Before  json.RawMessage `json:"before,omitempty"`
	After   json.RawMessage `json:"after,omitempty"`
}

// AuditFilter selects entries; empty fields select all.
type AuditFilter struct {
	ActorID   string
	Action    string
	Target    string
	PartnerID string
	From, To  time.Time
	// Before pages back: entries older than the cursor.
	Before *Cursor
	Limit  int
}
