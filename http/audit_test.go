package http_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	khttp "github.com/kopilka/kopilka/http"
)

// auditCount is how many entries the audit log holds.
func auditCount(t *testing.T, a *api) int {
	t.Helper()
	es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func TestAudit_AQuoteAReadAndABodyThatDoesNotDecodeRecordNothing(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79163330001"}).ok(t, 201, &m)
			receipt := map[string]any{"receipt_id": "q-1", "store_id": "store-1", "member_id": m.ID,
				"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 10000, "amount": 10000}}}
			before := auditCount(t, a)
			a.do(t, "POST", "/v1/purchases/calculate", posKey, receipt).ok(t, 200, nil)
			a.do(t, "GET", "/v1/members/"+m.ID, adminKey, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/members/"+m.ID+"/balance", posKey, nil).ok(t, 200, nil)
			a.do(t, "GET", "/v1/programme", adminKey, nil).ok(t, 200, nil)
			a.do(t, "POST", "/v1/programme/simulate", adminKey, map[string]any{"days": 1, "rule": map[string]any{"id": "sim", "kind": "per_receipt", "points": 1}}).ok(t, 200, nil)
			r := a.do(t, "POST", "/v1/purchases", posKey, "{not json")
			if r.status != 400 {
				t.Fatalf("a body that does not decode: %d %s", r.status, r.body)
			}
			if n := auditCount(t, a); n != before {
				t.Fatalf("a quote, reads, a simulation and a bad body wrote %d entries", n-before)
			}
			a.do(t, "POST", "/v1/purchases", posKey, receipt).ok(t, 200, nil)
			if n := auditCount(t, a); n != before+1 {
				t.Fatalf("a confirmation wrote %d entries, want 1", n-before)
			}
		})
	}
}

// A route that names something of one partner's must say so, so that the
// test of another partner's key tries it; a new route that forgets fails here.
func TestRoutes_EveryRouteNamingAPartnersThingHasItsScope(t *testing.T) {
	want := map[string]string{
		"/v1/partners/{id}":  khttp.ScopePartner,
		"/v1/stores/{id}":    khttp.ScopeStore,
		"/v1/purchases/{id}": khttp.ScopeReceipt,
	}
	scopedRoles := []string{kopilka.RolePOS, kopilka.RolePartnerAdmin}
	for _, rt := range (&khttp.Server{}).Routes() {
		reachable := false
		for _, r := range rt.Roles() {
			for _, s := range scopedRoles {
				reachable = reachable || r == s
			}
		}
		if !reachable {
			continue // no key of one partner may call it
		}
		scope := khttp.ScopeNone
		for prefix, s := range want {
			if strings.HasPrefix(rt.Pattern, prefix) {
				scope = s
			}
		}
		if rt.Pattern == "/v1/purchases" || rt.Pattern == "/v1/purchases/calculate" {
			scope = khttp.ScopeReceipts
		}
		if (rt.Pattern == "/v1/purchases" || rt.Pattern == "/v1/stores") && rt.Method == "GET" {
			scope = khttp.ScopeList
		}
		if rt.Scope != scope {
			t.Errorf("%s %s has scope %q, want %q", rt.Method, rt.Pattern, rt.Scope, scope)
		}
	}
}

// encoding/json reads member names without regard to case, so a password
// sent as "Password" logs in; the log must not keep it either.
func TestAudit_ASecretInAnotherCaseIsRemovedToo(t *testing.T) {
	a := newAPI(t, "sqlite")
	email, role, pw := "vera@example.com", "support", "correct horse battery staple"
	if _, err := a.svc.Access.CreateOperator(sysCtx(), access.OperatorInput{Email: &email, Role: &role, Password: &pw}); err != nil {
		t.Fatal(err)
	}
	a.do(t, "POST", "/v1/auth/login", "", `{"email":"vera@example.com","Password":"`+pw+`"}`).ok(t, 200, nil)
	a.do(t, "POST", "/v1/operators", adminKey, `{"email":"ivan@example.com","role":"support","PASSWORD":"ivans own secret pass"}`).ok(t, 201, nil)
	es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		for _, secret := range []string{pw, "ivans own secret pass"} {
			if strings.Contains(string(e.Request), secret) || strings.Contains(string(e.After), secret) {
				t.Errorf("audit entry %s (%s) keeps a password: %s", e.ID, e.Action, e.Request)
			}
		}
	}
}

// A caller without the role is told so, and recorded, whatever it sent:
// the policy comes before the body is read.
func TestAudit_ACallerWithoutTheRoleIsRefusedAndRecordedWhateverItSent(t *testing.T) {
	a := newAPI(t, "sqlite")
	before := auditCount(t, a)
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/v1/programme/rules/a", `{"id":"b","kind":"per_receipt","points":1}`},
		{"PUT", "/v1/programme/import", `{"rules":[{"id":"x","kind":"nope"}]}`},
		{"POST", "/v1/keys", `{"role":1}`},
		{"POST", "/v1/members", `{"phone":1}`},
		{"POST", "/v1/members", `{not json`},
	} {
		if r := a.do(t, c.method, c.path, posKey, c.body); r.status != 403 {
			t.Errorf("%s %s by a till: %d %s, want 403", c.method, c.path, r.status, r.body)
		}
	}
	if r := a.do(t, "GET", "/v1/audit?limit=nope", posKey, nil); r.status != 403 {
		t.Errorf("a read with a bad query by a till: %d, want 403", r.status)
	}
	es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != before+5 {
		t.Fatalf("%d entries for 5 refused writes and a refused read", len(es)-before)
	}
	for _, e := range es[:5] {
		if e.Status != 403 || e.Role != kopilka.RolePOS {
			t.Errorf("entry %+v", e)
		}
	}
}

// A client that gives up on its request still leaves the record of its
// refused write.
func TestAudit_ARefusalIsRecordedWhenTheRequestIsCancelled(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			member := kopilka.Principal{Kind: "member", ID: "m1", Name: "member", Role: kopilka.RoleMember, MemberID: "m1"}
			ctx, cancel := context.WithCancel(kopilka.NewContextWithPrincipal(context.Background(), member))
			cancel()
			before := auditCount(t, a)
			_, err := a.svc.Access.CreateKey(ctx, kopilka.APIKey{Name: "x", Role: kopilka.RoleAdmin}, "")
			var rec *access.RecordError
			if kopilka.ErrorCode(err) != kopilka.EFORBIDDEN || errors.As(err, &rec) {
				t.Fatalf("a member's key: %v", err)
			}
			if n := auditCount(t, a); n != before+1 {
				t.Fatalf("%d entries for the refusal, want 1", n-before)
			}
		})
	}
}
