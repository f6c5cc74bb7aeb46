package http_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/cases"
	"github.com/kopilka/kopilka/reports"
)

type caseReply struct {
	Case        cases.Case          `json:"case"`
	Transaction kopilka.Transaction `json:"transaction"`
}

// The service centre opens a case against a member and a receipt, notes
// it, compensates from it (once per key, within support's limits),
// resolves and reopens it; a case resolved as it is opened counts as
// resolved at the first contact.
func TestCases_OpenNoteCompensateResolve(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			support := a.operator(t, "help@example.com", kopilka.RoleSupport)
			var m, other kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79161112233"}).ok(t, 201, &m)
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79161112234"}).ok(t, 201, &other)
			rc := map[string]any{"receipt_id": "r-1", "store_id": "store-1", "member_id": m.ID,
				"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 10000, "amount": 10000}}}
			a.do(t, "POST", "/v1/purchases", posKey, rc).ok(t, 200, nil)

			open := func(body map[string]any) reply { return a.do(t, "POST", "/v1/cases", support, body) }
			open(map[string]any{"member_id": m.ID, "kind": "rant", "subject": "x"}).problem(t, 422, kopilka.EINVALID, "kind")
			open(map[string]any{"member_id": m.ID, "kind": "dispute", "subject": ""}).problem(t, 422, kopilka.EINVALID, "subject")
			open(map[string]any{"member_id": other.ID, "kind": "dispute", "subject": "x", "receipt_id": "r-1"}).problem(t, 404, kopilka.ENOTFOUND, "receipt_id")
			open(map[string]any{"member_id": "nobody", "kind": "dispute", "subject": "x"}).problem(t, 404, kopilka.ENOTFOUND, "")
			var c cases.Case
			open(map[string]any{"member_id": m.ID, "kind": "dispute", "subject": "points for r-1 missing", "receipt_id": "r-1",
				"note": "the member says the receipt earned nothing"}).ok(t, 201, &c)
			if c.Status != cases.StatusOpen || c.PartnerID != "main" || len(c.Notes) != 1 || c.Channel != "phone" || c.FirstContact {
				t.Fatalf("opened case %+v", c)
			}
			a.do(t, "POST", "/v1/cases/"+c.ID+"/notes", support, map[string]any{"text": "checked the till's log"}).ok(t, 200, &c)

			comp := func(key string, points int64) reply {
				return a.do(t, "POST", "/v1/cases/"+c.ID+"/compensations", support, map[string]any{"points": points, "reason": "goodwill"},
					"Idempotency-Key", key)
			}
			var first, again caseReply
			comp("k-1", 300).ok(t, 201, &first)
			comp("k-1", 300).ok(t, 201, &again)
			comp("k-1", 301).problem(t, 409, kopilka.EIDEMPOTENCY, "Idempotency-Key")
			comp("k-2", 1001).problem(t, 403, kopilka.EFORBIDDEN, "points")
			if first.Transaction.ID == "" || again.Transaction.ID != first.Transaction.ID || again.Case.Compensated != 300 || len(again.Case.Notes) != 3 {
				t.Fatalf("a replayed compensation: first %+v, again %+v", first, again)
			}
			var bal kopilka.BalanceView
			a.do(t, "GET", "/v1/members/"+m.ID+"/balance", adminKey, nil).ok(t, 200, &bal)
			var hist struct{ Items []kopilka.Transaction }
			a.do(t, "GET", "/v1/members/"+m.ID+"/transactions", adminKey, nil).ok(t, 200, &hist)
			found := false
			for _, tx := range hist.Items {
				if tx.ID == first.Transaction.ID {
					found = tx.Available == 300 && tx.Reason == "case "+c.ID[:8]+": goodwill"
				}
			}
			if !found {
				t.Fatalf("the compensation in the member's history: %+v", hist.Items)
			}

			a.do(t, "POST", "/v1/cases/"+c.ID+"/resolve", support, map[string]any{"resolution": "points given"}).ok(t, 200, &c)
			a.do(t, "POST", "/v1/cases/"+c.ID+"/resolve", support, map[string]any{"resolution": "again"}).problem(t, 409, kopilka.ECONFLICT, "")
			comp("k-3", 10).problem(t, 409, kopilka.ECONFLICT, "")
			comp("k-1", 300).ok(t, 201, &again) // a late retry of the first is still answered
			var reopened cases.Case
			a.do(t, "POST", "/v1/cases/"+c.ID+"/reopen", support, map[string]any{"reason": "the member called back"}).ok(t, 200, &reopened)
			if reopened.Status != cases.StatusOpen || reopened.ResolvedAt != nil || reopened.Resolution != "" {
				t.Fatalf("reopened %+v", reopened)
			}
			a.do(t, "POST", "/v1/cases/"+c.ID+"/resolve", support, map[string]any{"resolution": "explained"}).ok(t, 200, &c)

			var quick cases.Case
			open(map[string]any{"member_id": m.ID, "kind": "request", "subject": "how do I spend points", "channel": "store",
				"resolution": "explained at the desk"}).ok(t, 201, &quick)
			if quick.Status != cases.StatusResolved || !quick.FirstContact {
				t.Fatalf("resolved at once: %+v", quick)
			}
			open(map[string]any{"member_id": m.ID, "kind": "complaint", "subject": "rude cashier"}).ok(t, 201, nil)

			var st cases.Stats
			a.do(t, "GET", "/v1/cases/stats", support, nil).ok(t, 200, &st)
			if st.Opened != 3 || st.Open != 1 || st.Resolved != 2 || st.FirstContact != 1 || st.FirstContactPercent != 50 ||
				st.OpenNow != 1 || st.CompensatedPoints != 300 {
				t.Fatalf("stats %+v", st)
			}
			var page struct {
				Items      []cases.Case `json:"items"`
				NextCursor string       `json:"next_cursor"`
			}
			a.do(t, "GET", "/v1/cases?member_id="+m.ID+"&status=open", support, nil).ok(t, 200, &page)
			if len(page.Items) != 1 || page.Items[0].Subject != "rude cashier" {
				t.Fatalf("open cases %+v", page.Items)
			}
			a.do(t, "GET", "/v1/cases?limit=2", support, nil).ok(t, 200, &page)
			if len(page.Items) != 2 || page.NextCursor == "" {
				t.Fatalf("first page %+v", page)
			}
			a.do(t, "GET", "/v1/cases?limit=2&cursor="+page.NextCursor, support, nil).ok(t, 200, &page)
			if len(page.Items) != 1 || page.Items[0].ID != c.ID {
				t.Fatalf("second page %+v", page.Items)
			}
			// Every change is in the audit log, by the operator.
			var log struct{ Items []kopilka.AuditEntry }
			a.do(t, "GET", "/v1/audit?target="+c.ID, adminKey, nil).ok(t, 200, &log)
			if len(log.Items) < 8 {
				t.Fatalf("audit entries of the case: %d", len(log.Items))
			}
		})
	}
}

// Many compensations at once from support never pass the per-member daily
// limit, and each key compensates once.
func TestCases_ConcurrentCompensationsKeepTheLimits(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			support := a.operator(t, "help@example.com", kopilka.RoleSupport)
			var m kopilka.Member
			a.do(t, "POST", "/v1/members", adminKey, map[string]any{"phone": "+79161112235"}).ok(t, 201, &m)
			var c cases.Case
			a.do(t, "POST", "/v1/cases", support, map[string]any{"member_id": m.ID, "kind": "complaint", "subject": "late points"}).ok(t, 201, &c)
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each key twice: a till-style retry.
					key := fmt.Sprint("k-", i%15)
					a.do(t, "POST", "/v1/cases/"+c.ID+"/compensations", support, map[string]any{"points": 200, "reason": "sorry"}, "Idempotency-Key", key)
				}()
			}
			wg.Wait()
			var got cases.Case
			a.do(t, "GET", "/v1/cases/"+c.ID, support, nil).ok(t, 200, &got)
			var bal kopilka.BalanceView
			a.do(t, "GET", "/v1/members/"+m.ID+"/balance", adminKey, nil).ok(t, 200, &bal)
			notes := 0
			for _, n := range got.Notes {
				if n.Kind == "compensation" {
					notes++
				}
			}
			// 15 keys of 200 points: the member's 2000 a day admits 10.
			if got.Compensated != 2000 || bal.Available != 2000 || notes != 10 {
				t.Fatalf("compensated %d, balance %d, notes %d; want 2000, 2000, 10", got.Compensated, bal.Available, notes)
			}
		})
	}
}

// The overview counts members, this month's points by kind, what is
// outstanding and its value, today's purchases and open cases.
func TestOverview_TheProgrammeAtAGlance(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			a.do(t, "PATCH", "/v1/programme", adminKey, map[string]any{"pending_days": 0}).ok(t, 200, nil)
			m := a.createMember(t, map[string]any{"phone": "+79161112240"})
			a.createMember(t, map[string]any{"phone": "+79161112241"})
			a.credit(t, m.ID, 100)
			// 1,000.00 earns 5 % = 50 points; 30 points pay part of it.
			a.do(t, "POST", "/v1/purchases", posKey, map[string]any{"receipt_id": "o-1", "store_id": "store-1", "member_id": m.ID, "spend_points": 30,
				"lines": []map[string]any{{"line": 1, "sku": "x", "quantity": "1", "price": 100000, "amount": 100000}}}).ok(t, 200, nil)
			a.do(t, "POST", "/v1/cases", adminKey, map[string]any{"member_id": m.ID, "kind": "request", "subject": "x"}).ok(t, 201, nil)
			var o reports.Overview
			a.do(t, "GET", "/v1/overview", adminKey, nil).ok(t, 200, &o)
			var b kopilka.BalanceView
			a.do(t, "GET", "/v1/members/"+m.ID+"/balance", adminKey, nil).ok(t, 200, &b)
			if o.Members != 2 || o.NewMembers != 2 || o.Active30 != 1 || o.PurchasesToday != 1 || o.OpenCases != 1 ||
				o.Adjusted != 100 || o.Spent != 30 || o.Issued == 0 || o.Expired != 0 ||
				o.Outstanding != b.Available || o.Outstanding != 100-30+o.Issued || o.OutstandingValue != o.Outstanding*100 {
				t.Fatalf("overview %+v (balance %+v)", o, b)
			}
			a.do(t, "GET", "/v1/overview", posKey, nil).problem(t, 403, kopilka.EFORBIDDEN, "")
		})
	}
}

// A receipt as the back office shows it: the lines as sold, the card
// (masked for support) and the refunds, oldest first, on both databases.
func TestReceipt_LinesCardAndRefunds(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			a := newAPI(t, d)
			m := a.createMember(t, map[string]any{"phone": "+79161112260"})
			card := m.Cards[0].Number
			a.do(t, "POST", "/v1/purchases", posKey, map[string]any{"receipt_id": "v-1", "store_id": "store-1", "card_number": card,
				"lines": []map[string]any{{"line": 1, "sku": "tea", "category": "drinks", "quantity": "2", "price": 5000, "amount": 10000},
					{"line": 2, "sku": "cake", "quantity": "1", "price": 3000, "amount": 3000}}}).ok(t, 200, nil)
			for _, id := range []string{"r-b", "r-a"} {
				line := map[string]int{"r-b": 1, "r-a": 2}[id]
				a.do(t, "POST", "/v1/purchases/v-1/refunds", posKey, map[string]any{"refund_id": id, "lines": []map[string]any{{"line": line}}}).ok(t, 200, nil)
			}
			v, err := a.svc.Purchases.Receipt(sysCtx(), "", "v-1")
			if err != nil || len(v.Lines) != 2 || v.Lines[0].SKU != "tea" || v.Card != card || len(v.Refunds) != 2 ||
				v.Refunds[0].RefundID != "r-b" || v.Refunds[1].RefundID != "r-a" || v.Quote.Status != kopilka.PurchaseRefunded {
				t.Fatalf("receipt view %+v %v", v, err)
			}
			ctx := kopilka.NewContextWithPrincipal(sysCtx(), kopilka.Principal{Kind: "operator", ID: "x", Role: kopilka.RoleSupport})
			if v, err := a.svc.Purchases.Receipt(ctx, "", "v-1"); err != nil || v.Card == card || v.Card[len(v.Card)-4:] != card[len(card)-4:] {
				t.Fatalf("support's view of the card: %q %v", v.Card, err)
			}
			other := kopilka.NewContextWithPrincipal(sysCtx(), kopilka.Principal{Kind: "key", ID: "y", Role: kopilka.RolePartnerAdmin, PartnerID: "other"})
			if _, err := a.svc.Purchases.Receipt(other, "", "v-1"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				t.Fatalf("another partner's view: %v", err)
			}
		})
	}
}
