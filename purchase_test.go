package kopilka_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/jobs"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/storage"
)

func TestPrice_ThousandAtFivePercentEarnsFiftyPoints(t *testing.T) {
	p := testProgramme(nil) // 5 %, a point worth 1.00
	q, err := pricing.PriceReceipt(p, receipt("r", "m", 0, 100000), 0)
	if err != nil {
		t.Fatal(err)
	}
	if q.Earned != 50 || q.Lines[0].Earned != 50 || q.Spent != 0 {
		t.Fatalf("earned %d (line %d), spent %d; want 50", q.Earned, q.Lines[0].Earned, q.Spent)
	}
}

func TestPrice_EarnsOnlyOnThePartPaidWithMoney(t *testing.T) {
	p := testProgramme(func(p *kopilka.Programme) {
		p.EarnRate = 10 * kopilka.PercentScale
		p.MaxSpend = 50 * kopilka.PercentScale
	})
	// 1,000.00 receipt, 200 points pay 200.00: 800.00 is paid with money, 10 % of it is 80.
	q, err := pricing.PriceReceipt(p, receipt("r", "m", 200, 60000, 40000), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if q.Earned != 80 || q.Paid != 80000 {
		t.Fatalf("earned %d on paid %d; want 80 on 80000", q.Earned, q.Paid)
	}
	// Spent points spread in proportion to the lines' amounts: 120 and 80.
	if q.Lines[0].Spent != 120 || q.Lines[1].Spent != 80 || q.Lines[0].Earned != 48 || q.Lines[1].Earned != 32 {
		t.Fatalf("lines = %+v", q.Lines)
	}
}

func TestPrice_SpendLimitsAndRefusals(t *testing.T) {
	p := testProgramme(nil) // points pay at most 30 %
	r := receipt("r", "m", 0, 10000, 5000)
	q, err := pricing.PriceReceipt(p, r, 1000)
	if err != nil || q.MaxSpend != 45 {
		t.Fatalf("max spend = %d, %v; want 45 (30 %% of 150.00)", q.MaxSpend, err)
	}
	q, _ = pricing.PriceReceipt(p, r, 20)
	if q.MaxSpend != 20 {
		t.Fatalf("max spend with 20 points available = %d", q.MaxSpend)
	}
	r.SpendPoints = 46
	if _, err := pricing.PriceReceipt(p, r, 1000); kopilka.ErrorCode(err) != kopilka.ESPENDLIMIT {
		t.Fatalf("spend 46 of max 45: %v, want spend-limit-exceeded", err)
	}
	r.SpendPoints = 21
	if _, err := pricing.PriceReceipt(p, r, 20); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
		t.Fatalf("spend 21 of 20 available: %v, want insufficient-points", err)
	}
}

func TestPrice_PointsNeverMakeALineNegative(t *testing.T) {
	p := testProgramme(func(p *kopilka.Programme) { p.MaxSpend = 100 * kopilka.PercentScale })
	// A 0.50 line cannot take a whole point worth 1.00; the big line takes them all.
	q, err := pricing.PriceReceipt(p, receipt("r", "m", 100, 50, 10000), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if q.MaxSpend != 100 || q.Lines[0].Spent != 0 || q.Lines[1].Spent != 100 || q.Lines[0].Paid != 50 || q.Lines[1].Paid != 0 {
		t.Fatalf("quote = %+v", q)
	}
}

func TestPrice_RoundingRules(t *testing.T) {
	for _, c := range []struct {
		rule kopilka.Rounding
		want int64
	}{{kopilka.RoundDown, 12}, {kopilka.RoundHalfUp, 13}, {kopilka.RoundUp, 13}} {
		p := testProgramme(func(p *kopilka.Programme) { p.Rounding = c.rule })
		q, err := pricing.PriceReceipt(p, receipt("r", "m", 0, 25100), 0) // 5 % of 251.00 = 12.55 points
		if err != nil || q.Earned != c.want {
			t.Errorf("%s: earned %d, %v; want %d", c.rule, q.Earned, err, c.want)
		}
	}
}

func TestConfirm_ReplayReturnsTheFirstResultAndChangesNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(nil))
		m := e.member("+79160000001")
		e.credit(m.ID, 100)
		r := receipt("r1", m.ID, 30, 50000)
		first, err := e.svc.Purchases.Confirm(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		b := e.balance(m.ID)
		again, err := e.svc.Purchases.Confirm(e.ctx, r)
		if err != nil || !reflect.DeepEqual(first, again) {
			t.Fatalf("replay = %+v, %v; want %+v", again, err, first)
		}
		if e.balance(m.ID) != b {
			t.Fatal("a replay moved the balance")
		}
		r.Lines[0].Amount = 40000
		if _, err := e.svc.Purchases.Confirm(e.ctx, r); kopilka.ErrorCode(err) != kopilka.ERECEIPT {
			t.Fatalf("same id, another body: %v, want receipt-conflict", err)
		}
		e.verify()
	})
}

func TestConfirm_CardOfAnyStatusIsCheckedAtTheTill(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(nil))
		m := e.member("+79160000001")
		r := receipt("r1", "", 0, 1000)
		r.CardNumber = "2999999999999999"
		if _, err := e.svc.Purchases.Confirm(e.ctx, r); kopilka.ErrorCode(err) != kopilka.EUNKNOWNCARD {
			t.Fatalf("unknown card: %v", err)
		}
		old := m.Cards[0].Number
		fresh, err := e.svc.Members.ReplaceCard(e.ctx, old, "")
		if err != nil {
			t.Fatal(err)
		}
		r.CardNumber = old
		if _, err := e.svc.Purchases.Confirm(e.ctx, r); kopilka.ErrorCode(err) != kopilka.EBLOCKEDCARD {
			t.Fatalf("replaced card: %v, want blocked-card", err)
		}
		r.CardNumber = fresh.Number
		if q, err := e.svc.Purchases.Confirm(e.ctx, r); err != nil || q.MemberID != m.ID {
			t.Fatalf("new card: %+v, %v", q, err)
		}
		// A quote is checked like a new purchase even when its receipt id was confirmed.
		r.CardNumber = old
		if _, err := e.svc.Purchases.Calculate(e.ctx, r); kopilka.ErrorCode(err) != kopilka.EBLOCKEDCARD {
			t.Fatalf("quote with a replaced card under a confirmed receipt id: %v, want blocked-card", err)
		}
		r.CardNumber = fresh.Number
		if _, err := e.svc.Members.SetMemberStatus(e.ctx, m.ID, kopilka.StatusBlocked); err != nil {
			t.Fatal(err)
		}
		r.ReceiptID = "r2"
		if _, err := e.svc.Purchases.Confirm(e.ctx, r); kopilka.ErrorCode(err) != kopilka.EBLOCKEDMEMBER {
			t.Fatalf("blocked member: %v", err)
		}
	})
}

func TestRefund_PartialReturnsPointsInProportion(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0; p.MaxSpend = 50 * kopilka.PercentScale }))
		m := e.member("+79160000001")
		e.credit(m.ID, 1000)
		r := receipt("r1", m.ID, 300, 60000, 40000)
		r.Lines[0].Quantity, r.Lines[0].Price = 3*kopilka.QuantityScale, 20000
		q, err := e.svc.Purchases.Confirm(e.ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		// Line 1: 180 points spent, 21 earned (5 % of 420.00). Return one of its three units.
		if q.Lines[0].Spent != 180 || q.Lines[0].Earned != 21 {
			t.Fatalf("line 1 = %+v", q.Lines[0])
		}
		one := kopilka.Quantity(kopilka.QuantityScale)
		res, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "f1", Lines: []kopilka.RefundLine{{Line: 1, Quantity: &one}}})
		if err != nil {
			t.Fatal(err)
		}
		if res.SpentReturned != 60 || res.EarnedReversed != 7 {
			t.Fatalf("refund of 1 of 3 = %+v; want 60 spent returned, 7 earned reversed", res)
		}
		// Two more single units return the rest exactly, whatever the rounding.
		for _, id := range []string{"f2", "f3"} {
			if _, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: id, Lines: []kopilka.RefundLine{{Line: 1, Quantity: &one}}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "f4", Lines: []kopilka.RefundLine{{Line: 1, Quantity: &one}}}); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("returning more than was bought: %v, want invalid-field", err)
		}
		e.verify()
	})
}

func TestRefund_FullLeavesTheMemberWhereTheyWere(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		// 14 days pending; the balance lists every lot's expiry, so that
		// comparing balances compares the lots points went back to.
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.ExpiringSoonDays = 366 }))
		m := e.member("+79160000001")
		e.credit(m.ID, 500)
		e.clock.AddDate(0, 0, 3)
		e.credit(m.ID, 500) // two lots with different expiry
		before, _ := e.svc.Ledger.Balance(e.ctx, m.ID)
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 700, 150000, 99999)); err != nil {
			t.Fatal(err)
		}
		e.clock.AddDate(0, 0, 1)
		res, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "all"})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := e.svc.Ledger.Balance(e.ctx, m.ID)
		if len(before.Expiring) != 2 {
			t.Fatalf("expected two lots with their own expiry, got %+v", before.Expiring)
		}
		if res.SpentReturned != 700 || res.Status != kopilka.PurchaseRefunded || !reflect.DeepEqual(before, after) {
			t.Fatalf("after a full refund %+v, balance %+v; before %+v", res, after, before)
		}
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "again"}); kopilka.ErrorCode(err) != kopilka.ESTATE {
			t.Fatalf("refund of a fully returned purchase: %v", err)
		}
		if _, err := e.svc.Purchases.Cancel(e.ctx, "", "r1"); kopilka.ErrorCode(err) != kopilka.ESTATE {
			t.Fatalf("cancel of a fully returned purchase: %v, want purchase-state", err)
		}
		e.verify()
	})
}

func TestRefund_EarnedPointsAlreadySpentCannotBeTakenBack(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0; p.MaxSpend = 100 * kopilka.PercentScale }))
		m := e.member("+79160000001")
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 0, 100000)); err != nil { // earns 50
			t.Fatal(err)
		}
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r2", m.ID, 50, 5000)); err != nil { // spends them
			t.Fatal(err)
		}
		b := e.balance(m.ID)
		if _, err := e.svc.Purchases.Cancel(e.ctx, "", "r1"); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
			t.Fatalf("cancel needing spent points back: %v, want insufficient-points", err)
		}
		if e.balance(m.ID) != b {
			t.Fatal("a refused cancel moved the balance")
		}
		e.verify()
	})
}

func TestCancel_AfterAPartialRefundReturnsTheRest(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.MaxSpend = 100 * kopilka.PercentScale }))
		m := e.member("+79160000001")
		e.credit(m.ID, 100)
		start := e.balance(m.ID)
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 100, 10000, 20000, 30000)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "f1", Lines: []kopilka.RefundLine{{Line: 2}}}); err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Purchases.Cancel(e.ctx, "", "r1")
		if err != nil || res.Status != kopilka.PurchaseCancelled || len(res.Lines) != 2 {
			t.Fatalf("cancel = %+v, %v", res, err)
		}
		again, err := e.svc.Purchases.Cancel(e.ctx, "", "r1")
		if err != nil || !reflect.DeepEqual(res, again) {
			t.Fatalf("second cancel = %+v, %v; want the first", again, err)
		}
		if e.balance(m.ID) != start {
			t.Fatalf("balance after cancel = %+v, want %+v", e.balance(m.ID), start)
		}
		if _, err := e.svc.Purchases.Refund(e.ctx, "", "r1", kopilka.RefundRequest{RefundID: "f2"}); kopilka.ErrorCode(err) != kopilka.ESTATE {
			t.Fatalf("refund after cancel: %v", err)
		}
		e.verify()
	})
}

func TestJobs_PendingPointsActivateThenExpire(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 14; p.ExpiryMonths = 6 }))
		m := e.member("+79160000001")
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 0, 100000)); err != nil {
			t.Fatal(err)
		}
		if b := e.balance(m.ID); b != (kopilka.Balance{Pending: 50}) {
			t.Fatalf("after purchase %+v, want 50 pending", b)
		}
		e.clock.AddDate(0, 0, 13)
		if rep, _ := e.svc.Jobs.RunJobs(e.ctx); rep.Activated != 0 || e.balance(m.ID).Pending != 50 {
			t.Fatalf("day 13: %+v %+v", rep, e.balance(m.ID))
		}
		e.clock.AddDate(0, 0, 1)
		if rep, err := e.svc.Jobs.RunJobs(e.ctx); err != nil || rep.Activated != 1 || e.balance(m.ID) != (kopilka.Balance{Available: 50}) {
			t.Fatalf("day 14: %+v %v %+v", rep, err, e.balance(m.ID))
		}
		// Running again changes nothing: every lot is settled once.
		if rep, _ := e.svc.Jobs.RunJobs(e.ctx); rep != (jobs.JobReport{}) {
			t.Fatalf("second run did %+v", rep)
		}
		e.clock.AddDate(0, 5, 20)
		v, _ := e.svc.Ledger.Balance(e.ctx, m.ID)
		if len(v.Expiring) != 1 || v.Expiring[0].Points != 50 {
			t.Fatalf("expiring soon = %+v", v.Expiring)
		}
		e.clock.AddDate(0, 0, 10) // 15 March + 6 months: expires at 09:00 on 15 September
		if rep, _ := e.svc.Jobs.RunJobs(e.ctx); rep.Expired != 0 {
			t.Fatalf("expired a day early: %+v", rep)
		}
		e.clock.AddDate(0, 0, 1)
		if rep, err := e.svc.Jobs.RunJobs(e.ctx); err != nil || rep.Expired != 1 || e.balance(m.ID) != (kopilka.Balance{}) {
			t.Fatalf("after expiry: %+v %v %+v", rep, err, e.balance(m.ID))
		}
		e.verify()
	})
}

func TestAdjust_CreditDebitAndIdempotencyKey(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(nil))
		m := e.member("+79160000001")
		a := kopilka.Adjustment{Points: 40, Reason: "goodwill"}
		anna := kopilka.NewContextWithPrincipal(e.ctx, kopilka.Principal{Kind: "operator", ID: "anna", Name: "anna@example.com", Role: kopilka.RoleSupport})
		t1, err := e.svc.Ledger.Adjust(anna, m.ID, a, "k1")
		if err != nil || t1.Actor != "operator:anna (anna@example.com)" {
			t.Fatal(t1, err)
		}
		t2, err := e.svc.Ledger.Adjust(anna, m.ID, a, "k1")
		if err != nil || t2.ID != t1.ID || e.balance(m.ID).Available != 40 {
			t.Fatalf("replay: %+v %v, balance %+v", t2, err, e.balance(m.ID))
		}
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: 41, Reason: "goodwill"}, "k1"); kopilka.ErrorCode(err) != kopilka.EIDEMPOTENCY {
			t.Fatalf("key reuse: %v", err)
		}
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: -41, Reason: "fraud"}, ""); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
			t.Fatalf("debit beyond balance: %v", err)
		}
		e.clock.Add(time.Minute)
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: -40, Reason: "fraud"}, ""); err != nil {
			t.Fatal(err)
		}
		items, _, err := e.svc.Ledger.History(e.ctx, m.ID, nil, 10)
		if err != nil || len(items) != 2 || items[0].Available != -40 || items[0].Reason != "fraud" {
			t.Fatalf("history = %+v, %v", items, err)
		}
		e.verify()
	})
}

func TestRefund_TakesEarnedPointsFromLotsItGaveBackTo(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays = 0; p.MaxSpend = 100 * kopilka.PercentScale }))
		m := e.member("+79160000001")
		e.credit(m.ID, 100)
		// P1 spends all 100 and earns 5 on the money part; P2 spends those 5.
		if q, err := e.svc.Purchases.Confirm(e.ctx, receipt("p1", m.ID, 100, 20000)); err != nil || q.Earned != 5 {
			t.Fatalf("p1: %+v, %v", q, err)
		}
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("p2", m.ID, 5, 1000)); err != nil {
			t.Fatal(err)
		}
		// Cancelling P1 gives back 100 and takes back 5: the member can afford it.
		res, err := e.svc.Purchases.Cancel(e.ctx, "", "p1")
		if err != nil || res.SpentReturned != 100 || res.EarnedReversed != 5 {
			t.Fatalf("cancel = %+v, %v", res, err)
		}
		// 100 - 100 + 5 (P1) - 5 (P2, which earned nothing on its 5.00 paid) + 100 - 5 (cancel) = 95.
		if b := e.balance(m.ID); b != (kopilka.Balance{Available: 95}) {
			t.Fatalf("balance after cancel = %+v, want 95 available", b)
		}
		e.verify()
	})
}

// TestLedger_AMemberWithThousandsOfLotsCanSpendAndExpire debits and
// expires 3,000 one-point lots at once: more rows than one statement's
// parameters allow on either database.
func TestLedger_AMemberWithThousandsOfLotsCanSpendAndExpire(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.ExpiryMonths = 1 }))
		m := e.member("+79160000001")
		n := e.member("+79160000002")
		const lots = 3000
		err := e.svc.DB.Update(e.ctx, func(tx *storage.Tx) error {
			for i := range lots {
				for _, id := range []string{m.ID, n.ID} {
					x := creditEntry(id, fmt.Sprintf("%s-%d", id, i), 1, e.clock.Now(), e.clock.Now().AddDate(0, 1, 0))
					if err := tx.Post(e.ctx, x); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: -lots, Reason: "all of it"}, ""); err != nil {
			t.Fatalf("debit of %d lots: %v", lots, err)
		}
		e.clock.AddDate(0, 1, 1)
		if rep, err := e.svc.Jobs.RunJobs(e.ctx); err != nil || rep.Expired != 1 {
			t.Fatalf("expiry of %d lots: %+v, %v", lots, rep, err)
		}
		if b := e.balance(n.ID); b != (kopilka.Balance{}) {
			t.Fatalf("after expiry %+v", b)
		}
		e.verify()
	})
}

// creditEntry is a ledger entry that credits one active lot, written
// straight to the store to set up large ledgers quickly.
func creditEntry(memberID, id string, points int64, now, expires time.Time) *ledger.Entry {
	return &ledger.Entry{
		Tx: kopilka.Transaction{ID: id, MemberID: memberID, Kind: kopilka.KindAdjustment, Available: points, CreatedAt: now},
		Postings: []kopilka.Posting{
			{Account: kopilka.AccountAdjustment, Amount: -points},
			{Account: kopilka.AccountAvailable, Amount: points},
		},
		NewLots: []kopilka.Lot{{ID: "lot-" + id, MemberID: memberID, TxID: id, Points: points, Remaining: points,
			State: kopilka.LotActive, ActivatesAt: now, ExpiresAt: expires, CreatedAt: now}},
		Lots: map[string]*kopilka.Lot{},
	}
}

func TestSpend_DueLotsSettleAtTheTillBeforeTheJobRuns(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.PendingDays, p.ExpiryMonths, p.MaxSpend = 7, 1, 100*kopilka.PercentScale
		}))
		m := e.member("+79160000001")
		e.credit(m.ID, 100)                                                                         // expires in a month
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("earn", m.ID, 0, 100000)); err != nil { // 50 pending for 7 days
			t.Fatal(err)
		}
		e.clock.AddDate(0, 0, 8) // the 50 are due to activate; no job has run
		q, err := e.svc.Purchases.Calculate(e.ctx, receipt("q1", m.ID, 0, 100000))
		if err != nil || q.MaxSpend != 150 {
			t.Fatalf("quote after activation time: max %d, %v; want 150", q.MaxSpend, err)
		}
		e.clock.AddDate(0, 0, 24) // day 32: the credit of 100 expired on day 31, the 50 expire on day 38; no job
		q, err = e.svc.Purchases.Calculate(e.ctx, receipt("q2", m.ID, 0, 100000))
		if err != nil || q.MaxSpend != 50 {
			t.Fatalf("quote after expiry time: max %d, %v; want 50", q.MaxSpend, err)
		}
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 51, 100000)); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
			t.Fatalf("spending expired points: %v, want insufficient-points", err)
		}
		if _, err := e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: -51, Reason: "x"}, ""); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
			t.Fatalf("debiting expired points: %v, want insufficient-points", err)
		}
		if _, err := e.svc.Purchases.Confirm(e.ctx, receipt("r2", m.ID, 50, 100000)); err != nil {
			t.Fatalf("spending the activated points: %v", err)
		}
		if b := e.balance(m.ID); b.Available != 0 {
			t.Fatalf("balance %+v, want nothing available", b)
		}
		if rep, err := e.svc.Jobs.RunJobs(e.ctx); err != nil || rep != (jobs.JobReport{}) {
			t.Fatalf("the job found work the till already did: %+v, %v", rep, err)
		}
		e.verify()
	})
}

func TestRefund_EarnedPointsThatExpiredAreNotTakenBackAgain(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) { p.PendingDays, p.ExpiryMonths = 0, 1 }))
		m := e.member("+79160000001")
		if q, err := e.svc.Purchases.Confirm(e.ctx, receipt("r1", m.ID, 0, 20000)); err != nil || q.Earned != 10 {
			t.Fatalf("earn: %+v, %v", q, err)
		}
		e.clock.AddDate(0, 1, 1)
		if _, err := e.svc.Jobs.RunJobs(e.ctx); err != nil { // the 10 expire
			t.Fatal(err)
		}
		e.credit(m.ID, 100)
		res, err := e.svc.Purchases.Cancel(e.ctx, "", "r1")
		if err != nil || res.EarnedReversed != 0 || res.EarnedExpired != 10 {
			t.Fatalf("cancel = %+v, %v; want nothing taken back, 10 reported expired", res, err)
		}
		if b := e.balance(m.ID); b.Available != 100 {
			t.Fatalf("balance %+v, want the 100 credited after the expiry untouched", b)
		}
		e.verify()
	})
}

// A till may date a receipt only so far back (72 hours unless the
// programme says otherwise): a receipt dated inside a campaign that has
// ended is refused, saying why; a replay of a receipt confirmed in time
// still gets its first answer.
func TestConfirm_AReceiptDatedTooFarBackIsRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(nil))
		m := e.member("+79160000077")
		at := func(id string, ago time.Duration) kopilka.Receipt {
			r := receipt(id, m.ID, 0, 100_00)
			r.OccurredAt = e.clock.Now().Add(-ago)
			return r
		}
		for _, call := range []func(context.Context, kopilka.Receipt) (kopilka.Quote, error){e.svc.Purchases.Calculate, e.svc.Purchases.Confirm} {
			_, err := call(e.ctx, at("old", 73*time.Hour))
			var pe *kopilka.Error
			if !errorAs(err, &pe) || pe.Code != kopilka.EINVALID || len(pe.Fields) != 1 || pe.Fields[0].Field != "occurred_at" ||
				!strings.Contains(pe.Message, "72 hours") {
				t.Fatalf("a receipt of 73 hours ago: %v", err)
			}
		}
		first := e.confirm(at("recent", 71*time.Hour))
		e.clock.Add(100 * time.Hour)
		again, err := e.svc.Purchases.Confirm(e.ctx, at("recent", 171*time.Hour))
		if err != nil || again.Earned != first.Earned {
			t.Fatalf("a replay after the window: %+v %v", again, err)
		}
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error { p.MaxReceiptAgeHours = 1; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Purchases.Confirm(e.ctx, at("two-hours", 2*time.Hour)); kopilka.ErrorCode(err) != kopilka.EINVALID {
			t.Fatalf("a receipt of two hours ago with a one-hour limit: %v", err)
		}
		e.verify()
	})
}

// A receipt may earn at most the programme's max_receipt_points and a
// balance may hold at most its max_balance: a threshold rule that repeats
// (1,000,000 points for every minor unit) on 1,000 lines of 1e11 would
// wrap an int64; it is refused with points-cap-exceeded, nothing posts, and
// the ledger stays whole. Credits past the balance cap are refused too, and
// a bonus the balance cannot take is not given.
func TestPoints_CapsHoldEveryReceiptAndBalance(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.Rules = []kopilka.Rule{{ID: "huge", Name: "huge", Kind: kopilka.RuleThreshold, Threshold: 1, Points: 1_000_000, Repeat: true}}
		}))
		m := e.member("+79160000078")
		amounts := make([]int64, kopilka.MaxLines)
		for i := range amounts {
			amounts[i] = kopilka.MaxLineAmount
		}
		for _, call := range []func(context.Context, kopilka.Receipt) (kopilka.Quote, error){e.svc.Purchases.Calculate, e.svc.Purchases.Confirm} {
			for i := range 2 {
				_, err := call(e.ctx, receipt(fmt.Sprintf("huge-%d", i), m.ID, 0, amounts...))
				var pe *kopilka.Error
				if !errorAs(err, &pe) || pe.Code != kopilka.EPOINTSCAP || pe.Fields[0].Field != "lines" || pe.Extra["max_receipt_points"] != int64(kopilka.DefaultMaxReceiptPoints) {
					t.Fatalf("a receipt worth 1e20 points: %v", err)
				}
			}
		}
		if b := e.balance(m.ID); b.Available != 0 || b.Pending != 0 {
			t.Fatalf("balance after refused receipts: %+v", b)
		}
		// A receipt under the cap still earns: 1,000,000 points for 1 rouble of threshold 100.
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error {
			p.Rules[0].Threshold = 100_00
			p.MaxReceiptPoints = 3_000_100
			p.MaxBalance = 5_000_000
			p.PendingDays = 0
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		q := e.confirm(receipt("fits", m.ID, 0, 300_00))
		if q.Earned != 3_000_000+15 {
			t.Fatalf("earned %d, want 3,000,015 (three thresholds and 5%%)", q.Earned)
		}
		// 3,000,015 held; another receipt of 3,000,015 would take it past 5,000,000.
		_, err := e.svc.Purchases.Confirm(e.ctx, receipt("past-balance", m.ID, 0, 300_00))
		var pe *kopilka.Error
		if !errorAs(err, &pe) || pe.Code != kopilka.EPOINTSCAP || pe.Extra["max_balance"] != int64(5_000_000) {
			t.Fatalf("a receipt past the balance cap: %v", err)
		}
		_, err = e.svc.Ledger.Adjust(e.ctx, m.ID, kopilka.Adjustment{Points: 2_000_000, Reason: "too much"}, "")
		if !errorAs(err, &pe) || pe.Code != kopilka.EPOINTSCAP || pe.Fields[0].Field != "points" {
			t.Fatalf("an adjustment past the balance cap: %v", err)
		}
		e.credit(m.ID, 1_999_985) // exactly to the cap
		if b := e.balance(m.ID); b.Available != 5_000_000 {
			t.Fatalf("balance %+v, want the cap", b)
		}
		// Spending still works at the cap; its own earning must fit.
		sp := receipt("spend", m.ID, 50, 200_00)
		if _, err := e.svc.Purchases.Confirm(e.ctx, sp); kopilka.ErrorCode(err) != kopilka.EPOINTSCAP {
			t.Fatalf("a spend whose earning passes the cap: %v", err)
		}
		// A welcome bonus larger than the cap is not given; the member is still created.
		if _, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error {
			p.MaxBalance, p.Bonuses.Welcome.Points = 100, 500
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if b := e.balance(e.member("+79160000079").ID); b.Available != 0 {
			t.Fatalf("a welcome bonus past the cap was given: %+v", b)
		}
		e.verify()
		for _, bad := range []int64{-1, kopilka.PointsCeiling + 1} {
			_, err := e.svc.Programme.UpdateProgramme(e.ctx, func(p *kopilka.Programme) error { p.MaxBalance = bad; return nil })
			if !errorAs(err, &pe) || pe.Code != kopilka.EINVALID || pe.Fields[0].Field != "max_balance" {
				t.Fatalf("max_balance %d: %v", bad, err)
			}
		}
	})
}

func TestAddAndMul_ReportOverflow(t *testing.T) {
	for _, c := range []struct {
		a, b  int64
		sum   bool
		prod  bool
		sumV  int64
		prodV int64
	}{
		{1, 2, true, true, 3, 2},
		{math.MaxInt64, 1, false, true, 0, math.MaxInt64},
		{math.MinInt64, -1, false, false, 0, 0},
		{-5, 3, true, true, -2, -15},
		{1 << 32, 1 << 31, true, false, 1<<32 + 1<<31, 0},
		{3_000_000_000, 3_000_000_000, true, true, 6_000_000_000, 9_000_000_000_000_000_000},
		{4_000_000_000, 3_000_000_000, true, false, 7_000_000_000, 0},
	} {
		s, ok := kopilka.Add(c.a, c.b)
		if ok != c.sum || ok && s != c.sumV {
			t.Errorf("Add(%d, %d) = %d, %v", c.a, c.b, s, ok)
		}
		p, ok := kopilka.Mul(c.a, c.b)
		if ok != c.prod || ok && c.prodV != 0 && p != c.prodV {
			t.Errorf("Mul(%d, %d) = %d, %v", c.a, c.b, p, ok)
		}
	}
}

// A refund that gives spent points back to a lot whose time has passed
// answers the balance that can be spent: those points expire at once
// (issue 12, item 5), and the quote after it agrees.
func TestRefund_PointsGivenBackToAnExpiredLotAreNotAnsweredAsAvailable(t *testing.T) {
	eachDialect(t, func(t *testing.T, d string) {
		e := newEnv(t, d, testProgramme(func(p *kopilka.Programme) {
			p.ExpiryMonths, p.PendingDays, p.EarnRate, p.MaxSpend = 1, 0, 0, 100*kopilka.PercentScale
		}))
		m := e.member("+79160000097")
		e.credit(m.ID, 100)
		e.confirm(receipt("spend", m.ID, 50, 100_00))
		e.clock.AddDate(0, 2, 0) // the lot expired; no job has run
		res, err := e.svc.Purchases.Cancel(e.ctx, "", "spend")
		if err != nil || res.SpentReturned != 50 {
			t.Fatalf("cancel: %+v %v", res, err)
		}
		if res.Balance.Available != 0 {
			t.Fatalf("the cancel answers %d available, but the lot it gave back to has expired", res.Balance.Available)
		}
		q, err := e.svc.Purchases.Calculate(e.ctx, receipt("after", m.ID, 0, 100_00))
		if err != nil || q.Balance.Available != res.Balance.Available {
			t.Fatalf("a quote right after says %d available (%v), the cancel said %d", q.Balance.Available, err, res.Balance.Available)
		}
		e.verify()
	})
}
