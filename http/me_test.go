package http_test

import (
	"testing"

	"github.com/kopilka/kopilka"
)

// A signed-in member changes their own name and consents (not their phone
// or e-mail), chooses personal categories once a period, and reads their tier.
func TestMe_ProfileCategoriesAndTier(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"personal_categories": map[string]any{
				"offered": []string{"coffee", "tea", "cakes"}, "picks": 2, "percent": "5", "change_every": "month"}}).ok(t, 200, nil)
			m := a.createMember(t, map[string]any{"phone": "+79161112250", "name": "Ira"})
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79161112250"}).ok(t, 202, nil)
			var s kopilka.Session
			a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79161112250", "code": a.sent.code("+79161112250")}).ok(t, 200, &s)

			var got kopilka.Member
			a.do(t, "PATCH", "/v1/me", s.Token, map[string]any{"name": "Irina", "consents": map[string]any{"sms": true, "email": false, "push": true}}).ok(t, 200, &got)
			if got.Name != "Irina" || !got.Consents.SMS || !got.Consents.Push || got.ID != m.ID {
				t.Fatalf("after the change: %+v", got)
			}
			a.do(t, "PATCH", "/v1/me", s.Token, map[string]any{"phone": "+79160000000"}).problem(t, 403, kopilka.EFORBIDDEN, "phone")
			a.do(t, "PATCH", "/v1/me", s.Token, map[string]any{"name": "X", "email": "x@example.com"}).problem(t, 403, kopilka.EFORBIDDEN, "email")
			if b := a.readMember(t, m.ID); b.Phone != "+79161112250" || b.Name != "Irina" {
				t.Fatalf("a refused change changed the member: %+v", b)
			}
			a.do(t, "PUT", "/v1/me/categories", s.Token, map[string]any{"categories": []string{"coffee", "wine"}}).problem(t, 422, kopilka.EINVALID, "categories[1]")
			a.do(t, "PUT", "/v1/me/categories", s.Token, map[string]any{"categories": []string{"coffee", "tea"}}).ok(t, 200, &got)
			if len(got.Categories) != 2 {
				t.Fatalf("categories %+v", got.Categories)
			}
			a.do(t, "PUT", "/v1/me/categories", s.Token, map[string]any{"categories": []string{"cakes"}}).problem(t, 409, kopilka.ECONFLICT, "categories")
			var tp kopilka.TierProgress
			a.do(t, "GET", "/v1/me/tier", s.Token, nil).ok(t, 200, &tp)
			if tp.MemberID != m.ID {
				t.Fatalf("tier %+v", tp)
			}
			// An operator's key is no member.
			a.do(t, "GET", "/v1/me/tier", adminKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
		})
	}
}
