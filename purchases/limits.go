package purchases

import (
	"context"
	"hash/fnv"
	"time"

	"github.com/kopilka/kopilka"
)

// txLimits keeps members' caps in their counters and budgets in their
// slices, inside the purchase's transaction. Without take (a quote) it
// only reads them. What Left reads it keeps for Take: pricing asks Left of
// every capped rule first, and a rule takes once per receipt.
type txLimits struct {
	tx       Tx
	memberID string
	at       time.Time // the receipt's time in the programme's zone
	take     bool
	counters []kopilka.Counter // the capped rules' points, to add on confirmation

	caps    map[string]capLeft // by rule id
	budgets map[string]int64   // points left, by budget name
}

type capLeft struct {
	left   int64
	bucket string // the cap's period
}

// capOf is what the member's cap on the rule leaves in the receipt's period.
func (l *txLimits) capOf(ctx context.Context, rule *kopilka.Rule) (capLeft, error) {
	if c, ok := l.caps[rule.ID]; ok {
		return c, nil
	}
	bucket := kopilka.PeriodStart(rule.CapPerMember.Period, l.at).Format(time.DateOnly)
	used, err := l.tx.SumCounter(ctx, l.memberID, "rule:"+rule.ID, bucket, bucket)
	if err != nil {
		return capLeft{}, err
	}
	c := capLeft{rule.CapPerMember.Points - used, bucket}
	if l.caps == nil {
		l.caps = map[string]capLeft{}
	}
	l.caps[rule.ID] = c
	return c, nil
}

// budgetLeft is what the budget has left, as read before any take.
func (l *txLimits) budgetLeft(ctx context.Context, name string, budget int64) (int64, error) {
	if left, ok := l.budgets[name]; ok {
		return left, nil
	}
	used, err := l.tx.BudgetUsed(ctx, name)
	if err != nil {
		return 0, err
	}
	if l.budgets == nil {
		l.budgets = map[string]int64{}
	}
	l.budgets[name] = budget - used
	return budget - used, nil
}

func (l *txLimits) Left(ctx context.Context, rule *kopilka.Rule, budgetName string, budget int64) (int64, error) {
	left := int64(1<<63 - 1)
	if rule.CapPerMember != nil {
		c, err := l.capOf(ctx, rule)
		if err != nil {
			return 0, err
		}
		left = c.left
	}
	if budgetName != "" {
		b, err := l.budgetLeft(ctx, budgetName, budget)
		if err != nil {
			return 0, err
		}
		left = min(left, b)
	}
	return max(left, 0), nil
}

func (l *txLimits) Take(ctx context.Context, rule *kopilka.Rule, budgetName string, budget, want int64) (int64, error) {
	got := want
	var bucket string
	if rule.CapPerMember != nil {
		c, err := l.capOf(ctx, rule)
		if err != nil {
			return 0, err
		}
		got, bucket = max(0, min(got, c.left)), c.bucket
	}
	if budgetName != "" && got > 0 {
		var err error
		if l.take {
			got, err = takeBudget(ctx, l.tx, budgetName, budget, l.memberID, got)
		} else {
			var left int64
			left, err = l.budgetLeft(ctx, budgetName, budget)
			got = max(0, min(got, left))
		}
		if err != nil {
			return 0, err
		}
	}
	if bucket != "" && got > 0 {
		l.counters = append(l.counters, kopilka.Counter{Name: "rule:" + rule.ID, Bucket: bucket, Delta: got})
	}
	return got, nil
}

// budgetSlices is how many rows a budget is split into.
const budgetSlices = 16

// takeBudget takes up to want points of a budget, from the member's own
// slice first: members spread over the slices, so concurrent purchases of
// different members seldom wait on one row.
func takeBudget(ctx context.Context, tx Tx, name string, budget int64, memberID string, want int64) (int64, error) {
	h := fnv.New32a()
	h.Write([]byte(memberID))
	limits := make([]int64, budgetSlices)
	for i := range limits {
		limits[i] = budget / budgetSlices
		if int64(i) < budget%budgetSlices {
			limits[i]++
		}
	}
	return tx.TakeBudget(ctx, name, limits, int(h.Sum32()%budgetSlices), want)
}
