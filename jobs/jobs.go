package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
)

// JobReport says what a run of the background job did.
type JobReport struct {
	Activated int `json:"activated_members"`
	Expired   int `json:"expired_members"`
	// TiersReviewed counts members re-qualified; Birthdays, bonuses given.
	TiersReviewed int `json:"tiers_reviewed"`
	Birthdays     int `json:"birthday_bonuses"`
	// StaleCodes counts one-time code rows forgotten: every window they
	// served (the code, the day's failures, the day's sends) ended 2 days ago.
	StaleCodes int `json:"stale_codes"`
}

// RunJobs activates pending lots whose time has come and expires active lots
// whose time has passed, one member per transaction, until none are due.
// Several instances may run it at once: each change is re-checked under the
// member's balance lock, so no lot is activated or expired twice.
//
// The caller must be allowed to run the jobs: the command line and the
// server's own timer act as kopilka.System.
func (s *Service) RunJobs(ctx context.Context) (JobReport, error) {
	var rep JobReport
	if err := access.Allow(ctx, access.JobsRun); err != nil {
		return rep, err
	}
	// A member whose settlement fails is left for the next run; the others
	// are settled, and the errors are returned together at the end.
	failed := map[string]error{}
	for {
		now := s.Env.Time()
		var activate, expire []string
		err := s.DB.View(ctx, func(tx Tx) (err error) {
			activate, expire, err = tx.DueMembers(ctx, now, 200)
			return err
		})
		if err != nil {
			return rep, err
		}
		before := rep
		members := append(activate, expire...)
		seen := map[string]bool{}
		for _, id := range members {
			if seen[id] || failed[id] != nil {
				continue
			}
			seen[id] = true
			activated, expired, err := s.settle(ctx, id, now)
			if err != nil {
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
				failed[id] = fmt.Errorf("settling member %s: %w", id, err)
				continue
			}
			if activated {
				rep.Activated++
			}
			if expired {
				rep.Expired++
			}
		}
		// Nothing changed: nothing was due, or only failed members were, or
		// another instance settled these members first and finishes the work.
		if rep == before {
			errs := make([]error, 0, len(failed)+2)
			for _, err := range failed {
				errs = append(errs, err)
			}
			e, err := s.Live.Engine(ctx)
			if err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			n, err := s.reviewTiers(ctx, e, now)
			rep.TiersReviewed = n
			errs = append(errs, err)
			n, err = s.birthdays(ctx, e, now)
			rep.Birthdays = n
			errs = append(errs, err)
			n, err = s.staleCodes(ctx, now)
			rep.StaleCodes = n
			errs = append(errs, err)
			return rep, errors.Join(errs...)
		}
	}
}

// eachMember changes every member list finds, a page at a time, each in a
// transaction of its own under the member's balance lock, until a page
// changes nobody. change reports whether it changed the member (false: the
// member no longer qualifies, say because another instance got there first);
// a changed member is stored. It returns how many members it handled and
// every error, joined; a member that fails is left for the next run.
func (s *Service) eachMember(ctx context.Context, list func(tx Tx, limit int) ([]string, error), change func(tx Tx, m *kopilka.Member) (bool, error)) (int, error) {
	const page = 200
	n := 0
	var errs []error
	for {
		var ids []string
		if err := s.DB.View(ctx, func(tx Tx) (err error) {
			ids, err = list(tx, page)
			return err
		}); err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		done := 0
		for _, id := range ids {
			err := s.DB.Update(ctx, func(tx Tx) error {
				if _, err := tx.LockBalance(ctx, id); err != nil {
					return err
				}
				m, err := tx.Member(ctx, id)
				if err != nil {
					return err
				}
				if changed, err := change(tx, &m); err != nil || !changed {
					return err
				}
				return tx.UpdateMember(ctx, m)
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			done++
		}
		n += done
		if len(ids) < page || done == 0 {
			return n, errors.Join(errs...)
		}
	}
}

// settle activates and expires one member's due lots in a transaction of
// its own, reporting whether it activated and whether it expired anything.
func (s *Service) settle(ctx context.Context, memberID string, now time.Time) (activated, expired bool, err error) {
	err = s.DB.Update(ctx, func(tx Tx) error {
		bal, err := tx.LockBalance(ctx, memberID)
		if err != nil {
			return err
		}
		d, err := ledger.SettleDue(ctx, tx, s.Env, memberID, bal, now, true)
		activated, expired = d.Activated, d.Expired
		return err
	})
	return activated, expired, err
}

// staleCodes forgets one-time code rows (an address of nobody asked for
// once leaves one) whose every window ended two days before now, a
// thousand per transaction.
func (s *Service) staleCodes(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for {
		var n int
		err := s.DB.Update(ctx, func(tx Tx) (err error) { n, err = tx.DeleteStaleCodes(ctx, now.Add(-48*time.Hour), 1000); return err })
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}
