package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/privacy"
	"github.com/kopilka/kopilka/storage/storagetest"
	"github.com/kopilka/kopilka/testclock"
)

// receiptBody is a receipt on the wire, as a map so that a test can break it.
type receiptBody = map[string]any

// receipt is a valid receipt of one line costing 100.00 (10000 minor units),
// of which points may pay 30 under the default programme.
func receipt(id, card string, spend int64) receiptBody {
	return receiptBody{
		"receipt_id":   id,
		"store_id":     "store-1",
		"card_number":  card,
		"spend_points": spend,
		"lines": []any{
			map[string]any{"line": 1, "sku": "milk", "category": "dairy", "quantity": "2", "price": 5000, "amount": 10000},
		},
	}
}

// line returns the i-th line of a receipt body.
func line(r receiptBody, i int) map[string]any { return r["lines"].([]any)[i].(map[string]any) }

// createMember registers a member and returns it.
func (a *api) createMember(t *testing.T, body any) kopilka.Member {
	t.Helper()
	var m kopilka.Member
	a.do(t, "POST", "/v1/members", adminKey, body).ok(t, http.StatusCreated, &m)
	if m.ID == "" || len(m.Cards) == 0 {
		t.Fatalf("member without id or card: %+v", m)
	}
	return m
}

// credit adds available points to a member by a manual adjustment.
func (a *api) credit(t *testing.T, memberID string, points int64) {
	t.Helper()
	a.do(t, "POST", "/v1/members/"+memberID+"/adjustments", adminKey,
		map[string]any{"points": points, "reason": "test credit"}).ok(t, http.StatusCreated, nil)
}

// balance returns a member's balance.
func (a *api) balance(t *testing.T, memberID string) kopilka.BalanceView {
	t.Helper()
	var b kopilka.BalanceView
	a.do(t, "GET", "/v1/members/"+memberID+"/balance", adminKey, nil).ok(t, http.StatusOK, &b)
	return b
}

// history returns a member's transactions, newest first.
func (a *api) history(t *testing.T, memberID string) []kopilka.Transaction {
	t.Helper()
	var page struct {
		Items []kopilka.Transaction `json:"items"`
	}
	a.do(t, "GET", "/v1/members/"+memberID+"/transactions?limit=500", adminKey, nil).ok(t, http.StatusOK, &page)
	return page.Items
}

// state is everything a request could change about the members: profile,
// cards, balance and history, as the API shows them.
func (a *api) state(t *testing.T, memberIDs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, id := range memberIDs {
		for _, p := range []string{"", "/balance", "/transactions?limit=500"} {
			r := a.do(t, "GET", "/v1/members/"+id+p, adminKey, nil)
			r.ok(t, http.StatusOK, nil)
			b.Write(r.body)
		}
	}
	return b.String()
}

// noPurchase checks that no purchase was recorded under the receipt id.
func (a *api) noPurchase(t *testing.T, receiptID string) {
	t.Helper()
	a.do(t, "GET", "/v1/purchases/"+url.PathEscape(receiptID), adminKey, nil).problem(t, http.StatusNotFound, kopilka.ENOTFOUND, "")
}

// till is the world the bad-input table runs in: a member with 1000 points
// and cards of every state, and a blocked member.
type till struct {
	member        string // active, 1000 points available
	card          string // the member's active card
	blockedCard   string // the member's additional card, blocked
	replacedCard  string // the member's card replaced by another
	blockedMember string
	blockedCardOf string // the blocked member's (active) card
}

func newTill(t *testing.T, a *api) till {
	t.Helper()
	m := a.createMember(t, map[string]any{"phone": "+79160000001", "name": "Anna"})
	a.credit(t, m.ID, 1000)
	fx := till{member: m.ID, card: m.Cards[0].Number}

	var extra, spare, fresh kopilka.Card
	a.do(t, "POST", "/v1/members/"+m.ID+"/cards", adminKey, map[string]any{"kind": "additional"}).ok(t, http.StatusCreated, &extra)
	a.do(t, "POST", "/v1/cards/"+extra.Number+"/block", adminKey, nil).ok(t, http.StatusOK, nil)
	fx.blockedCard = extra.Number
	a.do(t, "POST", "/v1/members/"+m.ID+"/cards", adminKey, nil).ok(t, http.StatusCreated, &spare)
	a.do(t, "POST", "/v1/cards/"+spare.Number+"/replace", adminKey, nil).ok(t, http.StatusCreated, &fresh)
	fx.replacedCard = spare.Number

	b := a.createMember(t, map[string]any{"phone": "+79160000002"})
	a.credit(t, b.ID, 1000)
	a.do(t, "POST", "/v1/members/"+b.ID+"/block", adminKey, nil).ok(t, http.StatusOK, nil)
	fx.blockedMember, fx.blockedCardOf = b.ID, b.Cards[0].Number
	return fx
}

// Routes a receipt is sent to; both must refuse bad input alike.
const (
	calculateRoute = "/v1/purchases/calculate"
	confirmRoute   = "/v1/purchases"
)

func TestPurchase_BadInputIsRefusedAndWritesNothing(t *testing.T) {
	// edit returns a body that is the till's valid receipt with a change.
	edit := func(change func(fx till, r receiptBody)) func(fx till, id string) any {
		return func(fx till, id string) any {
			r := receipt(id, fx.card, 0)
			change(fx, r)
			return r
		}
	}
	raw := func(s string) func(till, string) any { return func(till, string) any { return s } }
	// trailing returns the valid receipt's JSON followed by s.
	trailing := func(s string) func(till, string) any {
		return func(fx till, id string) any {
			b, _ := json.Marshal(receipt(id, fx.card, 0))
			return string(b) + s
		}
	}
	without := func(key string) func(till, string) any {
		return edit(func(_ till, r receiptBody) { delete(r, key) })
	}
	withoutLine := func(key string) func(till, string) any {
		return edit(func(_ till, r receiptBody) { delete(line(r, 0), key) })
	}
	setLine := func(key string, v any) func(till, string) any {
		return edit(func(_ till, r receiptBody) { line(r, 0)[key] = v })
	}
	set := func(key string, v any) func(till, string) any {
		return edit(func(_ till, r receiptBody) { r[key] = v })
	}

	tests := []struct {
		name    string
		body    func(fx till, receiptID string) any
		key     string // default: the till's key; "-": none
		headers []string
		status  int
		code    kopilka.Code
		field   string
		check   func(t *testing.T, p problem)
	}{
		{name: "malformed JSON", body: raw(`{"receipt_id": "r-1", "lines": [`), status: 400, code: kopilka.EMALFORMED},
		{name: "not JSON at all", body: raw(`receipt r-1, milk 2 x 50.00`), status: 400, code: kopilka.EMALFORMED},
		{name: "empty body", body: raw(``), status: 400, code: kopilka.EMALFORMED},
		{name: "blank body", body: raw(" \n\t "), status: 400, code: kopilka.EMALFORMED},
		{name: "trailing garbage", body: trailing(` garbage`), status: 400, code: kopilka.EMALFORMED},
		{name: "a second JSON value", body: trailing(` {}`), status: 400, code: kopilka.EMALFORMED},
		{name: "a stray closing bracket", body: trailing(`]`), status: 400, code: kopilka.EMALFORMED},
		{name: "a stray closing brace", body: trailing(`}`), status: 400, code: kopilka.EMALFORMED},
		{name: "an array instead of an object", body: raw(`[]`), status: 422, code: kopilka.EINVALID, field: "body"},
		{name: "null instead of an object", body: raw(`null`), status: 422, code: kopilka.EINVALID, field: "receipt_id"},
		{name: "unknown field", body: set("colour", "red"), status: 422, code: kopilka.EINVALID, field: "colour"},
		{name: "unknown field of a line", body: setLine("colour", "red"), status: 422, code: kopilka.EINVALID, field: "lines[0].colour"},
		{name: "missing receipt_id", body: without("receipt_id"), status: 422, code: kopilka.EINVALID, field: "receipt_id"},
		{name: "empty receipt_id", body: set("receipt_id", ""), status: 422, code: kopilka.EINVALID, field: "receipt_id"},
		{name: "receipt_id over 128 bytes", body: set("receipt_id", strings.Repeat("r", 129)), status: 422, code: kopilka.EINVALID, field: "receipt_id"},
		{name: "missing store_id", body: without("store_id"), status: 422, code: kopilka.EINVALID, field: "store_id"},
		{name: "missing lines", body: without("lines"), status: 422, code: kopilka.EINVALID, field: "lines"},
		{name: "no lines", body: set("lines", []any{}), status: 422, code: kopilka.EINVALID, field: "lines"},
		{name: "too many lines", body: edit(func(_ till, r receiptBody) {
			var ls []any
			for i := range kopilka.MaxLines + 1 {
				ls = append(ls, map[string]any{"line": i + 1, "sku": "s", "quantity": "1", "price": 1, "amount": 1})
			}
			r["lines"] = ls
		}), status: 422, code: kopilka.EINVALID, field: "lines"},
		{name: "missing line number", body: withoutLine("line"), status: 422, code: kopilka.EINVALID, field: "lines[0].line"},
		{name: "missing sku", body: withoutLine("sku"), status: 422, code: kopilka.EINVALID, field: "lines[0].sku"},
		{name: "missing quantity", body: withoutLine("quantity"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "missing price", body: withoutLine("price"), status: 422, code: kopilka.EINVALID, field: "lines[0].price"},
		{name: "missing amount", body: withoutLine("amount"), status: 422, code: kopilka.EINVALID, field: "lines[0].amount"},
		{name: "sku with a control character", body: setLine("sku", "mi\x01lk"), status: 422, code: kopilka.EINVALID, field: "lines[0].sku"},
		{name: "line number zero", body: setLine("line", 0), status: 422, code: kopilka.EINVALID, field: "lines[0].line"},
		{name: "negative quantity", body: setLine("quantity", "-1"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "negative quantity as a number", body: setLine("quantity", -1), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "zero quantity", body: setLine("quantity", "0"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "quantity abc", body: setLine("quantity", "abc"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "quantity with 4 decimals", body: setLine("quantity", "1.2345"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "quantity in exponent form", body: setLine("quantity", json.Number("2e0")), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "quantity over a million", body: setLine("quantity", "1000000.001"), status: 422, code: kopilka.EINVALID, field: "lines[0].quantity"},
		{name: "negative price", body: setLine("price", -5000), status: 422, code: kopilka.EINVALID, field: "lines[0].price"},
		{name: "price as a string", body: setLine("price", "5000"), status: 422, code: kopilka.EINVALID, field: "lines[0].price"},
		{name: "price with a fraction", body: setLine("price", 50.5), status: 422, code: kopilka.EINVALID, field: "lines[0].price"},
		{name: "negative amount", body: setLine("amount", -1), status: 422, code: kopilka.EINVALID, field: "lines[0].amount"},
		{name: "amount over the largest", body: setLine("amount", kopilka.MaxLineAmount+1), status: 422, code: kopilka.EINVALID, field: "lines[0].amount"},
		{name: "amounts that do not add up", body: setLine("amount", 10001), status: 422, code: kopilka.EINVALID, field: "lines[0].amount"},
		{name: "total not the sum of the lines", body: set("total", 9999), status: 422, code: kopilka.EINVALID, field: "total"},
		{name: "duplicate line numbers", body: edit(func(_ till, r receiptBody) {
			r["lines"] = append(r["lines"].([]any), map[string]any{"line": 1, "sku": "bread", "quantity": "1", "price": 4000, "amount": 4000})
		}), status: 422, code: kopilka.EINVALID, field: "lines[1].line"},
		{name: "occurred_at not a time", body: set("occurred_at", "yesterday"), status: 422, code: kopilka.EINVALID, field: "occurred_at"},
		{name: "occurred_at before year 0 in UTC", body: set("occurred_at", "0000-01-01T00:00:00+01:00"), status: 422, code: kopilka.EINVALID, field: "occurred_at"},
		{name: "occurred_at after year 9999 in UTC", body: set("occurred_at", "9999-12-31T23:30:00-01:00"), status: 422, code: kopilka.EINVALID, field: "occurred_at"},
		{name: "negative spend_points", body: set("spend_points", -1), status: 422, code: kopilka.EINVALID, field: "spend_points"},
		{name: "spend_points as a string", body: set("spend_points", "10"), status: 422, code: kopilka.EINVALID, field: "spend_points"},
		{name: "both card_number and member_id", body: edit(func(fx till, r receiptBody) { r["member_id"] = fx.member }),
			status: 422, code: kopilka.EINVALID, field: "member_id"},
		{name: "neither card_number nor member_id", body: without("card_number"), status: 422, code: kopilka.EINVALID, field: "card_number"},
		{name: "card_number not digits", body: set("card_number", "abc-def-ghi"), status: 422, code: kopilka.EINVALID, field: "card_number"},
		{name: "unknown card", body: set("card_number", "9999000011112222"), status: 422, code: kopilka.EUNKNOWNCARD, field: "card_number"},
		{name: "unknown member", body: edit(func(_ till, r receiptBody) { delete(r, "card_number"); r["member_id"] = "no-such-member" }),
			status: 404, code: kopilka.ENOTFOUND, field: "member_id"},
		{name: "blocked card", body: edit(func(fx till, r receiptBody) { r["card_number"] = fx.blockedCard }),
			status: 422, code: kopilka.EBLOCKEDCARD, field: "card_number"},
		{name: "replaced card", body: edit(func(fx till, r receiptBody) { r["card_number"] = fx.replacedCard }),
			status: 422, code: kopilka.EBLOCKEDCARD, field: "card_number"},
		{name: "blocked member", body: edit(func(fx till, r receiptBody) { r["card_number"] = fx.blockedCardOf }),
			status: 422, code: kopilka.EBLOCKEDMEMBER, field: "member_id"},
		{name: "blocked member by id", body: edit(func(fx till, r receiptBody) { delete(r, "card_number"); r["member_id"] = fx.blockedMember }),
			status: 422, code: kopilka.EBLOCKEDMEMBER, field: "member_id"},
		{name: "more points than the balance", body: set("spend_points", 1001), status: 422, code: kopilka.EINSUFFICIENT, field: "spend_points"},
		{name: "more points than the receipt's share", body: set("spend_points", 31), status: 422, code: kopilka.ESPENDLIMIT, field: "spend_points",
			check: func(t *testing.T, p problem) {
				if p.MaxSpend == nil {
					t.Errorf("no max_spend in the problem, want 30")
				} else if *p.MaxSpend != 30 {
					t.Errorf("max_spend %d, want 30", *p.MaxSpend)
				}
			}},
		{name: "body over 1 MiB", body: setLine("sku", strings.Repeat("s", 1<<20)), status: 413, code: kopilka.ETOOLARGE},
		{name: "no API key", key: "-", body: edit(func(till, receiptBody) {}), status: 401, code: kopilka.EUNAUTHORIZED},
		{name: "API key in another scheme", key: "-", body: edit(func(till, receiptBody) {}), status: 401, code: kopilka.EUNAUTHORIZED,
			headers: []string{"Authorization", "Basic " + posKey}},
		{name: "unknown API key", key: "kpk_not_a_key", body: edit(func(till, receiptBody) {}), status: 401, code: kopilka.EUNAUTHORIZED},
	}

	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			fx := newTill(t, a)
			for i, tt := range tests {
				for _, route := range []string{calculateRoute, confirmRoute} {
					name := "confirm"
					if route == calculateRoute {
						name = "calculate"
					}
					t.Run(tt.name+"/"+name, func(t *testing.T) {
						id := fmt.Sprintf("bad-%d-%s", i, name)
						key := tt.key
						switch key {
						case "":
							key = posKey
						case "-":
							key = ""
						}
						before := a.state(t, fx.member, fx.blockedMember)
						r := a.do(t, "POST", route, key, tt.body(fx, id), tt.headers...)
						p := r.problem(t, tt.status, tt.code, tt.field)
						if tt.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
							t.Errorf("WWW-Authenticate %q, want a Bearer challenge", r.header.Get("WWW-Authenticate"))
						}
						if tt.check != nil {
							tt.check(t, p)
						}
						if after := a.state(t, fx.member, fx.blockedMember); after != before {
							t.Errorf("a refused request changed the members:\nbefore %s\nafter  %s", before, after)
						}
						a.noPurchase(t, id)
					})
				}
			}
		})
	}
}

func TestAPI_RefusedRequestsOutsideTheTillWriteNothing(t *testing.T) {
	tests := []struct {
		name         string
		method, path string // {member} and {card} stand for the till's member and card
		key          string
		body         any
		headers      []string
		status       int
		code         kopilka.Code
		field        string
	}{
		{name: "pos key adjusts a balance", method: "POST", path: "/v1/members/{member}/adjustments", key: posKey,
			body: map[string]any{"points": 100, "reason": "a gift"}, status: 403, code: kopilka.EFORBIDDEN},
		{name: "pos key blocks a card", method: "POST", path: "/v1/cards/{card}/block", key: posKey, status: 403, code: kopilka.EFORBIDDEN},
		{name: "pos key replaces a card", method: "POST", path: "/v1/cards/{card}/replace", key: posKey, status: 403, code: kopilka.EFORBIDDEN},
		{name: "pos key blocks a member", method: "POST", path: "/v1/members/{member}/block", key: posKey, status: 403, code: kopilka.EFORBIDDEN},
		{name: "pos key edits a member", method: "PATCH", path: "/v1/members/{member}", key: posKey,
			body: map[string]any{"name": "Mallory"}, status: 403, code: kopilka.EFORBIDDEN},
		{name: "pos key reads the history", method: "GET", path: "/v1/members/{member}/transactions", key: posKey, status: 403, code: kopilka.EFORBIDDEN},
		{name: "no key adjusts a balance", method: "POST", path: "/v1/members/{member}/adjustments",
			body: map[string]any{"points": 100, "reason": "a gift"}, status: 401, code: kopilka.EUNAUTHORIZED},
		{name: "adjustment of zero points", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: map[string]any{"points": 0, "reason": "nothing"}, status: 422, code: kopilka.EINVALID, field: "points"},
		{name: "adjustment without a reason", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: map[string]any{"points": 10}, status: 422, code: kopilka.EINVALID, field: "reason"},
		{name: "debit of more than the balance", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: map[string]any{"points": -1001, "reason": "too much"}, status: 422, code: kopilka.EINSUFFICIENT, field: "points"},
		{name: "adjustment with points as a string", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: `{"points": "10", "reason": "x"}`, status: 422, code: kopilka.EINVALID, field: "points"},
		{name: "adjustment with an unknown field", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: `{"points": 10, "reason": "x", "pionts": 10}`, status: 422, code: kopilka.EINVALID, field: "pionts"},
		{name: "adjustment with an Idempotency-Key over 128 bytes", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: map[string]any{"points": 10, "reason": "x"}, headers: []string{"Idempotency-Key", strings.Repeat("k", 129)},
			status: 422, code: kopilka.EINVALID, field: "Idempotency-Key"},
		{name: "adjustment body over 1 MiB", method: "POST", path: "/v1/members/{member}/adjustments", key: adminKey,
			body: map[string]any{"points": 10, "reason": strings.Repeat("x", 1<<20)}, status: 413, code: kopilka.ETOOLARGE},
		{name: "patch with a bad phone", method: "PATCH", path: "/v1/members/{member}", key: adminKey,
			body: map[string]any{"phone": "call me"}, status: 422, code: kopilka.EINVALID, field: "phone"},
		{name: "patch with a bad e-mail", method: "PATCH", path: "/v1/members/{member}", key: adminKey,
			body: map[string]any{"email": "anna at example"}, status: 422, code: kopilka.EINVALID, field: "email"},
		{name: "patch with malformed JSON", method: "PATCH", path: "/v1/members/{member}", key: adminKey,
			body: `{"name": `, status: 400, code: kopilka.EMALFORMED},
		{name: "block of an unknown card", method: "POST", path: "/v1/cards/9999000011112222/block", key: adminKey, status: 404, code: kopilka.ENOTFOUND},
		{name: "card of an unknown kind", method: "POST", path: "/v1/members/{member}/cards", key: adminKey,
			body: map[string]any{"kind": "golden"}, status: 422, code: kopilka.EINVALID, field: "kind"},
	}
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			fx := newTill(t, a)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					path := strings.NewReplacer("{member}", fx.member, "{card}", fx.card).Replace(tt.path)
					before := a.state(t, fx.member, fx.blockedMember)
					a.do(t, tt.method, path, tt.key, tt.body, tt.headers...).problem(t, tt.status, tt.code, tt.field)
					if after := a.state(t, fx.member, fx.blockedMember); after != before {
						t.Errorf("a refused request changed the members:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
		})
	}
}

// countKind counts the transactions of a kind for a receipt.
func countKind(txs []kopilka.Transaction, kind, receiptID string) int {
	n := 0
	for _, tx := range txs {
		if tx.Kind == kind && tx.ReceiptID == receiptID {
			n++
		}
	}
	return n
}

func TestPurchase_ConfirmIsIdempotentByReceiptID(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			fx := newTill(t, a)
			body := receipt("r-idem", fx.card, 30)

			first := a.do(t, "POST", confirmRoute, posKey, body)
			var q kopilka.Quote
			first.ok(t, http.StatusOK, &q)
			if q.Spent != 30 || q.Balance.Available != 970 || q.Status != kopilka.PurchaseConfirmed {
				t.Fatalf("first confirmation %s: want 30 spent, 970 available, confirmed", first.body)
			}
			afterFirst := a.state(t, fx.member)

			second := a.do(t, "POST", confirmRoute, posKey, body)
			second.ok(t, http.StatusOK, nil)
			if !bytes.Equal(first.body, second.body) {
				t.Errorf("a retry answered differently:\nfirst  %s\nsecond %s", first.body, second.body)
			}
			if after := a.state(t, fx.member); after != afterFirst {
				t.Errorf("a retry changed the member:\nbefore %s\nafter  %s", afterFirst, after)
			}
			if n := countKind(a.history(t, fx.member), kopilka.KindPurchase, "r-idem"); n != 1 {
				t.Errorf("%d purchase transactions for r-idem, want 1", n)
			}

			t.Run("same receipt_id, another body", func(t *testing.T) {
				before := a.state(t, fx.member)
				other := receipt("r-idem", fx.card, 0)
				a.do(t, "POST", confirmRoute, posKey, other).problem(t, http.StatusConflict, kopilka.ERECEIPT, "receipt_id")
				if after := a.state(t, fx.member); after != before {
					t.Errorf("a conflicting receipt changed the member:\nbefore %s\nafter  %s", before, after)
				}
				var got kopilka.Quote
				a.do(t, "GET", "/v1/purchases/r-idem", posKey, nil).ok(t, http.StatusOK, &got)
				if got.Spent != 30 || got.Earned != q.Earned {
					t.Errorf("stored purchase spent %d earned %d, want the first receipt's 30 and %d", got.Spent, got.Earned, q.Earned)
				}
			})
		})
	}
}

func TestRefund_IsIdempotentAndRefusesWhatCannotBeReturned(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			fx := newTill(t, a)
			body := receipt("r-ref", fx.card, 30)
			body["lines"] = append(body["lines"].([]any),
				map[string]any{"line": 2, "sku": "bread", "quantity": "1", "price": 4000, "amount": 4000})
			a.do(t, "POST", confirmRoute, posKey, body).ok(t, http.StatusOK, nil)
			refunds := "/v1/purchases/r-ref/refunds"
			purchase := func() string {
				r := a.do(t, "GET", "/v1/purchases/r-ref", posKey, nil)
				r.ok(t, http.StatusOK, nil)
				return string(r.body)
			}

			one := map[string]any{"refund_id": "rf-1", "lines": []any{map[string]any{"line": 1, "quantity": "1"}}}
			first := a.do(t, "POST", refunds, posKey, one)
			var res kopilka.RefundResult
			first.ok(t, http.StatusOK, &res)
			if len(res.Lines) != 1 || res.Lines[0].Quantity != 1000 || res.SpentReturned <= 0 {
				t.Fatalf("refund of one unit of line 1: %s", first.body)
			}
			afterFirst := a.state(t, fx.member)
			second := a.do(t, "POST", refunds, posKey, one)
			second.ok(t, http.StatusOK, nil)
			if !bytes.Equal(first.body, second.body) {
				t.Errorf("a retried refund answered differently:\nfirst  %s\nsecond %s", first.body, second.body)
			}
			if after := a.state(t, fx.member); after != afterFirst {
				t.Errorf("a retried refund changed the member:\nbefore %s\nafter  %s", afterFirst, after)
			}
			if n := countKind(a.history(t, fx.member), kopilka.KindRefund, "r-ref"); n != 1 {
				t.Errorf("%d refund transactions, want 1", n)
			}

			refused := []struct {
				name   string
				body   any
				status int
				code   kopilka.Code
				field  string
			}{
				{"same refund_id, another body", map[string]any{"refund_id": "rf-1", "lines": []any{map[string]any{"line": 2}}},
					409, kopilka.ERECEIPT, "refund_id"},
				{"more than was bought", map[string]any{"refund_id": "rf-2", "lines": []any{map[string]any{"line": 2, "quantity": "2"}}},
					422, kopilka.EINVALID, "lines[0].quantity"},
				{"more than is left", map[string]any{"refund_id": "rf-3", "lines": []any{map[string]any{"line": 1, "quantity": "1.001"}}},
					422, kopilka.EINVALID, "lines[0].quantity"},
				{"a line the receipt does not have", map[string]any{"refund_id": "rf-4", "lines": []any{map[string]any{"line": 7}}},
					422, kopilka.EINVALID, "lines[0].line"},
				{"a line twice", map[string]any{"refund_id": "rf-5", "lines": []any{map[string]any{"line": 2}, map[string]any{"line": 2}}},
					422, kopilka.EINVALID, "lines[1].line"},
				{"quantity abc", map[string]any{"refund_id": "rf-6", "lines": []any{map[string]any{"line": 2, "quantity": "abc"}}},
					422, kopilka.EINVALID, "lines[0].quantity"},
				{"zero quantity", map[string]any{"refund_id": "rf-7", "lines": []any{map[string]any{"line": 2, "quantity": "0"}}},
					422, kopilka.EINVALID, "lines[0].quantity"},
				{"missing line number", map[string]any{"refund_id": "rf-8", "lines": []any{map[string]any{"quantity": "1"}}},
					422, kopilka.EINVALID, "lines[0].line"},
				{"missing refund_id", map[string]any{"lines": []any{map[string]any{"line": 2}}}, 422, kopilka.EINVALID, "refund_id"},
				{"the reserved refund_id cancel", map[string]any{"refund_id": "cancel"}, 422, kopilka.EINVALID, "refund_id"},
				{"unknown field", map[string]any{"refund_id": "rf-9", "reason": "broken"}, 422, kopilka.EINVALID, "reason"},
				{"malformed JSON", `{"refund_id": "rf-10",`, 400, kopilka.EMALFORMED, ""},
				{"empty body", ``, 400, kopilka.EMALFORMED, ""},
			}
			for _, tt := range refused {
				t.Run(tt.name, func(t *testing.T) {
					before, pur := a.state(t, fx.member), purchase()
					a.do(t, "POST", refunds, posKey, tt.body).problem(t, tt.status, tt.code, tt.field)
					if after := a.state(t, fx.member); after != before {
						t.Errorf("a refused refund changed the member:\nbefore %s\nafter  %s", before, after)
					}
					if after := purchase(); after != pur {
						t.Errorf("a refused refund changed the purchase:\nbefore %s\nafter  %s", pur, after)
					}
				})
			}

			t.Run("refund of an unknown purchase", func(t *testing.T) {
				a.do(t, "POST", "/v1/purchases/no-such-receipt/refunds", posKey, map[string]any{"refund_id": "rf-x"}).
					problem(t, http.StatusNotFound, kopilka.ENOTFOUND, "")
				a.noPurchase(t, "no-such-receipt")
			})

			t.Run("refund of a cancelled purchase", func(t *testing.T) {
				var c kopilka.RefundResult
				a.do(t, "POST", "/v1/purchases/r-ref/cancel", posKey, nil).ok(t, http.StatusOK, &c)
				if c.Status != kopilka.PurchaseCancelled {
					t.Fatalf("cancel left the purchase %q", c.Status)
				}
				before, pur := a.state(t, fx.member), purchase()
				a.do(t, "POST", refunds, posKey, map[string]any{"refund_id": "rf-after-cancel"}).
					problem(t, http.StatusConflict, kopilka.ESTATE, "")
				if after := a.state(t, fx.member); after != before {
					t.Errorf("a refused refund changed the member:\nbefore %s\nafter  %s", before, after)
				}
				if after := purchase(); after != pur {
					t.Errorf("a refused refund changed the purchase:\nbefore %s\nafter  %s", pur, after)
				}
			})
		})
	}
}

func TestAdjustment_IdempotencyKeyReplaysTheSameTransaction(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			m := a.createMember(t, map[string]any{"email": "boris@example.com"})
			path := "/v1/members/" + m.ID + "/adjustments"
			body := map[string]any{"points": 50, "reason": "goodwill for a late delivery"}

			var first, second kopilka.Transaction
			a.do(t, "POST", path, adminKey, body, "Idempotency-Key", "adj-1").ok(t, http.StatusCreated, &first)
			a.do(t, "POST", path, adminKey, body, "Idempotency-Key", "adj-1").ok(t, http.StatusCreated, &second)
			if first.ID == "" || first.ID != second.ID {
				t.Errorf("replay gave transaction %q, first %q", second.ID, first.ID)
			}
			if b := a.balance(t, m.ID); b.Available != 50 {
				t.Errorf("available %d after a replayed credit of 50, want 50", b.Available)
			}
			if n := len(a.history(t, m.ID)); n != 1 {
				t.Errorf("%d transactions, want 1", n)
			}

			before := a.state(t, m.ID)
			other := map[string]any{"points": 60, "reason": "goodwill for a late delivery"}
			a.do(t, "POST", path, adminKey, other, "Idempotency-Key", "adj-1").
				problem(t, http.StatusConflict, kopilka.EIDEMPOTENCY, "Idempotency-Key")
			if after := a.state(t, m.ID); after != before {
				t.Errorf("a conflicting adjustment changed the member:\nbefore %s\nafter  %s", before, after)
			}

			// Without a key each request is a new adjustment.
			a.do(t, "POST", path, adminKey, body).ok(t, http.StatusCreated, nil)
			a.do(t, "POST", path, adminKey, body).ok(t, http.StatusCreated, nil)
			if b := a.balance(t, m.ID); b.Available != 150 {
				t.Errorf("available %d after three credits of 50, want 150", b.Available)
			}
		})
	}
}

func TestMember_CreateFindAndEdit(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			r := a.do(t, "POST", "/v1/members", adminKey,
				map[string]any{"phone": "8 916 123-45-67", "email": "Anna.K@Example.com", "name": " Anna "})
			var m kopilka.Member
			r.ok(t, http.StatusCreated, &m)
			if m.Phone != "+79161234567" {
				t.Errorf("phone %q, want +79161234567", m.Phone)
			}
			if m.Email != "anna.k@example.com" {
				t.Errorf("email %q, want anna.k@example.com", m.Email)
			}
			if m.Status != kopilka.StatusActive {
				t.Errorf("status %q, want active", m.Status)
			}
			if loc := r.header.Get("Location"); loc != "/v1/members/"+m.ID {
				t.Errorf("Location %q, want /v1/members/%s", loc, m.ID)
			}
			if len(m.Cards) != 1 {
				t.Fatalf("%d cards, want one virtual card", len(m.Cards))
			}
			card := m.Cards[0]
			if card.Kind != kopilka.CardVirtual || card.Status != kopilka.StatusActive || card.MemberID != m.ID {
				t.Errorf("card %+v, want an active virtual card of the member", card)
			}
			if len(card.Number) != 16 || !kopilka.ValidLuhn(card.Number) {
				t.Errorf("card number %q, want 16 digits with a Luhn check digit", card.Number)
			}

			t.Run("duplicates are refused", func(t *testing.T) {
				for _, tt := range []struct {
					name  string
					body  map[string]any
					field string
				}{
					{"same phone in another form", map[string]any{"phone": "+7 (916) 123-45-67"}, "phone"},
					{"same e-mail in another case", map[string]any{"email": "ANNA.K@example.COM"}, "email"},
				} {
					t.Run(tt.name, func(t *testing.T) {
						a.do(t, "POST", "/v1/members", adminKey, tt.body).problem(t, http.StatusConflict, kopilka.ECONFLICT, tt.field)
					})
				}
			})

			t.Run("invalid members are refused", func(t *testing.T) {
				for _, tt := range []struct {
					name  string
					body  any
					field string
				}{
					{"no phone and no e-mail", map[string]any{"name": "Nobody"}, "phone"},
					{"a phone that is not one", map[string]any{"phone": "12"}, "phone"},
					{"an e-mail that is not one", map[string]any{"email": "anna@"}, "email"},
					{"a birth date in the future", map[string]any{"phone": "+79160000009", "birth_date": "2999-01-01"}, "birth_date"},
					{"an unknown field", map[string]any{"phone": "+79160000009", "nickname": "An"}, "nickname"},
				} {
					t.Run(tt.name, func(t *testing.T) {
						a.do(t, "POST", "/v1/members", adminKey, tt.body).problem(t, http.StatusUnprocessableEntity, kopilka.EINVALID, tt.field)
					})
				}
			})

			t.Run("find", func(t *testing.T) {
				for _, tt := range []struct {
					name, key, query string
				}{
					{"admin by phone in national form", adminKey, "phone=" + url.QueryEscape("8 916 123-45-67")},
					{"admin by phone in E.164", adminKey, "phone=" + url.QueryEscape("+79161234567")},
					{"admin by e-mail in another case", adminKey, "email=" + url.QueryEscape("ANNA.K@example.com")},
					{"admin by card", adminKey, "card=" + card.Number},
					{"till by card with spaces", posKey, "card=" + url.QueryEscape(card.Number[:4]+" "+card.Number[4:8]+" "+card.Number[8:])},
				} {
					t.Run(tt.name, func(t *testing.T) {
						var got kopilka.Member
						a.do(t, "GET", "/v1/members?"+tt.query, tt.key, nil).ok(t, http.StatusOK, &got)
						if got.ID != m.ID {
							t.Errorf("found member %q, want %q", got.ID, m.ID)
						}
					})
				}
				for _, tt := range []struct {
					name, key, query string
					status           int
					code             kopilka.Code
					field            string
				}{
					{"till by phone", posKey, "phone=" + url.QueryEscape("+79161234567"), 422, kopilka.EINVALID, "card"},
					{"till by e-mail", posKey, "email=anna.k%40example.com", 422, kopilka.EINVALID, "card"},
					{"nothing to find by", adminKey, "", 422, kopilka.EINVALID, "phone"},
					{"unknown phone", adminKey, "phone=" + url.QueryEscape("+79169999999"), 404, kopilka.ENOTFOUND, ""},
					{"unknown card", adminKey, "card=9999000011112222", 404, kopilka.ENOTFOUND, ""},
					{"a card number that is not one", adminKey, "card=12ab", 422, kopilka.EINVALID, "card"},
				} {
					t.Run(tt.name, func(t *testing.T) {
						a.do(t, "GET", "/v1/members?"+tt.query, tt.key, nil).problem(t, tt.status, tt.code, tt.field)
					})
				}
			})

			t.Run("patch", func(t *testing.T) {
				var got kopilka.Member
				a.do(t, "PATCH", "/v1/members/"+m.ID, adminKey, map[string]any{"name": "Anna K.", "birth_date": "1990-05-17"}).
					ok(t, http.StatusOK, &got)
				if got.Name != "Anna K." || got.BirthDate != "1990-05-17" || got.Phone != m.Phone || got.Email != m.Email {
					t.Errorf("patched member %+v: want the new name and birth date, the old phone and e-mail", got)
				}
				var read kopilka.Member
				a.do(t, "GET", "/v1/members/"+m.ID, adminKey, nil).ok(t, http.StatusOK, &read)
				if read.Name != "Anna K." || read.BirthDate != "1990-05-17" {
					t.Errorf("read back %+v, want the patched name and birth date", read)
				}

				other := a.createMember(t, map[string]any{"phone": "+79160000003"})
				before := a.state(t, other.ID)
				a.do(t, "PATCH", "/v1/members/"+other.ID, adminKey, map[string]any{"phone": "8 916 123 45 67"}).
					problem(t, http.StatusConflict, kopilka.ECONFLICT, "phone")
				if after := a.state(t, other.ID); after != before {
					t.Errorf("a refused patch changed the member:\nbefore %s\nafter  %s", before, after)
				}
				a.do(t, "PATCH", "/v1/members/no-such-member", adminKey, map[string]any{"name": "X"}).
					problem(t, http.StatusNotFound, kopilka.ENOTFOUND, "")
			})
		})
	}
}

func TestCard_AdditionalCardSharesTheBalance(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			m := a.createMember(t, map[string]any{"phone": "+79160000004"})
			a.credit(t, m.ID, 1000)
			var extra kopilka.Card
			a.do(t, "POST", "/v1/members/"+m.ID+"/cards", adminKey, map[string]any{"kind": "additional"}).ok(t, http.StatusCreated, &extra)
			if extra.Kind != kopilka.CardAdditional || extra.MemberID != m.ID || !kopilka.ValidLuhn(extra.Number) || extra.Number == m.Cards[0].Number {
				t.Fatalf("additional card %+v", extra)
			}

			var q kopilka.Quote
			a.do(t, "POST", confirmRoute, posKey, receipt("r-extra", extra.Number, 30)).ok(t, http.StatusOK, &q)
			if q.MemberID != m.ID || q.Spent != 30 || q.Balance.Available != 970 {
				t.Errorf("purchase by the additional card: member %q spent %d available %d; want %q, 30, 970",
					q.MemberID, q.Spent, q.Balance.Available, m.ID)
			}
			if b := a.balance(t, m.ID); b.Available != 970 {
				t.Errorf("member's available %d after spending 30 by the additional card, want 970", b.Available)
			}
			a.do(t, "POST", confirmRoute, posKey, receipt("r-main", m.Cards[0].Number, 30)).ok(t, http.StatusOK, &q)
			if q.Balance.Available != 940 {
				t.Errorf("available %d after spending 30 by each card, want 940", q.Balance.Available)
			}
			// The till sees the same balance by either card.
			for _, number := range []string{extra.Number, m.Cards[0].Number} {
				var found kopilka.Member
				a.do(t, "GET", "/v1/members?card="+number, posKey, nil).ok(t, http.StatusOK, &found)
				if found.ID != m.ID {
					t.Errorf("card %s finds member %q, want %q", number, found.ID, m.ID)
				}
			}
			if b := a.balance(t, m.ID); b.Available != 940 {
				t.Errorf("member's available %d, want 940", b.Available)
			}
		})
	}
}

func TestCard_ReplacedCardIsRefusedAndTheNewOneKeepsTheBalance(t *testing.T) {
	for _, db := range dialects(t) {
		t.Run(db, func(t *testing.T) {
			a := newAPI(t, db)
			m := a.createMember(t, map[string]any{"phone": "+79160000005"})
			a.credit(t, m.ID, 1000)
			old := m.Cards[0].Number

			var fresh kopilka.Card
			a.do(t, "POST", "/v1/cards/"+old+"/replace", adminKey, nil).ok(t, http.StatusCreated, &fresh)
			if fresh.Number == old || fresh.MemberID != m.ID || fresh.Status != kopilka.StatusActive || !kopilka.ValidLuhn(fresh.Number) {
				t.Fatalf("new card %+v", fresh)
			}
			var was kopilka.Card
			a.do(t, "GET", "/v1/cards/"+old, adminKey, nil).ok(t, http.StatusOK, &was)
			if was.Status != kopilka.StatusReplaced || was.ReplacedBy != fresh.Number {
				t.Errorf("old card %+v, want replaced by %s", was, fresh.Number)
			}
			if b := a.balance(t, m.ID); b.Available != 1000 {
				t.Errorf("available %d after the replacement, want 1000", b.Available)
			}

			before := a.state(t, m.ID)
			a.do(t, "POST", confirmRoute, posKey, receipt("r-old", old, 30)).problem(t, http.StatusUnprocessableEntity, kopilka.EBLOCKEDCARD, "card_number")
			if after := a.state(t, m.ID); after != before {
				t.Errorf("a refused purchase changed the member:\nbefore %s\nafter  %s", before, after)
			}
			a.noPurchase(t, "r-old")
			a.do(t, "POST", "/v1/cards/"+old+"/replace", adminKey, nil).problem(t, http.StatusConflict, kopilka.ECONFLICT, "")

			var q kopilka.Quote
			a.do(t, "POST", confirmRoute, posKey, receipt("r-new", fresh.Number, 30)).ok(t, http.StatusOK, &q)
			if q.MemberID != m.ID || q.Balance.Available != 970 {
				t.Errorf("purchase by the new card: member %q available %d, want %q and 970", q.MemberID, q.Balance.Available, m.ID)
			}
		})
	}
}

// A decimal deep in a body that does not read is a 422 naming its path, as
// at the top level (issue 12, item 4), in JSON and in a YAML import.
func TestDecimals_ANestedBadDecimalNamesItsField(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"tiers": map[string]any{"basis": "spend", "window": "rolling", "months": 12,
		"levels": []map[string]any{{"name": "base", "threshold": 0}, {"name": "gold", "threshold": 1000, "earn_multiplier": "1.111111"}}}}).
		problem(t, 422, kopilka.EINVALID, "tiers.levels[1].earn_multiplier")
	a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"rules": []map[string]any{{"id": "x", "kind": "percent", "percent": "abc"}}}).
		problem(t, 422, kopilka.EINVALID, "rules[0].percent")
	doc := "rules:\n  - id: x\n    kind: percent\n    percent: 1.234\n"
	a.do(t, "PUT", "/v1/programme/import?dry_run=true", adminKey, doc, "Content-Type", "application/yaml").
		problem(t, 422, kopilka.EINVALID, "rules[0].percent")
	a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"spending": map[string]any{"categories": []map[string]any{{"category": "x", "max_spend_percent": true}}}}).
		problem(t, 422, kopilka.EINVALID, "spending.categories[0].max_spend_percent")
}

// A statement's span may be given as dates in the programme's time zone, the
// last day whole, or as RFC 3339 whose "+" arrived unencoded (issue 12,
// item 18).
func TestStatement_FromAndToTakeDates(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"time_zone": "Europe/Moscow"}).ok(t, 200, nil)
	var byDate, byTime, byRaw kopilka.Statement
	a.do(t, "GET", "/v1/partners/main/statement?from=2026-10-01&to=2026-10-31", adminKey, nil).ok(t, 200, &byDate)
	a.do(t, "GET", "/v1/partners/main/statement?from=2026-10-01T00:00:00%2B03:00&to=2026-11-01T00:00:00%2B03:00", adminKey, nil).ok(t, 200, &byTime)
	a.do(t, "GET", "/v1/partners/main/statement?from=2026-10-01T00:00:00+03:00&to=2026-11-01T00:00:00+03:00", adminKey, nil).ok(t, 200, &byRaw)
	want := time.Date(2026, 9, 30, 21, 0, 0, 0, time.UTC)
	for _, st := range []kopilka.Statement{byDate, byTime, byRaw} {
		if !st.From.Equal(want) || !st.To.Equal(time.Date(2026, 10, 31, 21, 0, 0, 0, time.UTC)) {
			t.Fatalf("span %s – %s, want October in Moscow", st.From, st.To)
		}
	}
	a.do(t, "GET", "/v1/partners/main/statement?from=01.10.2026&to=2026-10-31", adminKey, nil).problem(t, 422, kopilka.EINVALID, "from")
}

// The test clock (issue 12, item 3): off by default (409, and /readyz says
// nothing); on, the programme's time stands still and an admin moves it
// forward, never back; lots expire and the jobs run by it; another
// instance over the same database follows it.
func TestTestClock_RehearsesAYear(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "POST", "/v1/clock", adminKey, map[string]any{"days": 1}).problem(t, 409, kopilka.ECONFLICT, "")
			var ready map[string]any
			a.do(t, "GET", "/readyz", "", nil).ok(t, 200, &ready)
			if _, ok := ready["test_clock"]; ok {
				t.Fatalf("readyz without the test clock: %v", ready)
			}
			a.svc.Clock.Enabled = true
			if err := a.svc.Clock.Start(sysCtx()); err != nil {
				t.Fatal(err)
			}
			defer a.svc.Env.SetNow(time.Now)
			var c testclock.Clock
			a.do(t, "GET", "/v1/clock", adminKey, nil).ok(t, 200, &c)
			start := c.Now
			time.Sleep(2 * time.Millisecond)
			if a.do(t, "GET", "/v1/clock", adminKey, nil).ok(t, 200, &c); !c.Enabled || !c.Now.Equal(start) {
				t.Fatalf("the test clock does not stand still: %+v, was %s", c, start)
			}
			a.do(t, "GET", "/readyz", "", nil).ok(t, 200, &ready)
			if ready["test_clock"] == nil {
				t.Fatalf("readyz on the test clock: %v", ready)
			}
			a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"pending_days": 0, "expiry_days": 30}).ok(t, 200, nil)
			m := a.createMember(t, map[string]any{"phone": "+79165550123"})
			a.credit(t, m.ID, 100)
			a.do(t, "POST", "/v1/clock", adminKey, map[string]any{"now": start.Add(-time.Hour)}).problem(t, 422, kopilka.EINVALID, "now")
			a.do(t, "POST", "/v1/clock", adminKey, map[string]any{"days": 1, "advance": "1h"}).problem(t, 422, kopilka.EINVALID, "now")
			a.do(t, "POST", "/v1/clock", adminKey, map[string]any{"days": 31}).ok(t, 200, &c)
			if !c.Now.Equal(start.AddDate(0, 0, 31)) {
				t.Fatalf("after 31 days: %s", c.Now)
			}
			// Another instance over the database follows within its next sync.
			other := app.New(a.svc.DB)
			other.Clock.Enabled = true
			if err := other.Clock.Start(sysCtx()); err != nil || !other.Env.Time().Equal(c.Now) {
				t.Fatalf("another instance stands at %s (%v), want %s", other.Env.Time(), err, c.Now)
			}
			if _, err := other.Jobs.RunJobs(sysCtx()); err != nil {
				t.Fatal(err)
			}
			if b := a.balance(t, m.ID); b.Available != 0 {
				t.Fatalf("30-day points 31 test-clock days later: %d available", b.Available)
			}
			a.do(t, "POST", "/v1/clock", adminKey, map[string]any{"advance": "24h"}).ok(t, 200, &c)
			if err := other.Clock.Sync(sysCtx()); err != nil || !other.Env.Time().Equal(c.Now) {
				t.Fatalf("the other instance after a sync: %s (%v), want %s", other.Env.Time(), err, c.Now)
			}
			// The move is in the audit log.
			es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Limit: 1})
			if err != nil || len(es) != 1 || es[0].Action != "POST /v1/clock" {
				t.Fatalf("the last audit entry: %+v %v", es, err)
			}
		})
	}
}

// Personal data on request (issue 12, item 8): an admin exports everything
// held about a member as one document, then erases the member for good:
// contacts, name, birth date and free text gone, cards blocked, sessions
// and codes revoked, the ledger whole and verify passing; both requests are
// in the audit log, which keeps none of the data removed.
func TestPrivacy_ExportThenErase(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			m := a.createMember(t, map[string]any{"phone": "+79165550200", "email": "olga@example.com", "name": "Olga",
				"birth_date": "1985-04-02", "tags": []string{"vip"}})
			a.credit(t, m.ID, 500)
			card := m.Cards[0].Number
			a.do(t, "POST", "/v1/purchases", adminKey, map[string]any{"receipt_id": "p-1", "store_id": "store-1", "card_number": card,
				"lines": []map[string]any{{"line": 1, "sku": "tea", "quantity": "2", "price": 5000, "amount": 10000}}, "spend_points": 30}).ok(t, 200, nil)
			a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79165550200"}).ok(t, 202, nil)
			var s kopilka.Session
			a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79165550200", "code": a.sent.code("+79165550200")}).ok(t, 200, &s)
			var c cases.Case
			a.do(t, "POST", "/v1/cases", adminKey, map[string]any{"member_id": m.ID, "kind": "complaint", "subject": "Olga says the tea was cold",
				"note": "call Olga on +79165550200", "resolution": "Olga got an apology"}).ok(t, 201, &c)

			var x privacy.Export
			r := a.do(t, "GET", "/v1/members/"+m.ID+"/export", adminKey, nil)
			r.ok(t, 200, &x)
			if x.Member.Phone != "+79165550200" || x.Member.Name != "Olga" || len(x.Member.Cards) != 1 || len(x.Purchases) != 1 ||
				len(x.Purchases[0].Lines) != 1 || x.Purchases[0].Lines[0].SKU != "tea" || len(x.Transactions) < 2 || len(x.Lots) < 1 ||
				len(x.Sessions) != 1 || x.Balance.Available == 0 || len(x.Audit) == 0 || len(x.Cases) != 1 || len(x.Cases[0].Notes) != 2 {
				t.Fatalf("export: %s", r.body)
			}
			if strings.Contains(string(r.body), s.Token) || !strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
				t.Fatalf("the export shows a token, or is no attachment: %v", r.header)
			}
			a.do(t, "GET", "/v1/members/"+m.ID+"/export", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")

			a.do(t, "POST", "/v1/members/"+m.ID+"/erase", adminKey, map[string]any{}).problem(t, 422, kopilka.EINVALID, "reason")
			var erased kopilka.Member
			a.do(t, "POST", "/v1/members/"+m.ID+"/erase", adminKey, map[string]any{"reason": "request 7 by letter"}).ok(t, 200, &erased)
			if erased.Phone != "" || erased.Email != "" || erased.Name != "" || erased.BirthDate != "" || len(erased.Tags) != 0 ||
				erased.Status != kopilka.StatusErased || erased.Cards[0].Status != kopilka.StatusBlocked {
				t.Fatalf("erased: %+v", erased)
			}
			// Nothing finds or reaches the member by what identified it; nothing brings it back.
			a.do(t, "GET", "/v1/members?phone=%2B79165550200", adminKey, nil).problem(t, 404, kopilka.ENOTFOUND, "")
			a.do(t, "GET", "/v1/me", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
			a.do(t, "POST", "/v1/members/"+m.ID+"/unblock", adminKey, nil).problem(t, 409, kopilka.ECONFLICT, "")
			a.do(t, "PATCH", "/v1/members/"+m.ID, adminKey, map[string]any{"name": "Olga"}).problem(t, 409, kopilka.ECONFLICT, "")
			a.do(t, "POST", "/v1/purchases", adminKey, map[string]any{"receipt_id": "p-2", "store_id": "store-1", "card_number": card,
				"lines": []map[string]any{{"line": 1, "sku": "tea", "quantity": "1", "price": 5000, "amount": 5000}}}).problem(t, 422, kopilka.EBLOCKEDCARD, "card_number")
			// Again: nothing changes.
			a.do(t, "POST", "/v1/members/"+m.ID+"/erase", adminKey, map[string]any{"reason": "again"}).ok(t, 200, &erased)
			// The case stays, without the words that named the member.
			if r := a.do(t, "GET", "/v1/cases/"+c.ID, adminKey, nil); r.status != 200 || strings.Contains(string(r.body), "Olga") ||
				strings.Contains(string(r.body), "79165550200") || !strings.Contains(string(r.body), `"kind":"complaint"`) {
				t.Fatalf("the member's case after erasure: %d %s", r.status, r.body)
			}
			// The ledger is whole and keeps the id; the audit log has both requests and none of the data.
			if b := a.balance(t, m.ID); b.Available != x.Balance.Available {
				t.Fatalf("balance after erasure %d, before %d", b.Available, x.Balance.Available)
			}
			if breaches, err := a.svc.Verify(sysCtx()); err != nil || len(breaches) != 0 {
				t.Fatalf("verify: %v %v", breaches, err)
			}
			es, _, err := a.svc.Access.Audit(sysCtx(), kopilka.AuditFilter{Target: m.ID, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for _, e := range es {
				if e.Action == "members.export" { // a read: the edge describes no call for it
					e.Action, e.Status = "GET /v1/members/{id}/export", 200
				}
				if e.Status != 200 || (e.Action != "POST /v1/members/{id}/erase" && e.Action != "GET /v1/members/{id}/export") {
					continue
				}
				seen[e.Action]++
				if strings.Contains(string(e.After)+string(e.Before), "Olga") || strings.Contains(string(e.After)+string(e.Before), "79165550200") {
					t.Fatalf("the entry of a privacy request keeps personal data: %s %s", e.Before, e.After)
				}
			}
			if seen["POST /v1/members/{id}/erase"] != 2 || seen["GET /v1/members/{id}/export"] != 1 {
				t.Fatalf("the privacy requests in the audit log: %v", seen)
			}
			var codes int
			_ = a.svc.DB.SQL.QueryRow(`SELECT COUNT(*) FROM otp_codes WHERE member_id = '` + m.ID + `' OR address = 'phone:+79165550200'`).Scan(&codes)
			if codes != 0 {
				t.Fatalf("%d code rows left", codes)
			}
		})
	}
}

// A person who opens the server's address finds where to go, in Russian and
// English (issue 12, item 16); other paths no route takes stay 404, and a
// path that takes other methods 405.
func TestHome_APageForABrowser(t *testing.T) {
	a := newAPI(t, "sqlite")
	r := a.do(t, "GET", "/", "", nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(r.body), "/openapi.yaml") || !strings.Contains(string(r.body), "Сервер программы лояльности") ||
		!strings.Contains(string(r.body), "The loyalty programme's server") {
		t.Fatalf("GET /: %d %v %s", r.status, r.header, r.body)
	}
	a.do(t, "GET", "/nowhere", "", nil).problem(t, 404, kopilka.ENOTFOUND, "")
	a.do(t, "GET", "/v1/nowhere", adminKey, nil).problem(t, 404, kopilka.ENOTFOUND, "")
	a.do(t, "GET", "/v1/auth/login", "", nil).problem(t, 405, kopilka.EMETHOD, "")
	a.do(t, "POST", "/", "", nil).problem(t, 405, kopilka.EMETHOD, "")
}

// The service centre finds members (issue 12, item 7): by a part of the
// name in any case and alphabet, by phone digits, e-mail, a card's first
// digits, tier, status, tag, registration and last-purchase dates; paged
// and sorted; a till may not list members; support sees cards masked.
func TestMembers_FindAndList(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			olga := a.createMember(t, map[string]any{"phone": "+79165550301", "name": "Ольга Петрова", "email": "olga@example.com", "tags": []string{"vip"}})
			a.createMember(t, map[string]any{"phone": "+79165550302", "name": "Anna Smirnova", "email": "anna@example.com"})
			ivan := a.createMember(t, map[string]any{"phone": "+79165550303", "name": "Иван", "email": "ivan@example.org"})
			a.do(t, "POST", "/v1/purchases", adminKey, map[string]any{"receipt_id": "f-1", "store_id": "store-1", "member_id": ivan.ID,
				"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 100, "amount": 100}}}).ok(t, 200, nil)
			ids := func(path string) []string {
				var p struct {
					Items      []kopilka.Member `json:"items"`
					NextCursor string           `json:"next_cursor"`
				}
				a.do(t, "GET", path, adminKey, nil).ok(t, 200, &p)
				var out []string
				for _, m := range p.Items {
					out = append(out, m.ID)
				}
				return out
			}
			for path, want := range map[string][]string{
				"/v1/members/search?name=%D0%BE%D0%BB%D1%8C%D0%B3%D0%B0": {olga.ID}, // "ольга"
				"/v1/members/search?q=PETROVA":                           nil,
				"/v1/members/search?q=петров":                            {olga.ID},
				"/v1/members/search?phone=0303":                          {ivan.ID},
				"/v1/members/search?email=EXAMPLE.ORG":                   {ivan.ID},
				"/v1/members/search?card=" + olga.Cards[0].Number[:8]:    {olga.ID},
				"/v1/members/search?tag=vip":                             {olga.ID},
				"/v1/members/search?tag=vi":                              nil,
				"/v1/members/search?last_purchase_from=2000-01-01":       {ivan.ID},
				"/v1/members/search?q=5550&sort=name":                    {"anna", olga.ID, ivan.ID},
			} {
				got := ids(path)
				if len(want) == 3 { // by name: Anna, Иван, Ольга in the database's order of letters
					if len(got) != 3 {
						t.Errorf("%s: %v", path, got)
					}
					continue
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: %v, want %v", path, got, want)
				}
			}
			// Pages of one, newest first, to the end.
			var seen []string
			cursor := ""
			for range 5 {
				var p struct {
					Items      []kopilka.Member `json:"items"`
					NextCursor string           `json:"next_cursor"`
				}
				a.do(t, "GET", "/v1/members/search?q=5550&limit=1&cursor="+cursor, adminKey, nil).ok(t, 200, &p)
				for _, m := range p.Items {
					seen = append(seen, m.ID)
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			if len(seen) != 3 || seen[0] != ivan.ID || seen[2] != olga.ID {
				t.Fatalf("pages: %v", seen)
			}
			a.do(t, "GET", "/v1/members/search?status=gone", adminKey, nil).problem(t, 422, kopilka.EINVALID, "status")
			a.do(t, "GET", "/v1/members/search?registered_from=1.1.2026", adminKey, nil).problem(t, 422, kopilka.EINVALID, "registered_from")
			a.do(t, "GET", "/v1/members/search?cursor=zz", adminKey, nil).problem(t, 422, kopilka.EINVALID, "cursor")
			a.do(t, "GET", "/v1/members/search?q=5550", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
		})
	}
}

// Purchases are listed by member, store, partner and period, newest first,
// paged (issue 12, item 7); a partner's key lists its own partner's only.
func TestPurchases_List(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PUT", "/v1/partners/other", adminKey, map[string]any{"name": "Other"}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/stores/o1", adminKey, map[string]any{"partner_id": "other", "name": "O1"}).ok(t, 200, nil)
			m1 := a.createMember(t, map[string]any{"phone": "+79165550401"})
			m2 := a.createMember(t, map[string]any{"phone": "+79165550402"})
			buy := func(id, store, member string) {
				a.do(t, "POST", "/v1/purchases", adminKey, map[string]any{"receipt_id": id, "store_id": store, "member_id": member,
					"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 1000, "amount": 1000}}}).ok(t, 200, nil)
			}
			buy("l-1", "store-1", m1.ID)
			buy("l-2", "s1", m2.ID)
			buy("l-3", "o1", m1.ID)
			list := func(key, query string) []string {
				var p struct {
					Items []kopilka.Quote `json:"items"`
				}
				a.do(t, "GET", "/v1/purchases?"+query, key, nil).ok(t, 200, &p)
				var out []string
				for _, q := range p.Items {
					if q.OccurredAt == nil {
						t.Fatalf("a listed purchase without its time: %+v", q)
					}
					out = append(out, q.ReceiptID)
				}
				return out
			}
			var k kopilka.APIKey
			a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "main admin", "role": "partner-admin", "partner_id": "main"}).ok(t, 201, &k)
			for _, c := range []struct {
				key, query string
				want       []string
			}{
				{adminKey, "", []string{"l-3", "l-2", "l-1"}},
				{adminKey, "member_id=" + m1.ID, []string{"l-3", "l-1"}},
				{adminKey, "store_id=s1", []string{"l-2"}},
				{adminKey, "partner_id=other", []string{"l-3"}},
				{adminKey, "from=2000-01-01&to=2000-12-31", nil},
				{k.Secret, "", []string{"l-2", "l-1"}},
				{k.Secret, "partner_id=other", nil},
			} {
				if got := list(c.key, c.query); !slices.Equal(got, c.want) {
					t.Errorf("GET /v1/purchases?%s: %v, want %v", c.query, got, c.want)
				}
			}
			var p struct {
				Items      []kopilka.Quote `json:"items"`
				NextCursor string          `json:"next_cursor"`
			}
			a.do(t, "GET", "/v1/purchases?limit=2", adminKey, nil).ok(t, 200, &p)
			if len(p.Items) != 2 || p.NextCursor == "" {
				t.Fatalf("the first page of two: %+v", p)
			}
			if got := list(adminKey, "limit=2&cursor="+p.NextCursor); !slices.Equal(got, []string{"l-1"}) {
				t.Fatalf("the second page: %v", got)
			}
			a.do(t, "GET", "/v1/purchases?limit=500", adminKey, nil).problem(t, 422, kopilka.EINVALID, "limit")
		})
	}
}

// Every store of the programme, for the back office; a partner's key lists
// its own partner's (issue 12, item 7).
func TestStores_ListAll(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.do(t, "PUT", "/v1/partners/other", adminKey, map[string]any{"name": "Other"}).ok(t, 200, nil)
	a.do(t, "PUT", "/v1/stores/o1", adminKey, map[string]any{"partner_id": "other", "name": "O1"}).ok(t, 200, nil)
	var k kopilka.APIKey
	a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "other admin", "role": "partner-admin", "partner_id": "other"}).ok(t, 201, &k)
	ids := func(key, query string) (out []string, next string) {
		var p struct {
			Items     []kopilka.Store `json:"items"`
			NextAfter string          `json:"next_after"`
		}
		a.do(t, "GET", "/v1/stores?"+query, key, nil).ok(t, 200, &p)
		for _, s := range p.Items {
			out = append(out, s.ID)
		}
		return out, p.NextAfter
	}
	if got, _ := ids(adminKey, ""); !slices.Equal(got, []string{"o1", "s1", "store-1"}) {
		t.Fatalf("every store: %v", got)
	}
	if got, next := ids(adminKey, "limit=2"); len(got) != 2 || next != "s1" {
		t.Fatalf("a page of two: %v %q", got, next)
	}
	if got, _ := ids(adminKey, "after=s1"); !slices.Equal(got, []string{"store-1"}) {
		t.Fatalf("after s1: %v", got)
	}
	if got, _ := ids(k.Secret, ""); !slices.Equal(got, []string{"o1"}) {
		t.Fatalf("the other partner's key: %v", got)
	}
	a.do(t, "GET", "/v1/stores", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
}

// A PUT replaces a whole partner or store and refuses to clear a field it
// was not sent; a PATCH changes what it is sent (issue 12, item 17: a PUT
// with a name and a status wiped a partner's legal id and both rates).
func TestPutAndPatch_NoFieldIsClearedSilently(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PUT", "/v1/partners/books", adminKey, map[string]any{"name": "Book Shop", "legal_id": "7702000002",
				"earn_rate_percent": "3", "max_spend_percent": "50"}).ok(t, 200, nil)
			r := a.do(t, "PUT", "/v1/partners/books", adminKey, map[string]any{"name": "Books", "status": "active"})
			r.problem(t, 422, kopilka.EINVALID, "legal_id")
			for _, f := range []string{"earn_rate_percent", "max_spend_percent"} {
				if !strings.Contains(string(r.body), `"field":"`+f+`"`) {
					t.Errorf("the refusal does not name %s: %s", f, r.body)
				}
			}
			var p kopilka.Partner
			a.do(t, "PATCH", "/v1/partners/books", adminKey, map[string]any{"name": "Books"}).ok(t, 200, &p)
			if p.Name != "Books" || p.LegalID != "7702000002" || p.EarnRate == nil || p.EarnRate.String() != "3" || p.MaxSpend == nil {
				t.Fatalf("after a PATCH of the name: %+v", p)
			}
			// A PUT that sends every field, clearing the rates with null, is a replacement.
			p = kopilka.Partner{}
			a.do(t, "PUT", "/v1/partners/books", adminKey, map[string]any{"name": "Books", "legal_id": "7702000002",
				"earn_rate_percent": nil, "max_spend_percent": nil, "status": "active", "categories": []string{}}).ok(t, 200, &p)
			if p.EarnRate != nil || p.MaxSpend != nil || p.LegalID != "7702000002" {
				t.Fatalf("after a full PUT: %+v", p)
			}
			a.do(t, "PATCH", "/v1/partners/nobody", adminKey, map[string]any{"name": "X"}).problem(t, 404, kopilka.ENOTFOUND, "")

			a.do(t, "PUT", "/v1/stores/b1", adminKey, map[string]any{"partner_id": "books", "name": "Arbat", "address": "Arbat 10",
				"lat": 55.75, "lon": 37.59, "time_zone": "Europe/Moscow"}).ok(t, 200, nil)
			a.do(t, "PUT", "/v1/stores/b1", adminKey, map[string]any{"partner_id": "books", "name": "Arbat 10"}).problem(t, 422, kopilka.EINVALID, "address")
			var o kopilka.Store
			a.do(t, "PATCH", "/v1/stores/b1", adminKey, map[string]any{"status": "closed"}).ok(t, 200, &o)
			if o.Status != kopilka.StoreClosed || o.Address != "Arbat 10" || o.Lat == nil || o.TimeZone != "Europe/Moscow" {
				t.Fatalf("after a PATCH of the status: %+v", o)
			}
			a.do(t, "PATCH", "/v1/stores/nowhere", adminKey, map[string]any{"name": "X"}).problem(t, 404, kopilka.ENOTFOUND, "")

			// The programme: a PUT sends everything, a PATCH what it changes.
			r = a.do(t, "PUT", "/v1/programme", adminKey, map[string]any{"pending_days": 3})
			r.problem(t, 422, kopilka.EINVALID, "currency_name")
			if !strings.Contains(string(r.body), `"field":"rules"`) {
				t.Errorf("the refusal does not name rules: %s", r.body)
			}
			a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"pending_days": 3}).ok(t, 200, nil)
			whole := a.do(t, "GET", "/v1/programme", adminKey, nil)
			var prog kopilka.Programme
			a.do(t, "PUT", "/v1/programme", adminKey, whole.body).ok(t, 200, &prog)
			if prog.PendingDays != 3 {
				t.Fatalf("a GET sent back with PUT: %+v", prog)
			}
		})
	}
}

// What a second hostile review found, each now refused: support rebuilding
// a masked card number from search by its first digits; a replacement card
// for an erased member; an erased member's token working until the cache
// forgets it; an adjustment to an erased member; a rates PUT clearing a
// rate it was not sent.
func TestReview_ErasureSearchAndRates(t *testing.T) {
	a := newAPI(t, "sqlite")
	support := "support-key-review-0001"
	if _, err := a.svc.Access.CreateKey(sysCtx(), kopilka.APIKey{Name: "support", Role: kopilka.RoleSupport}, support); err != nil {
		t.Fatal(err)
	}
	m := a.createMember(t, map[string]any{"phone": "+79165550501", "name": "Vera"})
	card := m.Cards[0].Number
	var p struct {
		Items []kopilka.Member `json:"items"`
	}
	a.do(t, "GET", "/v1/members/search?card="+card[:6], support, nil).ok(t, 200, &p)
	if len(p.Items) != 0 {
		t.Fatalf("support found a member by a card's first digits: %+v", p.Items)
	}
	a.do(t, "GET", "/v1/members/search?card="+card, support, nil).ok(t, 200, &p)
	if len(p.Items) != 1 || strings.Contains(p.Items[0].Cards[0].Number, card[:12]) {
		t.Fatalf("support by the whole number: %+v", p.Items)
	}
	a.do(t, "GET", "/v1/members/search?card="+card[:6], adminKey, nil).ok(t, 200, &p)
	if len(p.Items) != 1 {
		t.Fatalf("an admin by the first digits: %+v", p.Items)
	}

	a.do(t, "POST", "/v1/auth/otp", "", map[string]any{"phone": "+79165550501"}).ok(t, 202, nil)
	var s kopilka.Session
	a.do(t, "POST", "/v1/auth/otp/verify", "", map[string]any{"phone": "+79165550501", "code": a.sent.code("+79165550501")}).ok(t, 200, &s)
	a.do(t, "GET", "/v1/me", s.Token, nil).ok(t, 200, nil) // the session is now in this instance's cache
	a.do(t, "POST", "/v1/members/"+m.ID+"/erase", adminKey, map[string]any{"reason": "asked"}).ok(t, 200, nil)
	a.do(t, "GET", "/v1/me", s.Token, nil).problem(t, 401, kopilka.EUNAUTHORIZED, "")
	a.do(t, "POST", "/v1/cards/"+card+"/replace", adminKey, nil).problem(t, 409, kopilka.ECONFLICT, "")
	a.do(t, "POST", "/v1/members/"+m.ID+"/adjustments", adminKey, map[string]any{"points": 5, "reason": "x"}).problem(t, 409, kopilka.ECONFLICT, "")

	a.do(t, "PUT", "/v1/partners/main/rates", adminKey, map[string]any{"earn_rate_percent": "2", "max_spend_percent": "20"}).ok(t, 200, nil)
	a.do(t, "PUT", "/v1/partners/main/rates", adminKey, map[string]any{"earn_rate_percent": "3"}).problem(t, 422, kopilka.EINVALID, "max_spend_percent")
	var pa kopilka.Partner
	a.do(t, "PUT", "/v1/partners/main/rates", adminKey, map[string]any{"earn_rate_percent": "3", "max_spend_percent": nil}).ok(t, 200, &pa)
	if pa.EarnRate == nil || pa.EarnRate.String() != "3" || pa.MaxSpend != nil {
		t.Fatalf("rates after a PUT of both: %+v", pa)
	}
}

// A key scoped to some of its partner's stores lists those stores only, in
// both store lists, as it reads them one by one (a review found it listed
// its partner's other stores).
func TestStores_AStoreScopedKeyListsItsStores(t *testing.T) {
	a := newAPI(t, "sqlite")
	var k kopilka.APIKey
	r := a.do(t, "POST", "/v1/keys", adminKey, map[string]any{"name": "store-1 manager", "role": "partner-admin", "partner_id": "main", "store_ids": []string{"store-1"}})
	if r.status != 201 {
		t.Skipf("a partner-admin key may not be scoped to stores: %s", r.body)
	}
	_ = json.Unmarshal(r.body, &k)
	for _, path := range []string{"/v1/stores", "/v1/partners/main/stores"} {
		var p struct {
			Items []kopilka.Store `json:"items"`
		}
		a.do(t, "GET", path, k.Secret, nil).ok(t, 200, &p)
		if len(p.Items) != 1 || p.Items[0].ID != "store-1" {
			t.Errorf("%s by a key of store-1: %+v", path, p.Items)
		}
	}
	a.do(t, "GET", "/v1/stores/s1", k.Secret, nil).problem(t, 404, kopilka.ENOTFOUND, "")
}

// Russian is often written with е for ё: search finds "Фёдор" by "федор"
// and "Федор" by "фёдор".
func TestMembers_SearchTakesЁAsЕ(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			fyodor := a.createMember(t, map[string]any{"phone": "+79165550601", "name": "Фёдор"})
			fedor := a.createMember(t, map[string]any{"phone": "+79165550602", "name": "Федор Иванов"})
			for q, want := range map[string][]string{"федор": {fedor.ID, fyodor.ID}, "ФЁДОР": {fedor.ID, fyodor.ID}, "иванов": {fedor.ID}} {
				var p struct {
					Items []kopilka.Member `json:"items"`
				}
				a.do(t, "GET", "/v1/members/search?name="+url.QueryEscape(q), adminKey, nil).ok(t, 200, &p)
				var got []string
				for _, m := range p.Items {
					got = append(got, m.ID)
				}
				if !slices.Equal(got, want) {
					t.Errorf("name=%s: %v, want %v", q, got, want)
				}
			}
		})
	}
}
