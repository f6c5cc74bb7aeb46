package access

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/kopilka/kopilka"
)

// Every write a principal asks for is recorded in the audit log by the use
// case itself: Begin asks the policy, Record appends the entry with the
// exact state before and after inside the write's own transaction, so the
// write and its entry commit together or not at all; Finish records a
// write that was refused or failed, in a transaction of its own. Reads and
// quotes record nothing.

// Auditor appends audit entries inside a transaction.
type Auditor interface {
	// InsertAudit appends entries.
	InsertAudit(ctx context.Context, es ...kopilka.AuditEntry) error
}

// Audit is the audit entry of one write being made.
type Audit struct {
	entry     kopilka.AuditEntry
	env       *kopilka.Env
	refused   error
	committed bool
}

// Begin starts the entry of a write of action on target (the id the write
// names, or "") by the principal in ctx, and asks the policy. Err reports
// the refusal; Finish records it.
func Begin(ctx context.Context, env *kopilka.Env, act Action, target string) *Audit {
	p := kopilka.PrincipalFrom(ctx)
	a := &Audit{env: env, refused: Allow(ctx, act)}
	e := &a.entry
	e.ActorKind, e.ActorID, e.Actor, e.Role, e.PartnerID = p.Kind, p.ID, p.Actor(), p.Role, p.PartnerID
	if e.ActorKind == "" {
		e.ActorKind = "anonymous"
	}
	e.Action, e.Target = string(act), cut(target, maxAuditTarget)
	if c := kopilka.CallFrom(ctx); c != nil {
		e.Action, e.Path, e.RequestID, e.Source = c.Route, cut(c.Path, maxAuditPath), c.RequestID, c.Source
		e.Request = redact(c.Request, secretFields)
		if p.Kind == "" && len(e.Request) > maxAnonymousBody {
			// Anybody may call a public route: what the log keeps of it is small.
			e.Request, _ = json.Marshal(cut(string(e.Request), maxAnonymousBody))
		}
	}
	return a
}

// What an entry keeps: a path of at most maxAuditPath bytes, a target of
// at most maxAuditTarget, and of a request without a principal (a sign-in)
// at most maxAnonymousBody bytes of its body.
const (
	maxAuditPath     = 1 << 10
	maxAuditTarget   = 256
	maxAnonymousBody = 4 << 10
)

// cut shortens s to at most n bytes (on a character boundary), marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = strings.ToValidUTF8(s[:n], "")
	return s + "…(cut)"
}

// Err is the policy's refusal, or nil.
func (a *Audit) Err() error { return a.refused }

// SetActor names who acts when no principal does yet: a sign-in names the
// address it was tried with, and a successful one the operator or member.
func (a *Audit) SetActor(kind, id, actor, role string) {
	a.entry.ActorKind, a.entry.ActorID, a.entry.Actor, a.entry.Role = kind, id, actor, role
}

// SetTarget names the id the write made (a new member's, say).
func (a *Audit) SetTarget(id string) { a.entry.Target = cut(id, maxAuditTarget) }

// Record appends the entry, with the state before the write and after it
// (nil: none), inside the write's transaction tx.
func (a *Audit) Record(ctx context.Context, tx Auditor, before, after any) error {
	return tx.InsertAudit(ctx, a.stamped(ctx, before, after, nil))
}

// stamped is the entry as it is stored: its id and time, the states before
// and after (for a refusal, the problem), and the status the call answers
// with: the route's success status, or err's.
func (a *Audit) stamped(ctx context.Context, before, after any, err error) kopilka.AuditEntry {
	e := a.entry
	e.ID, e.At = a.env.NewID(), a.env.Time()
	e.Before, e.After = state(before), state(after)
	c := kopilka.CallFrom(ctx)
	switch {
	case err != nil:
		e.After = state(problemOf(err))
		if c != nil && c.StatusOf != nil {
			e.Status = c.StatusOf(err)
		}
	case c != nil:
		e.Status = c.Status
	}
	return e
}

// RecordRefusal appends the entry of a write refused for err inside a
// transaction that commits anyway (a failed sign-in counts the failure).
// The caller calls Committed once the transaction has committed.
func (a *Audit) RecordRefusal(ctx context.Context, tx Auditor, before any, err error) error {
	return tx.InsertAudit(ctx, a.stamped(ctx, before, nil, err))
}

// Committed says that the transaction holding the entry has committed, so
// that an error the use case returns after it (a refused sign-in, a code
// not delivered) is not recorded a second time.
func (a *Audit) Committed() { a.committed = true }

// Finish returns err after recording a write that did not happen: refused
// by the policy, or failed with err (its transaction, and the entry Record
// put in it, rolled back). The entry goes in a transaction of its own. If
// that fails too, the write's own error is still what Finish returns,
// wrapped in a RecordError that the edge logs.
func Finish[T Auditor](ctx context.Context, db kopilka.Transactor[T], a *Audit, err error) error {
	if err == nil || a.committed {
		return err
	}
	e := a.stamped(ctx, nil, nil, err)
	bg := context.WithoutCancel(ctx) // a request given up on still leaves its record
	if rerr := db.Update(bg, func(tx T) error { return tx.InsertAudit(bg, e) }); rerr != nil {
		return &RecordError{Err: err, Record: rerr}
	}
	return err
}

// RecordError is a refused or failed write whose audit entry could not be
// stored either. It answers as the write's own error; the edge logs Record.
type RecordError struct{ Err, Record error }

func (e *RecordError) Error() string { return e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

// problemOf is what the log keeps of an error: its code and safe message.
func problemOf(err error) any {
	var e *kopilka.Error
	if kopilka.ErrorCode(err) == kopilka.EINTERNAL || !asError(err, &e) {
		return map[string]any{"code": string(kopilka.EINTERNAL)}
	}
	out := map[string]any{"code": string(e.Code), "detail": e.Message}
	if len(e.Fields) > 0 {
		out["errors"] = e.Fields
	}
	return out
}

// maxAuditBody bounds each of the request, before and after kept.
const maxAuditBody = 64 << 10

// secretText finds secret fields in text that is not a JSON document
// (YAML, or JSON too long to parse whole).
var secretText = regexp.MustCompile(`(?i)("?(?:secret|token|password|password_hash|code)"?\s*:\s*)("[^"]*"|'[^']*'|[^\s,}]+)`)

// secretFields are removed from what the log keeps of requests, in any
// case ("Password" too: encoding/json reads names without regard to case);
// states keep "code", which in them is a problem's code, not a one-time code.
var (
	secretFields      = []string{"secret", "token", "password", "password_hash", "code"}
	secretStateFields = secretFields[:4]
)

// state is what the log keeps of a state: its JSON without secrets.
func state(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil || string(raw) == "null" {
		return nil
	}
	return redact(raw, secretStateFields)
}

// redact returns a JSON document without secret fields, a long or non-JSON
// body as a JSON string (cut to maxAuditBody), and nil for nothing.
func redact(b []byte, secrets []string) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if len(b) <= maxAuditBody && !mayHoldSecret(b, secrets) && json.Valid(b) {
		// Nothing to remove: the document as it is, compacted (a receipt's
		// and a quote's entries take this way, without a parse and a
		// marshal of their own).
		var out bytes.Buffer
		if json.Compact(&out, b) == nil {
			return out.Bytes()
		}
	}
	var v any
	if len(b) <= maxAuditBody && json.Unmarshal(b, &v) == nil {
		out, err := json.Marshal(scrub(v, secrets))
		if err == nil {
			return out
		}
	}
	s := secretText.ReplaceAllString(string(b[:min(len(b), maxAuditBody)]), `$1"(removed)"`)
	if len(b) > maxAuditBody {
		s += "…(cut)"
	}
	out, _ := json.Marshal(strings.ToValidUTF8(s, "\uFFFD"))
	return out
}

// mayHoldSecret reports whether a JSON document may hold a field to
// remove: it names a secret anywhere, in any letter case, or has an escape
// (which could spell a name another way).
func mayHoldSecret(b []byte, secrets []string) bool {
	if bytes.IndexByte(b, '\\') >= 0 {
		return true
	}
	lower := bytes.ToLower(b)
	for _, s := range secrets {
		if bytes.Contains(lower, []byte(strings.ToLower(s))) {
			return true
		}
	}
	return false
}

func scrub(v any, secrets []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if slices.ContainsFunc(secrets, func(s string) bool { return strings.EqualFold(s, k) }) {
				x[k] = "(removed)"
			} else {
				x[k] = scrub(val, secrets)
			}
		}
	case []any:
		for i := range x {
			x[i] = scrub(x[i], secrets)
		}
	}
	return v
}

func asError(err error, target **kopilka.Error) bool { return errors.As(err, target) }

// Refused records a write that the edge refused before its use case ran,
// and returns err. The HTTP server asks the policy before it reads a body,
// so that a caller without the role is told so (and recorded) whatever it
// sent; the use case asks again, for every other caller.
func (s *Service) Refused(ctx context.Context, act Action, target string, err error) error {
	return Finish(ctx, s.DB, Begin(ctx, s.Env, act, target), err)
}
