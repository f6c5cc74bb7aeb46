package kopilka_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
)

func pct(v int64) *kopilka.Percent { p := kopilka.Percent(v * kopilka.PercentScale); return &p }

func TestStore_OpenAt(t *testing.T) {
	msk, _ := time.LoadLocation("Europe/Moscow")
	at := func(day, hhmm string) time.Time { // day of the week of 2026-11-23 (a Monday)
		d := map[string]int{"mon": 23, "tue": 24, "wed": 25, "thu": 26, "fri": 27, "sat": 28, "sun": 29}[day]
		tm, err := time.ParseInLocation("2006-01-02 15:04", fmt.Sprintf("2026-11-%02d %s", d, hhmm), msk)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	o := kopilka.Store{Status: kopilka.StoreOpen, TimeZone: "Europe/Moscow", Hours: []kopilka.OpeningHours{
		{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "21:00"},
		{Days: []string{"sat"}, From: "22:00", To: "03:00"}, // a night opening into Sunday
		{Days: []string{"sun"}, From: "12:00", To: "24:00"},
	}}
	for _, c := range []struct {
		day, at string
		open    bool
	}{
		{"mon", "08:59", false}, {"mon", "09:00", true}, {"fri", "20:59", true}, {"fri", "21:00", false},
		{"sat", "12:00", false}, {"sat", "21:59", false}, {"sat", "22:00", true}, {"sat", "23:59", true},
		{"sun", "02:59", true}, {"sun", "03:00", false}, {"sun", "11:59", false}, {"sun", "12:00", true}, {"sun", "23:59", true},
		{"mon", "00:30", false}, // Sunday's window ends at 24:00, it does not run past midnight
	} {
		if got := o.OpenAt(at(c.day, c.at)); got != c.open {
			t.Errorf("%s %s Moscow: open %v, want %v", c.day, c.at, got, c.open)
		}
	}
	// The same instant read in UTC: Monday 06:30 UTC is 09:30 in Moscow.
	if !o.OpenAt(time.Date(2026, 11, 23, 6, 30, 0, 0, time.UTC)) {
		t.Error("Monday 06:30 UTC (09:30 Moscow): closed, want open")
	}
	always := kopilka.Store{Status: kopilka.StoreOpen}
	if !always.OpenAt(at("sun", "04:00")) {
		t.Error("a store without hours is closed; want always open")
	}
	always.Status = kopilka.StoreClosed
	if always.OpenAt(at("mon", "12:00")) {
		t.Error("a closed store is open")
	}
}

func TestStores_ReceiptsAtUnknownOrClosedStoresAreRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0 }))
		m := e.member("+79160000001")
		// Open Monday to Friday, 09:00 to 21:00 in Moscow; the clock is Sunday 1 March 2026, 12:00 Moscow.
		if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "weekdays", PartnerID: "main", Name: "Weekdays", TimeZone: "Europe/Moscow",
			Hours: []kopilka.OpeningHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, From: "09:00", To: "21:00"}}}); err != nil {
			t.Fatal(err)
		}
		r := receipt("r1", m.ID, 0, 100_00)
		r.StoreID = "nowhere"
		_, err := e.svc.Purchases.Confirm(e.ctx, r)
		wantCode(t, err, kopilka.EUNKNOWNSTORE, "store_id")
		_, err = e.svc.Purchases.Calculate(e.ctx, r)
		wantCode(t, err, kopilka.EUNKNOWNSTORE, "store_id")

		r.StoreID = "weekdays" // Sunday: closed by its hours
		_, err = e.svc.Purchases.Confirm(e.ctx, r)
		wantCode(t, err, kopilka.ESTORECLOSED, "store_id")
		e.clock.Add(18 * time.Hour) // Monday 06:00 Moscow: still closed
		_, err = e.svc.Purchases.Confirm(e.ctx, r)
		wantCode(t, err, kopilka.ESTORECLOSED, "store_id")
		e.clock.Add(3 * time.Hour) // Monday 09:00 Moscow
		if _, err := e.svc.Purchases.Confirm(e.ctx, r); err != nil {
			t.Fatalf("Monday 09:00 Moscow: %v", err)
		}

		// A closed store refuses new receipts; a replay still gets its first answer.
		if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "store-1", PartnerID: "main", Name: "One", Status: kopilka.StoreClosed}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Purchases.Confirm(e.ctx, receipt("r-before", m.ID, 0, 50_00))
		wantCode(t, err, kopilka.ESTORECLOSED, "store_id")
		if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "store-1", PartnerID: "main", Name: "One"}); err != nil {
			t.Fatal(err)
		}
		q1, err := e.svc.Purchases.Confirm(e.ctx, receipt("r2", m.ID, 0, 50_00))
		if err != nil {
			t.Fatal(err)
		}
		if q1.StoreID != "store-1" || q1.PartnerID != "main" {
			t.Errorf("quote names store %q partner %q, want store-1 main", q1.StoreID, q1.PartnerID)
		}
		if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: "main", Name: "Main", Status: kopilka.PartnerSuspended}); err != nil {
			t.Fatal(err)
		}
		q2, err := e.svc.Purchases.Confirm(e.ctx, receipt("r2", m.ID, 0, 50_00))
		if err != nil || q2.Earned != q1.Earned {
			t.Fatalf("replay at a suspended partner's store: %+v, %v; want the first answer", q2, err)
		}
		_, err = e.svc.Purchases.Confirm(e.ctx, receipt("r3", m.ID, 0, 50_00))
		wantCode(t, err, kopilka.ESTORECLOSED, "store_id")
		// A refund of an earlier purchase still goes through.
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "r2", kopilka.RefundRequest{RefundID: "back"}); err != nil {
			t.Fatalf("refund at a suspended partner: %v", err)
		}
		e.verify()
	})
}

func TestStores_Validation(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(nil))
		lat, badLon := 55.75, 181.0
		for _, c := range []struct {
			o     kopilka.Store
			field string
		}{
			{kopilka.Store{ID: "x", PartnerID: "nobody", Name: "X"}, "partner_id"},
			{kopilka.Store{ID: "x", PartnerID: "main"}, "name"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Lat: &lat}, "lat"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Lat: &lat, Lon: &badLon}, "lon"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", TimeZone: "Mars/Olympus"}, "time_zone"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Hours: []kopilka.OpeningHours{{From: "9", To: "21:00"}}}, "hours[0].from"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Hours: []kopilka.OpeningHours{{From: "09:00", To: "09:00"}}}, "hours[0].to"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Hours: []kopilka.OpeningHours{{Days: []string{"monday"}, From: "09:00", To: "10:00"}}}, "hours[0].days[0]"},
			{kopilka.Store{ID: "x", PartnerID: "main", Name: "X", Status: "gone"}, "status"},
		} {
			_, err := e.svc.Coalition.PutStore(e.ctx, c.o)
			wantCode(t, err, kopilka.EINVALID, c.field)
		}
		// A store does not move to another partner.
		e.partner("other")
		_, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "store-1", PartnerID: "other", Name: "Moved"})
		wantCode(t, err, kopilka.ECONFLICT, "partner_id")
		if _, err := e.svc.Coalition.Store(e.ctx, "x"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Errorf("a refused store was stored: %v", err)
		}
	})
}

func TestPartners_OwnRatesAndCategories(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0 }))
		if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: "fuel", Name: "Fuel", EarnRate: pct(1), MaxSpend: pct(10),
			Categories: []string{"fuel", "coffee"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: "pump-1", PartnerID: "fuel", Name: "Pump 1"}); err != nil {
			t.Fatal(err)
		}
		m := e.member("+79160000002")
		e.credit(m.ID, 10_000)
		line := func(n int, cat string, amount int64) kopilka.Line {
			return kopilka.Line{Line: n, SKU: cat, Category: cat, Quantity: kopilka.QuantityScale, Price: amount, Amount: amount}
		}
		r := kopilka.Receipt{ReceiptID: "f1", StoreID: "pump-1", MemberID: m.ID, SpendPoints: 1000, SpendMode: kopilka.SpendUpTo,
			Lines: []kopilka.Line{line(1, "fuel", 3000_00), line(2, "food", 1000_00)}}
		q, err := e.svc.Purchases.Calculate(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		// Fuel's own 1 % on what is left to pay of fuel; nothing on food it does not sell.
		// Points may pay 10 % of the receipt (400.00), all of it on the fuel line.
		if q.MaxSpend != 400 || q.Lines[0].Spent != 400 || q.Lines[1].SpendCap != 0 || q.Lines[1].Earned != 0 {
			t.Fatalf("max spend %d, food cap %d, food earned %d; want 400, 0, 0: %+v", q.MaxSpend, q.Lines[1].SpendCap, q.Lines[1].Earned, q)
		}
		if q.Lines[0].Earned != (3000_00-400_00)/100/100 {
			t.Errorf("fuel line earned %d, want 1%% of 2600.00 = 26", q.Lines[0].Earned)
		}
		// The same receipt at the main partner's store: the programme's 5 % and 30 %.
		r.StoreID = "store-1"
		q, err = e.svc.Purchases.Calculate(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if q.MaxSpend != 1200 || q.Earned != (4000_00-1000_00)*5/100/100 {
			t.Errorf("at the main store: max spend %d earned %d, want 1200 and 150", q.MaxSpend, q.Earned)
		}
		// Partner rates change alone; the rest of the partner stays.
		p, err := e.svc.Coalition.SetPartnerRates(e.ctx, "fuel", pct(2), nil)
		if err != nil || *p.EarnRate != *pct(2) || p.MaxSpend != nil || len(p.Categories) != 2 {
			t.Fatalf("set rates: %+v %v", p, err)
		}
		// A rule limited to a partner.
		if _, err := e.svc.Programme.PutRule(e.ctx, kopilka.Rule{ID: "fuel-bonus", Kind: kopilka.RulePerReceipt, Points: 7, Partners: []string{"fuel"}}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(10 * time.Second) // past the programme cache
		r.StoreID, r.SpendPoints = "pump-1", 0
		q, err = e.svc.Purchases.Calculate(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if q.Earned != 3000_00*2/100/100+7 {
			t.Errorf("at fuel after the change: earned %d, want 60 + 7", q.Earned)
		}
		r.StoreID = "store-1"
		if q, _ = e.svc.Purchases.Calculate(e.ctx, r); q.Earned != 4000_00*5/100/100 {
			t.Errorf("at main: earned %d, want 200 without fuel's rule", q.Earned)
		}
	})
}

// wantCode fails unless err has the code and names the field.
func wantCode(t *testing.T, err error, code kopilka.Code, field string) {
	t.Helper()
	e, ok := err.(*kopilka.Error)
	if !ok || e.Code != code {
		t.Errorf("got %v, want %s", err, code)
		return
	}
	if field != "" && (len(e.Fields) == 0 || e.Fields[0].Field != field) {
		t.Errorf("got %v, want field %s", err, field)
	}
}

// TestSettlement_AMonthAcrossThreePartners runs October 2026 (Moscow time)
// of purchases at three partners, with refunds of September's purchases in
// October and of October's in November, and checks each partner's
// statement against what the tills were told and against the ledger.
func TestSettlement_AMonthAcrossThreePartners(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0; p.TimeZone = "Europe/Moscow" }))
		msk, _ := time.LoadLocation("Europe/Moscow")
		e.clock.t = time.Date(2026, 9, 28, 10, 0, 0, 0, msk).UTC()
		e.partner("a", "a-1", "a-2")
		e.partner("b", "b-1")
		e.partner("c", "c-1")
		if _, err := e.svc.Coalition.SetPartnerRates(e.ctx, "b", pct(10), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Coalition.SetPartnerRates(e.ctx, "c", nil, pct(50)); err != nil {
			t.Fatal(err)
		}
		stores := map[string]string{"a-1": "a", "a-2": "a", "b-1": "b", "c-1": "c"}
		storeIDs := []string{"a-1", "a-2", "b-1", "c-1"}
		var members []string
		for i := range 12 {
			m := e.member(fmt.Sprintf("+7916100%04d", i))
			e.credit(m.ID, 2000)
			members = append(members, m.ID)
		}
		rng := rand.New(rand.NewPCG(5, 10))
		octFrom := time.Date(2026, 10, 1, 0, 0, 0, 0, msk)
		octTo := time.Date(2026, 11, 1, 0, 0, 0, 0, msk)
		inOct := func() bool { now := e.clock.Now(); return !now.Before(octFrom) && now.Before(octTo) }

		type want struct{ issued, redeemed, refIssued, refRedeemed, purchases, refunds int64 }
		wants := map[string]*want{"a": {}, "b": {}, "c": {}}
		var receipts []kopilka.Quote
		n := 0
		for e.clock.Now().Before(time.Date(2026, 11, 4, 0, 0, 0, 0, msk)) {
			// A few purchases every 7 hours, and now and then a refund of an earlier one.
			for range 1 + rng.IntN(3) {
				n++
				store := storeIDs[rng.IntN(len(storeIDs))]
				r := randomReceipt(rng, fmt.Sprintf("r%d", n), members[rng.IntN(len(members))], 0)
				r.StoreID, r.SpendMode = store, kopilka.SpendUpTo
				if rng.IntN(2) == 0 {
					r.SpendPoints = int64(1 + rng.IntN(300))
				}
				q, err := e.svc.Purchases.Confirm(e.ctx, r)
				if kopilka.ErrorCode(err) == kopilka.EINSUFFICIENT {
					continue
				} else if err != nil {
					t.Fatalf("confirm %s: %v", r.ReceiptID, err)
				}
				receipts = append(receipts, q)
				if inOct() {
					w := wants[stores[store]]
					w.purchases++
					w.issued += q.Earned
					w.redeemed += q.Spent
				}
			}
			if len(receipts) > 3 && rng.IntN(3) == 0 {
				i := rng.IntN(len(receipts))
				q := receipts[i]
				receipts = append(receipts[:i], receipts[i+1:]...)
				req := kopilka.RefundRequest{RefundID: "back-" + q.ReceiptID}
				if rng.IntN(2) == 0 { // the first line only
					req.Lines = []kopilka.RefundLine{{Line: q.Lines[0].Line}}
				}
				res, err := e.svc.Purchases.Refund(e.ctx, "", q.ReceiptID, req)
				if kopilka.ErrorCode(err) == kopilka.EINSUFFICIENT {
					continue // the member has spent the points the refund would take back
				} else if err != nil {
					t.Fatalf("refund %s: %v", q.ReceiptID, err)
				}
				if inOct() {
					w := wants[q.PartnerID]
					w.refunds++
					w.refIssued += res.EarnedReversed
					w.refRedeemed += res.SpentReturned
				}
			}
			e.clock.Add(7 * time.Hour)
		}
		e.verify()

		// October is over, but not by the hour of grace yet at 00:30 on 1 November... we are past it now.
		ledger := e.ledgerByPartner(members, octFrom, octTo)
		var total int64
		for _, id := range []string{"a", "b", "c"} {
			st, err := e.svc.Coalition.Statement(e.ctx, id, "2026-10", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			w := wants[id]
			got := want{st.PointsIssued, st.PointsRedeemed, st.RefundedIssued, st.RefundedRedeemed, st.Purchases, st.Refunds}
			if got != *w {
				t.Errorf("partner %s: statement %+v, the tills were told %+v", id, got, *w)
			}
			if w.purchases == 0 || w.refunds == 0 || w.redeemed == 0 {
				t.Errorf("partner %s: the month has %d purchases, %d refunds, %d redeemed; the test needs some of each", id, w.purchases, w.refunds, w.redeemed)
			}
			// The ledger: every member's transactions at the partner's stores in October.
			if l := ledger[id]; l.change != st.NetIssued-st.NetRedeemed || l.count != st.Purchases+st.Refunds || l.count != int64(len(st.Entries)) {
				t.Errorf("partner %s: members' balances moved %d in %d transactions; statement says %d − %d in %d+%d (%d entries)",
					id, l.change, l.count, st.NetIssued, st.NetRedeemed, st.Purchases, st.Refunds, len(st.Entries))
			}
			if st.NetAmount != (st.NetRedeemed-st.NetIssued)*100 || st.Status != kopilka.StatementOpen {
				t.Errorf("partner %s: net amount %d status %s", id, st.NetAmount, st.Status)
			}
			total += st.NetIssued
			// Closing freezes it; closing again and reading again give the same.
			closed, err := e.svc.Coalition.CloseSettlement(e.ctx, id, "2026-10")
			if err != nil {
				t.Fatal(err)
			}
			again, err := e.svc.Coalition.CloseSettlement(e.ctx, id, "2026-10")
			if err != nil {
				t.Fatal(err)
			}
			read, err := e.svc.Coalition.Statement(e.ctx, id, "2026-10", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			st.Status, st.ClosedAt, st.ClosedBy = kopilka.StatementClosed, closed.ClosedAt, kopilka.System("test").Actor()
			for _, x := range []kopilka.Statement{closed, again, read} {
				if a, b := jsonOf(t, x), jsonOf(t, st); a != b {
					t.Errorf("partner %s: closed statement\n%s\nwant\n%s", id, a, b)
				}
			}
		}
		if total == 0 {
			t.Error("no points were issued in October")
		}
		// Frozen: a new point value and time zone change nothing of a closed month,
		// and its entries still add up to its totals.
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error { p.PointValue, p.TimeZone = 50, "UTC"; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b", "c"} {
			st, err := e.svc.Coalition.Statement(e.ctx, id, "2026-10", time.Time{}, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var issued, redeemed int64
			for _, x := range st.Entries {
				issued += x.Issued
				redeemed += x.Redeemed
			}
			if st.PointValue != 100 || !st.From.Equal(octFrom) || !st.To.Equal(octTo) || issued != st.NetIssued || redeemed != st.NetRedeemed ||
				st.OwedByPartner != st.NetIssued*100 || st.Status != kopilka.StatementClosed {
				t.Errorf("partner %s after the programme changed: %+v (entries add to %d issued, %d redeemed)", id, st, issued, redeemed)
			}
			// An open span is read with today's point value.
			open, err := e.svc.Coalition.Statement(e.ctx, id, "", octFrom, octTo)
			if err != nil || open.PointValue != 50 || open.NetIssued != st.NetIssued || open.OwedByPartner != st.NetIssued*50 {
				t.Errorf("partner %s, October as an open span: %+v %v", id, open, err)
			}
		}
		// A month not yet over, or over by less than the grace, cannot be closed.
		_, err := e.svc.Coalition.CloseSettlement(e.ctx, "a", "2026-11")
		wantCode(t, err, kopilka.EINVALID, "period")
		_, err = e.svc.Coalition.CloseSettlement(e.ctx, "nobody", "2026-10")
		wantCode(t, err, kopilka.ENOTFOUND, "")
	})
}

func jsonOf(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type partnerLedger struct{ change, count int64 }

// ledgerByPartner sums the members' transactions at each partner's stores
// posted in [from, to), as the members' histories show them.
func (e *env) ledgerByPartner(members []string, from, to time.Time) map[string]partnerLedger {
	e.t.Helper()
	out := map[string]partnerLedger{}
	for _, id := range members {
		var cur *kopilka.Cursor
		for {
			items, next, err := e.svc.Ledger.History(e.ctx, id, cur, 100)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, x := range items {
				if x.PartnerID == "" || x.CreatedAt.Before(from) || !x.CreatedAt.Before(to) {
					continue
				}
				l := out[x.PartnerID]
				l.change += x.Available + x.Pending
				l.count++
				out[x.PartnerID] = l
			}
			if next == nil {
				break
			}
			cur = next
		}
	}
	return out
}

// A receipt id is unique within its partner (issue 11, item 6): partner A's
// till numbering a receipt "0001" does not take that id from partner B,
// each till reads, refunds and cancels only its own "0001", a till cannot
// learn which ids another partner has used, and an operator names the
// partner when two have the id.
func TestReceipts_AnIDIsUniqueWithinItsPartner(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0 }))
		e.partner("other", "other-1")
		m := e.member("+79160000080")
		tillOf := func(partner string) context.Context {
			return kopilka.NewContextWithPrincipal(context.Background(),
				kopilka.Principal{Kind: "key", ID: "till-" + partner, Name: "till", Role: kopilka.RolePOS, PartnerID: partner})
		}
		a, b := tillOf("main"), tillOf("other")
		ra := receipt("0001", m.ID, 0, 100_00)
		rb := receipt("0001", m.ID, 0, 300_00, 50_00)
		rb.StoreID = "other-1"
		qa, err := e.svc.Purchases.Confirm(a, ra)
		if err != nil {
			t.Fatal(err)
		}
		qb, err := e.svc.Purchases.Confirm(b, rb)
		if err != nil || qb.Earned != 17 || qb.PartnerID != "other" {
			t.Fatalf("partner B's own receipt 0001 after A's: %+v %v", qb, err)
		}
		// Replays still get their first answers, each within its partner.
		if again, err := e.svc.Purchases.Confirm(a, ra); err != nil || again.Earned != qa.Earned {
			t.Fatalf("A's replay: %+v %v", again, err)
		}
		if _, err := e.svc.Purchases.Confirm(b, receipt("0001", m.ID, 0, 1_00)); kopilka.ErrorCode(err) != kopilka.EUNKNOWNSTORE && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("B's till at A's store: %v", err)
		}
		for till, want := range map[context.Context]int64{a: qa.Earned, b: qb.Earned} {
			q, err := e.svc.Purchases.Purchase(till, "", "0001")
			if err != nil || q.Earned != want {
				t.Fatalf("a till reading its own 0001: %+v %v, want %d earned", q, err, want)
			}
		}
		res, err := e.svc.Purchases.Cancel(b, "", "0001")
		if err != nil || res.EarnedReversed != qb.Earned {
			t.Fatalf("B cancels its 0001: %+v %v", res, err)
		}
		if q, _ := e.svc.Purchases.Purchase(a, "", "0001"); q.Status != kopilka.PurchaseConfirmed {
			t.Fatalf("B's cancel touched A's 0001: %+v", q)
		}
		if _, err := e.svc.Purchases.Refund(b, "main", "0001", kopilka.RefundRequest{RefundID: "x"}); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			t.Fatalf("B naming A's receipt: %v", err)
		}
		// An operator names the partner.
		if _, err := e.svc.Purchases.Purchase(e.ctx, "", "0001"); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("an operator naming no partner: %v", err)
		}
		if q, err := e.svc.Purchases.Purchase(e.ctx, "other", "0001"); err != nil || q.Status != kopilka.PurchaseCancelled {
			t.Fatalf("an operator naming B: %+v %v", q, err)
		}
		if b := e.balance(m.ID); b.Available != qa.Earned {
			t.Fatalf("balance %+v, want A's %d only", b, qa.Earned)
		}
		e.verify()
	})
}

// A statement whose amounts pass an int64 of minor units is refused, not
// wrapped (a hostile review had B's settlement say the programme owed it
// 8.4·10^18 after ten receipts of 10^12 points at a point value of 10^6).
func TestSettlement_AmountsThatOverflowAreRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.PointValue, p.EarnRate, p.PendingDays = 1_000_000, 0, 0
			p.MaxReceiptPoints, p.MaxBalance = kopilka.PointsCeiling, kopilka.PointsCeiling
			p.Rules = []kopilka.Rule{{ID: "pa", Kind: kopilka.RulePerAmount, Per: 1, Points: 1_000_000}}
		}))
		for i := range 10 {
			m := e.member(fmt.Sprintf("+791600030%02d", i))
			if q := e.confirm(receipt(fmt.Sprintf("big-%d", i), m.ID, 0, 1_000_000)); q.Earned != 1_000_000_000_000 {
				t.Fatalf("earned %d", q.Earned)
			}
		}
		period := e.clock.Now().Format("2006-01")
		_, err := e.svc.Coalition.Statement(e.ctx, "main", period, time.Time{}, time.Time{})
		var pe *kopilka.Error
		if !errorAs(err, &pe) || pe.Code != kopilka.EINVALID || pe.Fields[0].Field != "period" {
			t.Fatalf("a statement of 10^13 points at 10^6 each: %v", err)
		}
		e.verify()
	})
}
