package http_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/surveys"
)

// The authorisation tests are generated from the route table: every route
// is tried with every role, and every route that names something of one
// partner's is tried with another partner's key. A new route fails them
// until it has a fixture here (a request it can be tried with), and a route
// without roles fails unless it is listed as public.

// publicRoutes answer without a key.
var publicRoutes = []string{"GET /", "GET /healthz", "GET /readyz", "GET /openapi.yaml", "GET /metrics", "POST /v1/auth/login", "POST /v1/auth/otp", "POST /v1/auth/otp/verify"}

// principal is a caller of the tests: a key of one role, maybe scoped to
// partner "main".
type principal struct {
	name, role, partner, secret string
	// renew signs in again, for a session that logged itself out.
	renew func() string
}

// authz is the world the routes are tried in: partner "main" with stores
// store-1 and s1, partner "other" with store o-1, and a purchase at each.
type authz struct {
	t     *testing.T
	a     *api
	n     atomic.Int64
	card  string
	owner string // a member with a card
	phone string // the owner's phone
	staff string // an operator's id
}

func (f *authz) next() string { return fmt.Sprint(f.n.Add(1)) }

// member creates a member and returns its id and card.
func (f *authz) member() (string, string) {
	var m kopilka.Member
	f.a.do(f.t, "POST", "/v1/members", adminKey, map[string]any{"phone": fmt.Sprintf("+7916%07d", f.n.Add(1))}).ok(f.t, 201, &m)
	return m.ID, m.Cards[0].Number
}

// openCase opens a case against the owner, as admin (resolved at once with
// a resolution), and returns its id.
func (f *authz) openCase(resolution string) string {
	var c struct{ ID string }
	f.a.do(f.t, "POST", "/v1/cases", adminKey, map[string]any{"member_id": f.owner, "kind": "complaint", "subject": "case " + f.next(),
		"resolution": resolution}).ok(f.t, 201, &c)
	return c.ID
}

func (f *authz) store(own bool) string {
	if own {
		return "store-1"
	}
	return "o-1"
}

func (f *authz) partner(own bool) string {
	if own {
		return "main"
	}
	return "other"
}

func (f *authz) receipt(own bool) map[string]any {
	return map[string]any{"receipt_id": "rc-" + f.next(), "store_id": f.store(own), "member_id": f.owner,
		"lines": []map[string]any{{"line": 1, "sku": "a", "quantity": "1", "price": 10000, "amount": 10000}}}
}

// purchase confirms a receipt at an own or other store, as admin.
func (f *authz) purchase(own bool) string {
	rc := f.receipt(own)
	f.a.do(f.t, "POST", "/v1/purchases", adminKey, rc).ok(f.t, 200, nil)
	return rc["receipt_id"].(string)
}

// invitation asks the owner a survey about a new purchase of theirs and
// returns the invitation's id.
func (f *authz) invitation() string {
	f.t.Helper()
	ctx := sysCtx()
	if _, err := f.a.svc.Surveys.PutSurvey(ctx, surveys.Survey{ID: "authz", Kind: "nps", After: "purchase", Enabled: true}); err != nil {
		f.t.Fatal(err)
	}
	f.purchase(true)
	if _, err := f.a.svc.Surveys.Invite(ctx); err != nil {
		f.t.Fatal(err)
	}
	me := kopilka.NewContextWithPrincipal(ctx, kopilka.Principal{Kind: "member", ID: f.owner, Name: "member", Role: kopilka.RoleMember, MemberID: f.owner})
	mine, err := f.a.svc.Surveys.Mine(me)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, inv := range mine {
		if inv.AnsweredAt == nil {
			return inv.ID
		}
	}
	f.t.Fatal("no open invitation")
	return ""
}

// fixtures give, for every route, a request that a caller allowed to call
// it can make successfully (own: of partner "main"; not own: the same of
// partner "other").
var fixtures = map[string]func(f *authz, own bool) (string, any){
	"GET /":             func(f *authz, own bool) (string, any) { return "/", nil },
	"GET /healthz":      func(f *authz, own bool) (string, any) { return "/healthz", nil },
	"GET /readyz":       func(f *authz, own bool) (string, any) { return "/readyz", nil },
	"GET /openapi.yaml": func(f *authz, own bool) (string, any) { return "/openapi.yaml", nil },
	"GET /metrics":      func(f *authz, own bool) (string, any) { return "/metrics", nil },
	"GET /v1/clock":     func(f *authz, own bool) (string, any) { return "/v1/clock", nil },
	"POST /v1/clock":    func(f *authz, own bool) (string, any) { return "/v1/clock", map[string]any{"advance": "1m"} },

	"GET /v1/programme": func(f *authz, own bool) (string, any) { return "/v1/programme", nil },
	"PUT /v1/programme": func(f *authz, own bool) (string, any) {
		r := f.a.do(f.t, "GET", "/v1/programme", adminKey, nil) // a PUT sends the whole programme
		return "/v1/programme", r.body
	},
	"PATCH /v1/programme":      func(f *authz, own bool) (string, any) { return "/v1/programme", map[string]any{"pending_days": 0} },
	"GET /v1/programme/export": func(f *authz, own bool) (string, any) { return "/v1/programme/export", nil },
	"PUT /v1/programme/import": func(f *authz, own bool) (string, any) {
		r := f.a.do(f.t, "GET", "/v1/programme/export?format=json", adminKey, nil)
		return "/v1/programme/import?dry_run=true", r.body
	},
	"GET /v1/programme/rules": func(f *authz, own bool) (string, any) { return "/v1/programme/rules", nil },
	"PUT /v1/programme/rules/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/programme/rules/r" + f.next(), map[string]any{"kind": "per_receipt", "points": 1, "disabled": true}
	},
	"DELETE /v1/programme/rules/{id}": func(f *authz, own bool) (string, any) {
		id := "r" + f.next()
		f.a.do(f.t, "PUT", "/v1/programme/rules/"+id, adminKey, map[string]any{"kind": "per_receipt", "points": 1, "disabled": true}).ok(f.t, 200, nil)
		return "/v1/programme/rules/" + id, nil
	},
	"GET /v1/programme/campaigns": func(f *authz, own bool) (string, any) { return "/v1/programme/campaigns", nil },
	"PUT /v1/programme/campaigns/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/programme/campaigns/c" + f.next(), campaignBody(f)
	},
	"DELETE /v1/programme/campaigns/{id}": func(f *authz, own bool) (string, any) {
		id := "c" + f.next()
		f.a.do(f.t, "PUT", "/v1/programme/campaigns/"+id, adminKey, campaignBody(f)).ok(f.t, 200, nil)
		return "/v1/programme/campaigns/" + id, nil
	},
	"POST /v1/programme/campaigns/{id}/simulate": func(f *authz, own bool) (string, any) {
		id := "c" + f.next()
		f.a.do(f.t, "PUT", "/v1/programme/campaigns/"+id, adminKey, campaignBody(f)).ok(f.t, 200, nil)
		return "/v1/programme/campaigns/" + id + "/simulate?days=1", nil
	},
	"POST /v1/programme/simulate": func(f *authz, own bool) (string, any) {
		return "/v1/programme/simulate", map[string]any{"days": 1, "rule": map[string]any{"id": "x", "kind": "per_receipt", "points": 1}}
	},

	"POST /v1/members": func(f *authz, own bool) (string, any) {
		return "/v1/members", map[string]any{"phone": fmt.Sprintf("+7926%07d", f.n.Add(1))}
	},
	"GET /v1/members":      func(f *authz, own bool) (string, any) { return "/v1/members?card=" + url.QueryEscape(f.card), nil },
	"GET /v1/members/{id}": func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner, nil },
	"PATCH /v1/members/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/members/" + f.owner, map[string]any{"name": "Renamed"}
	},
	"POST /v1/members/{id}/block": func(f *authz, own bool) (string, any) {
		id, _ := f.member()
		return "/v1/members/" + id + "/block", nil
	},
	"POST /v1/members/{id}/unblock": func(f *authz, own bool) (string, any) {
		id, _ := f.member()
		return "/v1/members/" + id + "/unblock", nil
	},
	"POST /v1/members/{id}/cards":  func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/cards", nil },
	"GET /v1/members/{id}/balance": func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/balance", nil },
	"GET /v1/purchases":            func(f *authz, own bool) (string, any) { return "/v1/purchases?from=2000-01-01&limit=5", nil },
	"GET /v1/stores":               func(f *authz, own bool) (string, any) { return "/v1/stores?limit=10", nil },
	"GET /v1/members/search":       func(f *authz, own bool) (string, any) { return "/v1/members/search?q=7916&sort=name", nil },
	"GET /v1/members/{id}/export":  func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/export", nil },
	"POST /v1/members/{id}/erase": func(f *authz, own bool) (string, any) {
		id, _ := f.member()
		return "/v1/members/" + id + "/erase", map[string]any{"reason": "the member asked"}
	},
	"GET /v1/members/{id}/tier":         func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/tier", nil },
	"GET /v1/members/{id}/transactions": func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/transactions", nil },
	"PUT /v1/members/{id}/categories": func(f *authz, own bool) (string, any) {
		return "/v1/members/" + f.owner + "/categories", map[string]any{"categories": []string{}}
	},
	"POST /v1/members/{id}/adjustments": func(f *authz, own bool) (string, any) {
		return "/v1/members/" + f.owner + "/adjustments", map[string]any{"points": 1, "reason": "goodwill"}
	},

	"POST /v1/cases": func(f *authz, own bool) (string, any) {
		return "/v1/cases", map[string]any{"member_id": f.owner, "kind": "request", "subject": "a new card"}
	},
	"GET /v1/overview": func(f *authz, own bool) (string, any) { return "/v1/overview", nil },
	"GET /v1/analytics/kpis": func(f *authz, own bool) (string, any) {
		return "/v1/analytics/kpis?from=2026-01-01&to=2026-03-31&bucket=week", nil
	},
	"GET /v1/analytics/cohorts": func(f *authz, own bool) (string, any) { return "/v1/analytics/cohorts?format=csv", nil },
	"GET /v1/analytics/rfm":     func(f *authz, own bool) (string, any) { return "/v1/analytics/rfm", nil },
	"GET /v1/analytics/churn":   func(f *authz, own bool) (string, any) { return "/v1/analytics/churn", nil },
	"POST /v1/imports/members": func(f *authz, own bool) (string, any) {
		return "/v1/imports/members?source=authz", "external_id,email\nx" + f.next() + ",x" + f.next() + "@example.com\n"
	},
	"GET /v1/imports/{id}": func(f *authz, own bool) (string, any) {
		j, err := f.a.svc.Import.StartMemberImport(sysCtx(), []byte("external_id\n"), "csv", "authz")
		if err != nil {
			f.t.Fatal(err)
		}
		return "/v1/imports/" + j.ID, nil
	},
	"GET /v1/surveys": func(f *authz, own bool) (string, any) { return "/v1/surveys", nil },
	"PUT /v1/surveys/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/surveys/s" + f.next(), map[string]any{"kind": "nps", "after": "purchase"}
	},
	"GET /v1/surveys/{id}/results": func(f *authz, own bool) (string, any) {
		id := "r" + f.next()
		f.a.do(f.t, "PUT", "/v1/surveys/"+id, adminKey, map[string]any{"kind": "ces", "after": "case"}).ok(f.t, 200, nil)
		return "/v1/surveys/" + id + "/results", nil
	},
	"GET /v1/me/surveys": func(f *authz, own bool) (string, any) { return "/v1/me/surveys", nil },
	"POST /v1/me/surveys/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/me/surveys/" + f.invitation(), map[string]any{"scores": []int{9}}
	},
	"GET /v1/programme/campaigns/{id}/holdout": func(f *authz, own bool) (string, any) {
		id := "h" + f.next()
		body := campaignBody(f)
		body["holdout_percent"] = "10"
		f.a.do(f.t, "PUT", "/v1/programme/campaigns/"+id, adminKey, body).ok(f.t, 200, nil)
		return "/v1/programme/campaigns/" + id + "/holdout", nil
	},
	"GET /v1/analytics/basket-rules": func(f *authz, own bool) (string, any) { return "/v1/analytics/basket-rules", nil },
	"GET /v1/members/{id}/offers":    func(f *authz, own bool) (string, any) { return "/v1/members/" + f.owner + "/offers", nil },
	"POST /v1/analytics/refresh":     func(f *authz, own bool) (string, any) { return "/v1/analytics/refresh", nil },
	"GET /v1/analytics/rfm/members":  func(f *authz, own bool) (string, any) { return "/v1/analytics/rfm/members?limit=5", nil },
	"GET /v1/cases":                  func(f *authz, own bool) (string, any) { return "/v1/cases?member_id=" + f.owner, nil },
	"GET /v1/cases/stats":            func(f *authz, own bool) (string, any) { return "/v1/cases/stats", nil },
	"GET /v1/cases/{id}":             func(f *authz, own bool) (string, any) { return "/v1/cases/" + f.openCase(""), nil },
	"POST /v1/cases/{id}/notes": func(f *authz, own bool) (string, any) {
		return "/v1/cases/" + f.openCase("") + "/notes", map[string]any{"text": "called back"}
	},
	"POST /v1/cases/{id}/resolve": func(f *authz, own bool) (string, any) {
		return "/v1/cases/" + f.openCase("") + "/resolve", map[string]any{"resolution": "done"}
	},
	"POST /v1/cases/{id}/reopen": func(f *authz, own bool) (string, any) {
		return "/v1/cases/" + f.openCase("done") + "/reopen", map[string]any{"reason": "not done after all"}
	},
	"POST /v1/cases/{id}/compensations": func(f *authz, own bool) (string, any) {
		return "/v1/cases/" + f.openCase("") + "/compensations", map[string]any{"points": 1, "reason": "sorry"}
	},

	"GET /v1/cards/{number}": func(f *authz, own bool) (string, any) { return "/v1/cards/" + f.card, nil },
	"POST /v1/cards/{number}/block": func(f *authz, own bool) (string, any) {
		_, card := f.member()
		return "/v1/cards/" + card + "/block", nil
	},
	"POST /v1/cards/{number}/replace": func(f *authz, own bool) (string, any) {
		_, card := f.member()
		return "/v1/cards/" + card + "/replace", nil
	},

	"POST /v1/purchases/calculate": func(f *authz, own bool) (string, any) { return "/v1/purchases/calculate", f.receipt(own) },
	"POST /v1/purchases":           func(f *authz, own bool) (string, any) { return "/v1/purchases", f.receipt(own) },
	"GET /v1/purchases/{id}":       func(f *authz, own bool) (string, any) { return "/v1/purchases/" + f.purchase(own), nil },
	"POST /v1/purchases/{id}/refunds": func(f *authz, own bool) (string, any) {
		return "/v1/purchases/" + f.purchase(own) + "/refunds", map[string]any{"refund_id": "all"}
	},
	"POST /v1/purchases/{id}/cancel": func(f *authz, own bool) (string, any) { return "/v1/purchases/" + f.purchase(own) + "/cancel", nil },

	"GET /v1/partners":      func(f *authz, own bool) (string, any) { return "/v1/partners", nil },
	"GET /v1/partners/{id}": func(f *authz, own bool) (string, any) { return "/v1/partners/" + f.partner(own), nil },
	"PUT /v1/partners/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own), map[string]any{"name": "Partner " + f.partner(own)}
	},
	"PATCH /v1/partners/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own), map[string]any{"legal_id": "7700000000"}
	},
	"PUT /v1/partners/{id}/rates": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own) + "/rates", map[string]any{}
	},
	"GET /v1/partners/{id}/stores": func(f *authz, own bool) (string, any) { return "/v1/partners/" + f.partner(own) + "/stores", nil },
	"GET /v1/partners/{id}/statement": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own) + "/statement?from=2025-01-01T00:00:00Z&to=2025-02-01T00:00:00Z", nil
	},
	"POST /v1/partners/{id}/settlements": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own) + "/settlements", map[string]any{"period": "2025-01"}
	},
	"GET /v1/partners/{id}/settlements": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own) + "/settlements", nil
	},
	"GET /v1/partners/{id}/settlements/{period}": func(f *authz, own bool) (string, any) {
		return "/v1/partners/" + f.partner(own) + "/settlements/2025-01", nil
	},
	"GET /v1/stores/nearby": func(f *authz, own bool) (string, any) { return "/v1/stores/nearby?lat=55.75&lon=37.62", nil },
	"GET /v1/stores/{id}":   func(f *authz, own bool) (string, any) { return "/v1/stores/" + f.store(own), nil },
	"PUT /v1/stores/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/stores/" + f.store(own), map[string]any{"partner_id": f.partner(own), "name": "Store"}
	},
	"PATCH /v1/stores/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/stores/" + f.store(own), map[string]any{"address": "Tverskaya 1"}
	},

	"POST /v1/auth/login": func(f *authz, own bool) (string, any) {
		return "/v1/auth/login", map[string]any{"email": "login@example.com", "password": "correct horse battery"}
	},
	"POST /v1/auth/logout": func(f *authz, own bool) (string, any) { return "/v1/auth/logout", nil },
	"GET /v1/auth/whoami":  func(f *authz, own bool) (string, any) { return "/v1/auth/whoami", nil },
	"POST /v1/auth/otp": func(f *authz, own bool) (string, any) {
		return "/v1/auth/otp", map[string]any{"phone": fmt.Sprintf("+7936%07d", f.n.Add(1))}
	},
	"POST /v1/auth/otp/verify": func(f *authz, own bool) (string, any) {
		phone := fmt.Sprintf("+7946%07d", f.n.Add(1))
		f.a.do(f.t, "POST", "/v1/members", adminKey, map[string]any{"phone": phone}).ok(f.t, 201, nil)
		f.a.do(f.t, "POST", "/v1/auth/otp", "", map[string]any{"phone": phone}).ok(f.t, 202, nil)
		return "/v1/auth/otp/verify", map[string]any{"phone": phone, "code": f.a.sent.code(phone)}
	},
	"GET /v1/me":              func(f *authz, own bool) (string, any) { return "/v1/me", nil },
	"GET /v1/me/balance":      func(f *authz, own bool) (string, any) { return "/v1/me/balance", nil },
	"GET /v1/me/transactions": func(f *authz, own bool) (string, any) { return "/v1/me/transactions", nil },
	"PATCH /v1/me": func(f *authz, own bool) (string, any) {
		return "/v1/me", map[string]any{"consents": map[string]any{"sms": true}}
	},
	"GET /v1/me/tier": func(f *authz, own bool) (string, any) { return "/v1/me/tier", nil },
	"PUT /v1/me/categories": func(f *authz, own bool) (string, any) {
		return "/v1/me/categories", map[string]any{"categories": []string{}}
	},

	"GET /v1/operators": func(f *authz, own bool) (string, any) { return "/v1/operators", nil },
	"POST /v1/operators": func(f *authz, own bool) (string, any) {
		return "/v1/operators", map[string]any{"email": "op" + f.next() + "@example.com", "name": "Op", "role": "support", "password": "a long enough password"}
	},
	"GET /v1/operators/{id}": func(f *authz, own bool) (string, any) { return "/v1/operators/" + f.staff, nil },
	"PATCH /v1/operators/{id}": func(f *authz, own bool) (string, any) {
		return "/v1/operators/" + f.staff, map[string]any{"name": "Renamed"}
	},
	"POST /v1/operators/{id}/unlock": func(f *authz, own bool) (string, any) {
		return "/v1/operators/" + f.staff + "/unlock", nil
	},
	"GET /v1/audit": func(f *authz, own bool) (string, any) { return "/v1/audit?limit=5", nil },

	"GET /v1/keys": func(f *authz, own bool) (string, any) { return "/v1/keys", nil },
	"POST /v1/keys": func(f *authz, own bool) (string, any) {
		return "/v1/keys", map[string]any{"name": "k" + f.next(), "role": "pos"}
	},
	"DELETE /v1/keys/{id}": func(f *authz, own bool) (string, any) {
		var k kopilka.APIKey
		f.a.do(f.t, "POST", "/v1/keys", adminKey, map[string]any{"name": "k" + f.next(), "role": "pos"}).ok(f.t, 201, &k)
		return "/v1/keys/" + k.ID, nil
	},
}

func campaignBody(f *authz) map[string]any {
	return map[string]any{"name": "test", "starts_at": "2025-01-01T00:00:00Z", "ends_at": "2025-02-01T00:00:00Z",
		"rules": []map[string]any{{"id": "cr" + f.next(), "kind": "per_receipt", "points": 1}}}
}

func routeName(rt khttp.Route) string { return rt.Method + " " + rt.Pattern }

func newAuthz(t *testing.T, dialect string) (*authz, []principal) {
	a := newAPI(t, dialect)
	ctx := sysCtx()
	if _, err := a.svc.Coalition.PutPartner(ctx, kopilka.Partner{ID: "other", Name: "Other"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.Coalition.PutStore(ctx, kopilka.Store{ID: "o-1", PartnerID: "other", Name: "Other 1"}); err != nil {
		t.Fatal(err)
	}
	var ps []principal
	for _, p := range []principal{
		{name: "admin", role: kopilka.RoleAdmin},
		{name: "operator", role: kopilka.RoleOperator},
		{name: "marketing", role: kopilka.RoleMarketing},
		{name: "support", role: kopilka.RoleSupport},
		{name: "partner-admin of main", role: kopilka.RolePartnerAdmin, partner: "main"},
		{name: "pos of main", role: kopilka.RolePOS, partner: "main"},
		{name: "pos of every partner", role: kopilka.RolePOS},
	} {
		k, err := a.svc.Access.CreateKey(ctx, kopilka.APIKey{Name: p.name, Role: p.role, PartnerID: p.partner}, "")
		if err != nil {
			t.Fatal(err)
		}
		p.secret = k.Secret
		ps = append(ps, p)
	}
	f := &authz{t: t, a: a}
	f.owner, f.card = f.member()
	// People who sign in: a marketing and a support operator, and the owner member.
	password := "correct horse battery"
	for _, o := range []struct{ email, role string }{{"login@example.com", "admin"}, {"mkt@example.com", "marketing"}, {"help@example.com", "support"}} {
		op, err := a.svc.Access.CreateOperator(ctx, access.OperatorInput{Email: &o.email, Role: &o.role, Password: &password})
		if err != nil {
			t.Fatal(err)
		}
		f.staff = op.ID
		if o.role == "admin" {
			continue
		}
		login := func() string {
			var s struct{ Token string }
			a.do(t, "POST", "/v1/auth/login", "", map[string]any{"email": o.email, "password": password}).ok(t, 200, &s)
			return s.Token
		}
		ps = append(ps, principal{name: o.role + " operator (session)", role: o.role, secret: login(), renew: login})
	}
	var m kopilka.Member
	a.do(t, "GET", "/v1/members/"+f.owner, adminKey, nil).ok(t, 200, &m)
	memberLogin := func() string {
		a.svc.Env.SetNow(func() time.Time { return time.Now().Add(time.Duration(f.n.Add(1)) * access.OTPResendAfter) }) // past the resend limit
		defer func() { a.svc.Env.SetNow(time.Now) }()
		a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": m.Phone}).ok(t, 202, nil)
		var s struct{ Token string }
		a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": m.Phone, "code": a.sent.code(m.Phone)}).ok(t, 200, &s)
		return s.Token
	}
	ps = append(ps, principal{name: "member (session)", role: kopilka.RoleMember, secret: memberLogin(), renew: memberLogin})
	if _, err := a.svc.Ledger.Adjust(ctx, f.owner, kopilka.Adjustment{Points: 1000, Reason: "test"}, ""); err != nil {
		t.Fatal(err)
	}
	return f, ps
}

func TestAuthz_EveryRouteWithEveryRole(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f, principals := newAuthz(t, d)
			ctx := sysCtx()
			// The audit log as it stands; no route may change what is in it.
			before, _, err := f.a.svc.Access.Audit(ctx, kopilka.AuditFilter{Limit: 1000})
			if err != nil || len(before) < 3 {
				t.Fatalf("audit log before: %d entries, %v", len(before), err)
			}
			routes := (&khttp.Server{}).Routes()
			for _, rt := range routes {
				name := routeName(rt)
				fixture, ok := fixtures[name]
				if !ok {
					t.Errorf("route %s has no fixture in authz_test.go: add one, so that its authorisation is tested", name)
					continue
				}
				if len(rt.Roles()) == 0 {
					if !slices.Contains(publicRoutes, name) {
						t.Errorf("route %s has no roles and is not listed as public", name)
					}
					path, body := fixture(f, true)
					if r := f.a.do(t, rt.Method, path, "", body); r.status >= 300 {
						t.Errorf("%s without a key: %d %s", name, r.status, r.body)
					}
					continue
				}
				if r := f.a.do(t, rt.Method, strings.Split(mustPath(fixture(f, true)), "?")[0], "", nil); r.status != 401 {
					t.Errorf("%s without a key: %d, want 401", name, r.status)
				}
				for i := range principals {
					p := &principals[i]
					path, body := fixture(f, true)
					r := f.a.do(t, rt.Method, path, p.secret, body)
					if name == "POST /v1/auth/logout" && p.renew != nil && r.status == 204 {
						p.secret = p.renew()
					}
					if !slices.Contains(rt.Roles(), p.role) {
						if r.status != 403 {
							t.Errorf("%s by %s (role not allowed): %d %s, want 403", name, p.name, r.status, r.body)
						}
						continue
					}
					if r.status >= 500 || r.status == 401 || r.status == 403 || r.status == 404 || r.status == 405 {
						t.Errorf("%s by %s (allowed): %d %s", name, p.name, r.status, r.body)
					}
				}
			}
			after, _, err := f.a.svc.Access.Audit(ctx, kopilka.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			kept := map[string]string{}
			for _, e := range after {
				kept[e.ID] = jsonString(t, e)
			}
			for _, e := range before {
				if kept[e.ID] != jsonString(t, e) {
					t.Errorf("audit entry %s changed after every route was called:\nbefore %s\nafter  %s", e.ID, jsonString(t, e), kept[e.ID])
				}
			}
			if len(after) < len(before)+len(routes) {
				t.Errorf("the audit log grew from %d to %d entries; every write by every role should be in it", len(before), len(after))
			}
		})
	}
}

var instance = regexp.MustCompile(`"instance":"[^"]*"`)

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustPath(path string, _ any) string { return path }

// TestAuthz_AnotherPartnersKeyGets404 asks, with keys of partner "main",
// for what belongs to partner "other" on every route that names something
// of a partner's, and expects 404: never the data, never a write.
func TestAuthz_AnotherPartnersKeyGets404(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			f, principals := newAuthz(t, d)
			tried := 0
			for _, rt := range (&khttp.Server{}).Routes() {
				if rt.Scope == khttp.ScopeNone {
					continue
				}
				name := routeName(rt)
				fixture, ok := fixtures[name]
				if !ok {
					t.Errorf("route %s has no fixture", name)
					continue
				}
				for _, p := range principals {
					if p.partner == "" || !slices.Contains(rt.Roles(), p.role) {
						continue
					}
					tried++
					path, body := fixture(f, false)
					r := f.a.do(t, rt.Method, path, p.secret, body)
					if want := 404; rt.Scope == khttp.ScopeList {
						if r.status != 200 { // a list of the caller's own partner's things (the check below: none of the other's)
							t.Errorf("%s by %s: %d %s, want 200", name, p.name, r.status, r.body)
						}
					} else if r.status != want {
						t.Errorf("%s by %s for partner other's: %d %s, want 404", name, p.name, r.status, r.body)
					}
					// The answer echoes the path asked for in "instance"; nothing else may name the other partner's.
					shown := instance.ReplaceAllString(string(r.body), "")
					if strings.Contains(shown, "o-1") || strings.Contains(shown, `"other"`) {
						t.Errorf("%s by %s: the answer shows the other partner's data: %s", name, p.name, r.body)
					}
					if rt.Scope == khttp.ScopeReceipt && rt.Method == "POST" {
						id := strings.Split(path, "/")[3]
						if q, err := f.a.svc.Purchases.Purchase(sysCtx(), "", id); err != nil || q.Status != kopilka.PurchaseConfirmed {
							t.Errorf("%s by %s: purchase %s is now %q (%v), want confirmed", name, p.name, id, q.Status, err)
						}
					}
				}
			}
			if tried < 10 {
				t.Errorf("only %d requests tried", tried)
			}
			// The other partner's store and purchases are as they were.
			o, err := f.a.svc.Coalition.Store(sysCtx(), "o-1")
			if err != nil || o.Name != "Other 1" {
				t.Errorf("store o-1 after the attempts: %+v %v", o, err)
			}
		})
	}
}
