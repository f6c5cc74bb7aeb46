package pricing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// Tier arithmetic reads a member's running totals through
// pricing.Counters; here a fake holds them.

type counters map[string]int64 // by day

func (c counters) SumCounter(_ context.Context, _, _, from, to string) (int64, error) {
	var n int64
	for day, v := range c {
		if day >= from && day <= to {
			n += v
		}
	}
	return n, nil
}

func TestUpgrade_ThePurchaseThatCrossesTheThresholdRaisesTheTier(t *testing.T) {
	p := kopilka.DefaultProgramme()
	p.Tiers = kopilka.TierPlan{Basis: pricing.CounterSpend, Window: "rolling", Months: 12,
		Levels: []kopilka.Tier{{Name: "silver", Threshold: 100_000}, {Name: "gold", Threshold: 500_000}}}
	e, err := pricing.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	spent := counters{"2026-01-10": 60_000, "2025-10-01": 900_000} // the second is outside the window
	m := &kopilka.Member{ID: "m"}
	if up, err := e.Upgrade(context.Background(), spent, m, now, 30_000); err != nil || up {
		t.Fatalf("below silver: %v %v", up, err)
	}
	if up, err := e.Upgrade(context.Background(), spent, m, now, 50_000); err != nil || !up || m.Tier != "silver" || m.TierReviewAt == nil {
		t.Fatalf("crossing silver: %v %v %+v", up, err, m)
	}
}

func errorsAs(err error, target **kopilka.Error) bool { return errors.As(err, target) }
