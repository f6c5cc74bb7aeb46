package pricing

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
)

// Counter names. Spend and points are counted per day of the programme's
// time zone; a rule's capped points per period of its cap.
const (
	CounterSpend  = "spend"
	CounterPoints = "points"
)

func DayBucket(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// WindowStart is the first day counted toward a tier at time t.
func (e *Engine) WindowStart(t time.Time) string {
	lt := t.In(e.Loc)
	plan := e.Programme.Tiers
	if plan.Window == "calendar_year" {
		return time.Date(lt.Year(), 1, 1, 0, 0, 0, 0, e.Loc).Format(time.DateOnly)
	}
	return kopilka.AddMonths(lt, -plan.Months).AddDate(0, 0, 1).Format(time.DateOnly)
}

// qualifiedTier is the highest tier total reaches ("" for none) and its rank (-1 for none).
func (e *Engine) qualifiedTier(total int64) (string, int) {
	name, rank := "", -1
	for i, l := range e.Programme.Tiers.Levels {
		if total >= l.Threshold {
			name, rank = l.Name, i
		}
	}
	return name, rank
}

func (e *Engine) TierRank(name string) int {
	for i, l := range e.Programme.Tiers.Levels {
		if l.Name == name {
			return i
		}
	}
	return -1
}

// reviewAfter is when a tier reached at t is next re-qualified: a rolling
// window's length later, or at the end of the following calendar year.
func (e *Engine) reviewAfter(t time.Time) time.Time {
	lt := t.In(e.Loc)
	if e.Programme.Tiers.Window == "calendar_year" {
		return time.Date(lt.Year()+2, 1, 1, 0, 0, 0, 0, e.Loc).UTC()
	}
	return kopilka.AddMonths(lt, e.Programme.Tiers.Months).UTC()
}

// Upgrade raises the member's tier at once when the window's total, with
// this purchase's part added, reaches a higher tier. It reports whether the
// member changed.
func (e *Engine) Upgrade(ctx context.Context, tx Counters, m *kopilka.Member, now time.Time, added int64) (bool, error) {
	plan := e.Programme.Tiers
	if len(plan.Levels) == 0 {
		return false, nil
	}
	total, err := tx.SumCounter(ctx, m.ID, plan.Basis, e.WindowStart(now), DayBucket(now, e.Loc))
	if err != nil {
		return false, err
	}
	name, rank := e.qualifiedTier(total + added)
	if rank <= e.TierRank(m.Tier) {
		return false, nil
	}
	review := e.reviewAfter(now)
	m.Tier, m.TierReviewAt = name, &review
	return true, nil
}

// Review re-qualifies a member whose review date has come: the tier the
// window ending at the review reaches, up or down; none ends the reviews.
func (e *Engine) Review(ctx context.Context, tx Counters, m *kopilka.Member) error {
	at := *m.TierReviewAt
	plan := e.Programme.Tiers
	from := e.WindowStart(at.Add(-time.Microsecond))
	to := DayBucket(at.Add(-time.Microsecond), e.Loc) // the window ends the day before the review
	if len(plan.Levels) == 0 {
		m.Tier, m.TierReviewAt = "", nil
		return nil
	}
	total, err := tx.SumCounter(ctx, m.ID, plan.Basis, from, to)
	if err != nil {
		return err
	}
	name, rank := e.qualifiedTier(total)
	m.Tier = name
	if rank < 0 {
		m.TierReviewAt = nil
		return nil
	}
	next := e.reviewAfter(at.Add(-time.Microsecond))
	if plan.Window == "calendar_year" {
		next = time.Date(at.In(e.Loc).Year()+1, 1, 1, 0, 0, 0, 0, e.Loc).UTC()
	}
	m.TierReviewAt = &next
	return nil
}
