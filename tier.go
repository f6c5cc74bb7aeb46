package kopilka

import (
	"context"
	"time"
)

// Counter names. Spend and points are counted per day of the programme's
// time zone; a rule's capped points per period of its cap.
const (
	CounterSpend  = "spend"
	CounterPoints = "points"
)

func dayBucket(t time.Time, loc *time.Location) string { return t.In(loc).Format(time.DateOnly) }

// TierProgress is what a member sees of the tiers: where they are and what
// the next tier needs.
type TierProgress struct {
	MemberID string `json:"member_id"`
	Tier     string `json:"tier"`
	Basis    string `json:"basis"`
	Window   string `json:"window"`
	// Qualifying is the spend or points counted in the window so far.
	Qualifying  int64      `json:"qualifying"`
	WindowStart string     `json:"window_start"`
	ReviewAt    *time.Time `json:"review_at,omitempty"`
	// Next is the next tier up, with what it needs and what is left to reach it.
	Next          string `json:"next,omitempty"`
	NextThreshold int64  `json:"next_threshold,omitempty"`
	Needed        int64  `json:"needed,omitempty"`
}

// windowStart is the first day counted toward a tier at time t.
func (e *Engine) windowStart(t time.Time) string {
	lt := t.In(e.loc)
	plan := e.Programme.Tiers
	if plan.Window == "calendar_year" {
		return time.Date(lt.Year(), 1, 1, 0, 0, 0, 0, e.loc).Format(time.DateOnly)
	}
	return lt.AddDate(0, -plan.Months, 1).Format(time.DateOnly)
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

func (e *Engine) tierRank(name string) int {
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
	lt := t.In(e.loc)
	if e.Programme.Tiers.Window == "calendar_year" {
		return time.Date(lt.Year()+2, 1, 1, 0, 0, 0, 0, e.loc).UTC()
	}
	return lt.AddDate(0, e.Programme.Tiers.Months, 0).UTC()
}

// upgrade raises the member's tier at once when the window's total, with
// this purchase's part added, reaches a higher tier. It reports whether the
// member changed.
func (e *Engine) upgrade(ctx context.Context, tx Tx, m *Member, now time.Time, added int64) (bool, error) {
	plan := e.Programme.Tiers
	if len(plan.Levels) == 0 {
		return false, nil
	}
	total, err := tx.SumCounter(ctx, m.ID, plan.Basis, e.windowStart(now), dayBucket(now, e.loc))
	if err != nil {
		return false, err
	}
	name, rank := e.qualifiedTier(total + added)
	if rank <= e.tierRank(m.Tier) {
		return false, nil
	}
	review := e.reviewAfter(now)
	m.Tier, m.TierReviewAt = name, &review
	return true, nil
}

// review re-qualifies a member whose review date has come: the tier the
// window ending at the review reaches, up or down; none ends the reviews.
func (e *Engine) review(ctx context.Context, tx Tx, m *Member) error {
	at := *m.TierReviewAt
	plan := e.Programme.Tiers
	from := e.windowStart(at.Add(-time.Microsecond))
	to := dayBucket(at.Add(-time.Microsecond), e.loc) // the window ends the day before the review
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
		next = time.Date(at.In(e.loc).Year()+1, 1, 1, 0, 0, 0, 0, e.loc).UTC()
	}
	m.TierReviewAt = &next
	return nil
}

// reviewTiers re-qualifies every member whose review is due.
func (s *Service) reviewTiers(ctx context.Context, e *Engine, now time.Time) (int, error) {
	return s.eachMember(ctx, func(tx Tx, limit int) ([]string, error) {
		return tx.TierReviews(ctx, now, limit)
	}, func(tx Tx, m *Member) (bool, error) {
		if m.TierReviewAt == nil || m.TierReviewAt.After(now) {
			return false, nil // another instance did it
		}
		return true, e.review(ctx, tx, m)
	})
}

// Tier returns the member's progress toward the next tier.
func (s *Service) Tier(ctx context.Context, memberID string) (TierProgress, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return TierProgress{}, err
	}
	now := s.now()
	plan := e.Programme.Tiers
	tp := TierProgress{MemberID: memberID, Basis: plan.Basis, Window: plan.Window}
	err = s.Store.View(ctx, func(tx Tx) error {
		m, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		tp.Tier, tp.ReviewAt = m.Tier, m.TierReviewAt
		if len(plan.Levels) == 0 {
			return nil
		}
		tp.WindowStart = e.windowStart(now)
		if tp.Qualifying, err = tx.SumCounter(ctx, memberID, plan.Basis, tp.WindowStart, dayBucket(now, e.loc)); err != nil {
			return err
		}
		if rank := e.tierRank(m.Tier); rank+1 < len(plan.Levels) {
			next := plan.Levels[rank+1]
			tp.Next, tp.NextThreshold, tp.Needed = next.Name, next.Threshold, max(0, next.Threshold-tp.Qualifying)
		}
		return nil
	})
	return tp, err
}
