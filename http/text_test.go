package http_test

import (
	"testing"

	"github.com/kopilka/kopilka"
)

// TestAPI_ControlCharactersAndBadUTF8AreRefusedNotFailed sends a NUL or
// invalid UTF-8 wherever a client can put text: path ids, a header, free
// text and a cursor. PostgreSQL refuses such text, so each must be caught
// as a 4xx before it reaches the database, and write nothing.
func TestAPI_ControlCharactersAndBadUTF8AreRefusedNotFailed(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			m := a.createMember(t, map[string]any{"phone": "+79160000001"})
			a.credit(t, m.ID, 100)
			before := a.state(t, m.ID)
			for _, c := range []struct {
				name, method, path string
				body               any
				headers            []string
				status             int
				code               kopilka.Code
				field              string
			}{
				{"NUL in a member id", "GET", "/v1/members/a%00b", nil, nil, 404, kopilka.ENOTFOUND, ""},
				{"bad UTF-8 in a member id", "GET", "/v1/members/%ff/balance", nil, nil, 404, kopilka.ENOTFOUND, ""},
				{"NUL in a receipt id", "POST", "/v1/purchases/r%00/cancel", nil, nil, 404, kopilka.ENOTFOUND, ""},
				{"bad UTF-8 in a refund's path", "POST", "/v1/purchases/%fe/refunds", map[string]any{"refund_id": "f"}, nil, 404, kopilka.ENOTFOUND, ""},
				{"NUL in a member's name", "POST", "/v1/members", `{"phone":"+79160000009","name":"a\u0000b"}`, nil, 422, kopilka.EINVALID, "name"},
				{"NUL in a patched name", "PATCH", "/v1/members/" + m.ID, `{"name":"\u0000"}`, nil, 422, kopilka.EINVALID, "name"},
				{"NUL in an adjustment's reason", "POST", "/v1/members/" + m.ID + "/adjustments", `{"points":5,"reason":"x\u0000"}`, nil, 422, kopilka.EINVALID, "reason"},
				{"bad UTF-8 in an Idempotency-Key", "POST", "/v1/members/" + m.ID + "/adjustments", `{"points":5,"reason":"x"}`, []string{"Idempotency-Key", "\xff\xfe"}, 422, kopilka.EINVALID, "Idempotency-Key"},
				{"NUL in a key's name", "POST", "/v1/keys", `{"name":"till\u0000","role":"pos"}`, nil, 422, kopilka.EINVALID, "name"},
				{"a cursor holding bad UTF-8", "GET", "/v1/members/" + m.ID + "/transactions?cursor=MTAwOv8", nil, nil, 422, kopilka.EINVALID, "cursor"},
			} {
				t.Run(c.name, func(t *testing.T) {
					a.do(t, c.method, c.path, adminKey, c.body, c.headers...).problem(t, c.status, c.code, c.field)
					if after := a.state(t, m.ID); after != before {
						t.Fatalf("a refused request changed the member:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		})
	}
}
