package jobs

import (
	"context"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/pricing"
)

// reviewTiers re-qualifies every member whose review is due.
func (s *Service) reviewTiers(ctx context.Context, e *pricing.Engine, now time.Time) (int, error) {
	return s.eachMember(ctx, func(tx Tx, limit int) ([]string, error) {
		return tx.TierReviews(ctx, now, limit)
	}, func(tx Tx, m *kopilka.Member) (bool, error) {
		if m.TierReviewAt == nil || m.TierReviewAt.After(now) {
			return false, nil // another instance did it
		}
		return true, e.Review(ctx, tx, m)
	})
}
