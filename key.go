package kopilka

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Roles. Keys and operators carry one; a member signed in by a one-time
// code is RoleMember. http/routes.go says what each may call.
const (
	RoleAdmin        = "admin"         // everything: keys, operators, the audit log
	RoleOperator     = "operator"      // runs the programme: members, partners, programme, settlements
	RoleMarketing    = "marketing"     // programme, rules, campaigns, reports
	RoleSupport      = "support"       // members, history, cards, adjustments up to a limit
	RolePartnerAdmin = "partner-admin" // one partner's stores, rates, reports and settlements
	RolePOS          = "pos"           // the till: quote, confirm, refund, cancel, look up a card
	RoleMember       = "member"        // a member's own balance, history and cards
)

// KeyRoles are the roles an API key may have.
var KeyRoles = []string{RoleAdmin, RoleOperator, RoleMarketing, RoleSupport, RolePartnerAdmin, RolePOS}

// Principal is who makes a request: a key, an operator or a member.
type Principal struct {
	Kind string // "key", "operator" or "member"
	ID   string
	Name string
	Role string
	// PartnerID scopes the principal to one partner ("": every partner),
	// and StoreIDs to some of its stores (empty: all of them).
	PartnerID string
	StoreIDs  []string
	// MemberID is the member a member principal is.
	MemberID string
}

// Actor names the principal in the ledger and the audit log.
func (p Principal) Actor() string {
	if p.Kind == "" {
		return ""
	}
	return p.Kind + ":" + p.ID + " (" + p.Name + ")"
}

// Scoped reports whether the principal sees only one partner's business.
func (p Principal) Scoped() bool { return p.PartnerID != "" }

// APIKey is a bearer key. Only its hash is stored; the secret is shown once.
type APIKey struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
	// PartnerID scopes the key to a partner, StoreIDs to some of its stores.
	PartnerID  string     `json:"partner_id,omitempty"`
	StoreIDs   []string   `json:"store_ids,omitempty"`
	Hash       string     `json:"-"`
	Prefix     string     `json:"prefix"` // the secret's first characters, to tell keys apart
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	// Secret is set only in the answer that creates the key.
	Secret string `json:"secret,omitempty"`
}

// KeyPrefix starts every secret, so that leaked keys are easy to grep for.
const KeyPrefix = "kpk_"

// HashKey returns the stored form of a secret.
func HashKey(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
