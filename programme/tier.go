package programme

import (
	"context"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// Tier returns the member's progress toward the next tier.
func (s *Service) Tier(ctx context.Context, memberID string) (kopilka.TierProgress, error) {
	if err := access.Allow(ctx, access.MembersTier); err != nil {
		return kopilka.TierProgress{}, err
	}
	return s.tier(ctx, memberID)
}

// MyTier is the signed-in member's own tier and progress (see Tier).
func (s *Service) MyTier(ctx context.Context) (kopilka.TierProgress, error) {
	if err := access.Allow(ctx, access.MeTier); err != nil {
		return kopilka.TierProgress{}, err
	}
	return s.tier(ctx, kopilka.PrincipalFrom(ctx).MemberID)
}

func (s *Service) tier(ctx context.Context, memberID string) (kopilka.TierProgress, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return kopilka.TierProgress{}, err
	}
	now := s.Env.Time()
	plan := e.Programme.Tiers
	tp := kopilka.TierProgress{MemberID: memberID, Basis: plan.Basis, Window: plan.Window}
	err = s.DB.View(ctx, func(tx Tx) error {
		m, err := tx.Member(ctx, memberID)
		if err != nil {
			return err
		}
		tp.Tier, tp.ReviewAt = m.Tier, m.TierReviewAt
		if len(plan.Levels) == 0 {
			return nil
		}
		tp.WindowStart = e.WindowStart(now)
		if tp.Qualifying, err = tx.SumCounter(ctx, memberID, plan.Basis, tp.WindowStart, pricing.DayBucket(now, e.Loc)); err != nil {
			return err
		}
		if rank := e.TierRank(m.Tier); rank+1 < len(plan.Levels) {
			next := plan.Levels[rank+1]
			tp.Next, tp.NextThreshold, tp.Needed = next.Name, next.Threshold, max(0, next.Threshold-tp.Qualifying)
		}
		return nil
	})
	return tp, err
}
