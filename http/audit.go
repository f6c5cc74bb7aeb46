package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/kopilka/kopilka"
)

// Every write made through the API by a key, an operator or a member, and
// every login attempt, is appended to the audit log after it is answered:
// who, when, the route and path, the request, the resource before and the
// answer after, the status, the request id and the source address.

// maxAuditBody bounds each of the request, before and after kept.
const maxAuditBody = 64 << 10

type auditKey struct{}

func auditOf(ctx context.Context) *kopilka.AuditEntry {
	a, _ := ctx.Value(auditKey{}).(*kopilka.AuditEntry)
	return a
}

// audited reports whether a route's calls go to the audit log.
func audited(rt Route) bool {
	return rt.Method != "GET" && (len(rt.Roles) > 0 || strings.HasPrefix(rt.Pattern, "/v1/auth/"))
}

// teeWriter keeps the first maxAuditBody bytes of an answer.
type teeWriter struct {
	*statusWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if room := maxAuditBody + 1 - w.buf.Len(); room > 0 {
		w.buf.Write(b[:min(len(b), room)])
	}
	return w.statusWriter.Write(b)
}

// secretText finds secret fields in text that is not a JSON document
// (YAML, or JSON too long to parse whole).
var secretText = regexp.MustCompile(`(?i)("?(?:secret|token|password|password_hash|code)"?\s*:\s*)("[^"]*"|'[^']*'|[^\s,}]+)`)

// secretFields are removed from what the log keeps of requests; answers
// keep "code", which in them is a problem's code, not a one-time code.
var (
	secretFields       = []string{"secret", "token", "password", "password_hash", "code"}
	secretAnswerFields = secretFields[:4]
)

// redact returns a JSON document without secret fields, a long or non-JSON
// body as a JSON string (cut to maxAuditBody), and nil for nothing.
func redact(b []byte, secrets []string) json.RawMessage {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
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

func scrub(v any, secrets []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if slices.Contains(secrets, k) {
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

// before reads the resource a write is about to change, as its GET route
// would show it (nil when there is none or it does not exist).
func (s *Server) before(ctx context.Context, rt Route, r *http.Request) any {
	svc := s.App
	id, number := r.PathValue("id"), r.PathValue("number")
	p := rt.Pattern
	var v any
	var err error
	switch {
	case p == "/v1/programme" || p == "/v1/programme/import":
		v, err = svc.Programme.Programme(ctx)
	case strings.HasPrefix(p, "/v1/programme/rules/{id}"):
		prog, e := svc.Programme.Programme(ctx)
		for _, rule := range prog.Rules {
			if rule.ID == id {
				v = rule
			}
		}
		err = e
	case strings.HasPrefix(p, "/v1/programme/campaigns/{id}") && rt.Method != "POST":
		prog, e := svc.Programme.Programme(ctx)
		for _, c := range prog.Campaigns {
			if c.ID == id {
				v = c
			}
		}
		err = e
	case p == "/v1/members/{id}/adjustments":
		v, err = svc.Ledger.Balance(ctx, id)
	case strings.HasPrefix(p, "/v1/members/{id}"):
		v, err = svc.Members.Member(ctx, id)
	case strings.HasPrefix(p, "/v1/cards/{number}"):
		v, err = svc.Members.Card(ctx, number)
	case strings.HasPrefix(p, "/v1/partners/{id}") && !strings.Contains(p, "settlements"):
		v, err = svc.Coalition.Partner(ctx, id)
	case p == "/v1/stores/{id}":
		v, err = svc.Coalition.Store(ctx, id)
	case strings.HasPrefix(p, "/v1/purchases/{id}/"):
		v, err = svc.Purchases.Purchase(ctx, id)
	case strings.HasPrefix(p, "/v1/operators/{id}"):
		v, err = svc.Access.Operator(ctx, id)
	case p == "/v1/keys/{id}":
		ks, e := svc.Access.Keys(ctx)
		for _, k := range ks {
			if k.ID == id {
				v = k
			}
		}
		err = e
	}
	if err != nil || v == nil {
		return nil
	}
	return v
}

// newAudit starts the entry of a request on an audited route.
func (s *Server) newAudit(ctx context.Context, rt Route, r *http.Request, p kopilka.Principal, body []byte) *kopilka.AuditEntry {
	a := &kopilka.AuditEntry{ActorKind: p.Kind, ActorID: p.ID, Actor: p.Actor(), Role: p.Role, PartnerID: p.PartnerID,
		Action: rt.Method + " " + rt.Pattern, Path: strings.ToValidUTF8(r.URL.RequestURI(), "\uFFFD"), RequestID: requestID(ctx),
		Request: redact(body, secretFields)}
	a.Target = r.PathValue("id")
	if a.Target == "" {
		a.Target = r.PathValue("number")
	}
	a.Source = sourceOf(r)
	if b := s.before(ctx, rt, r); b != nil {
		raw, _ := json.Marshal(b)
		a.Before = redact(raw, secretAnswerFields)
	}
	return a
}

// record appends the entry with the answer, before the answer is sent on
// its way. Concurrent requests share one transaction (a group commit): the
// first to arrive writes every entry waiting with its own. A failure to
// record is logged loudly and counted: the write it describes is done.
func (s *Server) record(ctx context.Context, a *kopilka.AuditEntry, status int, answer []byte) {
	a.Status = status
	a.After = redact(answer, secretAnswerFields)
	if a.ActorKind == "" {
		a.ActorKind = "anonymous"
	}
	done := make(chan error, 1)
	s.auditMu.Lock()
	s.auditQueue = append(s.auditQueue, pendingAudit{*a, done})
	s.auditMu.Unlock()
	// One writer at a time takes everything queued so far.
	s.auditWriter.Lock()
	s.auditMu.Lock()
	batch := s.auditQueue
	s.auditQueue = nil
	s.auditMu.Unlock()
	if len(batch) > 0 {
		es := make([]kopilka.AuditEntry, len(batch))
		for i, p := range batch {
			es[i] = p.entry
		}
		err := s.App.Access.RecordAudit(context.WithoutCancel(ctx), es...)
		for i, p := range batch {
			if err != nil && len(batch) > 1 { // one bad entry must not lose the others
				p.done <- s.App.Access.RecordAudit(context.WithoutCancel(ctx), es[i])
				continue
			}
			p.done <- err
		}
	}
	s.auditWriter.Unlock()
	if err := <-done; err != nil {
		s.Logger.Error("audit log: could not record a write", "err", err, "action", a.Action, "path", a.Path,
			"actor", a.Actor, "request_id", a.RequestID)
		s.auditFailures.Inc()
	}
}

type pendingAudit struct {
	entry kopilka.AuditEntry
	done  chan error
}
