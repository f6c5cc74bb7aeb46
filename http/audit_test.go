package http_test

import (
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
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
		if rt.Scope != scope {
			t.Errorf("%s %s has scope %q, want %q", rt.Method, rt.Pattern, rt.Scope, scope)
		}
	}
}
