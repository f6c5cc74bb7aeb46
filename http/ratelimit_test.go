package http_test

import (
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/storage/storagetest"
)

func TestRateLimit_AKeyOverItsRateGets429WithRetryAfter(t *testing.T) {
	svc := app.New(storagetest.Open(t, "sqlite"))
	for _, k := range []struct{ name, role, secret string }{{"admin", kopilka.RoleAdmin, adminKey}, {"till", kopilka.RolePOS, posKey}} {
		if _, err := svc.Access.CreateKey(sysCtx(), kopilka.APIKey{Name: k.name, Role: k.role}, k.secret); err != nil {
			t.Fatal(err)
		}
	}
	s := khttp.NewServer(svc, slog.New(slog.DiscardHandler), "test")
	s.RateLimit, s.RateBurst = 0.5, 3 // 3 at once, then one every 2 s
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a := &api{url: srv.URL, client: srv.Client()}

	for i := range 3 {
		if r := a.do(t, "GET", "/v1/programme", adminKey, nil); r.status != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, r.status, r.body)
		}
	}
	r := a.do(t, "GET", "/v1/programme", adminKey, nil)
	p := r.problem(t, 429, kopilka.ERATELIMIT, "")
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 || secs > 2 {
		t.Fatalf("Retry-After %q, want 1 or 2 seconds (%s)", r.header.Get("Retry-After"), p.Detail)
	}
	// A refused write is not made; the limit is the key's, another key goes on.
	a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79165550000"}).problem(t, 429, kopilka.ERATELIMIT, "")
	if _, err := svc.Members.FindMember(sysCtx(), "phone", "+79165550000"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("a refused request created the member: %v", err)
	}
	if r := a.do(t, "GET", "/v1/members?card=0000000000", posKey, nil); r.status != 404 {
		t.Fatalf("the till's key was limited by the admin's: %d %s", r.status, r.body)
	}
	// Unauthenticated requests are refused before any limit is spent on them.
	a.do(t, "GET", "/v1/programme", "", nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
}

// A caller without the role spends its allowance like any other: refusals
// are limited too, and are recorded without the body they carried.
func TestRateLimit_RefusedCallsCountAndAreRecordedWithoutTheirBody(t *testing.T) {
	svc := app.New(storagetest.Open(t, "sqlite"))
	if _, err := svc.Access.CreateKey(sysCtx(), kopilka.APIKey{Name: "till", Role: kopilka.RolePOS}, posKey); err != nil {
		t.Fatal(err)
	}
	s := khttp.NewServer(svc, slog.New(slog.DiscardHandler), "test")
	s.RateLimit, s.RateBurst = 0.5, 3
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a := &api{url: srv.URL, client: srv.Client()}
	big := `{"phone": "` + strings.Repeat("9", 2<<20) + `"}` // over the 1 MiB limit
	for i := range 3 {
		if r := a.do(t, "POST", "/v1/members", posKey, big); r.status != 403 {
			t.Fatalf("refused write %d: %d, want 403 before the body is read", i, r.status)
		}
	}
	a.do(t, "POST", "/v1/members", posKey, big).problem(t, 429, kopilka.ERATELIMIT, "")
	es, _, err := svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var refusals int
	for _, e := range es {
		if e.Action == "POST /v1/members" {
			refusals++
			if e.Status != 403 || len(e.Request) != 0 {
				t.Errorf("refusal recorded as %+v with a body of %d bytes", e, len(e.Request))
			}
		}
	}
	if refusals != 3 {
		t.Fatalf("%d refusals recorded, want the 3 that were not rate limited", refusals)
	}
}
