package kopilka_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
)

// TestProperty_RandomOperationsKeepTheLedgerWhole applies random sequences
// of purchases, refunds, cancels, adjustments, replays, activations and
// expiries, and after every step checks the ledger invariants (Verify) and
// a model kept beside the service: each member's total points move by
// exactly what each answer reports, and a refused operation moves nothing.
// KOPILKA_PROPERTY_SEED replays one seed; KOPILKA_PROPERTY_STEPS sets the length.
func TestProperty_RandomOperationsKeepTheLedgerWhole(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if s, err := strconv.ParseUint(os.Getenv("KOPILKA_PROPERTY_SEED"), 10, 64); err == nil {
		seeds = []uint64{s}
	}
	steps := 150
	if n, err := strconv.Atoi(os.Getenv("KOPILKA_PROPERTY_STEPS")); err == nil {
		steps = n
	}
	eachDialect(t, func(t *testing.T, d string) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				runProperty(t, d, seed, steps)
			})
		}
	})
}

type modelPurchase struct {
	memberID string
	receipt  kopilka.Receipt
	quote    kopilka.Quote
	refunds  int
	closed   bool // cancelled or fully returned
}

func runProperty(t *testing.T, dialect string, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e := newEnv(t, dialect, testProgramme(func(p *kopilka.Programme) {
		p.PendingDays = rng.IntN(3) * 7
		p.ExpiryMonths = 1 + rng.IntN(3)
		p.MaxSpend = kopilka.Percent(10+rng.IntN(90)) * kopilka.PercentScale
		p.Rounding = []kopilka.Rounding{kopilka.RoundDown, kopilka.RoundHalfUp, kopilka.RoundUp}[rng.IntN(3)]
	}))
	var members []string
	for i := range 4 {
		members = append(members, e.member(fmt.Sprintf("+7916100%04d", i)).ID)
	}
	total := map[string]int64{} // the model: available + pending of each member
	var purchases []*modelPurchase
	sum := func(b kopilka.Balance) int64 { return b.Available + b.Pending }
	done := map[string]int{}      // what the run exercised, so that it cannot pass by doing nothing
	expiries := map[string]bool{} // the expiry transactions the model has counted
	fail := func(step int, format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d step %d: %s", seed, step, fmt.Sprintf(format, args...))
	}
	// refused checks that an operation that failed moved no balance and that
	// it failed for a reason a client could cause, never an internal error.
	refused := func(step int, err error, before map[string]kopilka.Balance) {
		t.Helper()
		if c := kopilka.ErrorCode(err); c == kopilka.EINTERNAL {
			fail(step, "internal error: %v", err)
		}
		for _, id := range members {
			if b := e.balance(id); b != before[id] {
				fail(step, "refused operation (%v) moved %s from %+v to %+v", err, id, before[id], b)
			}
		}
	}
	for step := range steps {
		before := map[string]kopilka.Balance{}
		for _, id := range members {
			before[id] = e.balance(id)
		}
		id := members[rng.IntN(len(members))]
		switch op := rng.IntN(10); {
		case op < 4: // a purchase, sometimes asking for more points than allowed
			r := randomReceipt(rng, fmt.Sprintf("r%d", step), id, 0)
			if rng.IntN(2) == 0 {
				r.SpendPoints = rng.Int64N(before[id].Available + 20)
			}
			q, err := e.svc.Purchases.Confirm(e.ctx, r)
			if err != nil {
				refused(step, err, before)
				break
			}
			total[id] += q.Earned - q.Spent
			done["purchase"]++
			if q.Spent > 0 {
				done["spend"]++
			}
			purchases = append(purchases, &modelPurchase{memberID: id, receipt: r, quote: q})
		case op < 6 && len(purchases) > 0: // a refund of some lines or quantities
			p := purchases[rng.IntN(len(purchases))]
			req := kopilka.RefundRequest{RefundID: fmt.Sprintf("f%d", p.refunds)}
			for _, l := range p.receipt.Lines {
				if rng.IntN(2) == 0 {
					q := kopilka.Quantity(1 + rng.Int64N(int64(l.Quantity)))
					req.Lines = append(req.Lines, kopilka.RefundLine{Line: l.Line, Quantity: &q})
				}
			}
			p.refunds++
			res, err := e.svc.Purchases.Refund(e.ctx, "", p.receipt.ReceiptID, req)
			if err != nil {
				refused(step, err, before)
				break
			}
			total[p.memberID] += res.SpentReturned - res.EarnedReversed
			p.closed = res.Status != kopilka.PurchaseConfirmed
			done["refund"]++
		case op < 7 && len(purchases) > 0: // a cancel
			p := purchases[rng.IntN(len(purchases))]
			res, err := e.svc.Purchases.Cancel(e.ctx, "", p.receipt.ReceiptID)
			if err != nil {
				refused(step, err, before)
				break
			}
			if !p.closed {
				total[p.memberID] += res.SpentReturned - res.EarnedReversed
			} else if sum(e.balance(p.memberID)) != sum(before[p.memberID]) {
				fail(step, "a repeated cancel moved points")
			}
			p.closed = true
			done["cancel"]++
		case op < 8: // a manual adjustment, sometimes a debit too large
			pts := rng.Int64N(200) - 80
			if pts == 0 {
				pts = 1
			}
			x, err := e.svc.Ledger.Adjust(e.ctx, id, kopilka.Adjustment{Points: pts, Reason: "property"}, "")
			if err != nil {
				refused(step, err, before)
				break
			}
			total[id] += x.Available + x.Pending
			done["adjustment"]++
		case op < 9 && len(purchases) > 0: // a replay of a confirmed purchase
			p := purchases[rng.IntN(len(purchases))]
			q, err := e.svc.Purchases.Confirm(e.ctx, p.receipt)
			if err != nil || !reflect.DeepEqual(q, p.quote) {
				fail(step, "replay of %s: %+v, %v; want %+v", p.receipt.ReceiptID, q, err, p.quote)
			}
			done["replay"]++
		default: // time passes: points activate and expire
			e.clock.Add(time.Duration(rng.IntN(60*24)) * time.Hour)
			if _, err := e.svc.Jobs.RunJobs(e.ctx); err != nil {
				fail(step, "jobs: %v", err)
			}
		}
		// Expiry changes a member's total besides the operations: the job's,
		// and a refund's that gave points back to a lot whose time had
		// passed. The model learns how much from the expiry transactions.
		for _, m := range members {
			items, _, err := e.svc.Ledger.History(e.ctx, m, nil, 20)
			if err != nil {
				fail(step, "history: %v", err)
			}
			for _, it := range items {
				if it.Kind == kopilka.KindExpiry && !expiries[it.ID] {
					expiries[it.ID] = true
					total[m] += it.Available + it.Pending
					done["expiry"]++
				}
			}
		}
		for _, m := range members {
			if got := sum(e.balance(m)); got != total[m] {
				fail(step, "member %s holds %d points, the model says %d", m, got, total[m])
			}
		}
		e.verify()
	}
	t.Logf("seed %d exercised %v", seed, done)
	if steps >= 100 {
		for _, k := range []string{"purchase", "spend", "refund", "cancel", "adjustment", "replay", "expiry"} {
			if done[k] == 0 {
				t.Errorf("seed %d: %d steps exercised no %s", seed, steps, k)
			}
		}
	}
}
