package kopilka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Adjustment is a manual credit (positive points) or debit (negative).
type Adjustment struct {
	Points int64  `json:"points"`
	Reason string `json:"reason"`
}

// Adjust credits or debits a member's available points by hand, recording
// who did it and why. A credit is a new lot that expires like earned points;
// a debit consumes lots like spending. With a key, a repeat of the same
// adjustment returns the first transaction; another body is EIDEMPOTENCY.
func (s *Service) Adjust(ctx context.Context, memberID string, a Adjustment, actor, key string) (Transaction, error) {
	var pr Problems
	a.Reason = strings.TrimSpace(a.Reason)
	if a.Points == 0 {
		pr.Add("points", "must not be zero")
	}
	if a.Points > 1_000_000_000 || a.Points < -1_000_000_000 {
		pr.Add("points", "must be within ±1000000000")
	}
	if a.Reason == "" || utf8.RuneCountInString(a.Reason) > 500 || !CleanText(a.Reason) {
		pr.Add("reason", "is required: at most 500 characters of text without control characters")
	}
	checkID(&pr, "Idempotency-Key", key, false)
	if err := pr.Err(); err != nil {
		return Transaction{}, err
	}
	p, err := s.Programme(ctx)
	if err != nil {
		return Transaction{}, err
	}
	hash := hashJSON(a)
	now := s.now()
	var t Transaction
	err = retryRace(func() error {
		return s.Store.Update(ctx, func(tx Tx) error {
			bal, err := tx.LockBalance(ctx, memberID) // ENOTFOUND for an unknown member
			if err != nil {
				return err
			}
			// Under the member's lock a replay sees the adjustment its twin committed.
			if key != "" {
				prev, err := tx.TransactionByKey(ctx, memberID, key)
				if err == nil {
					if prev.RequestHash != hash {
						return FieldErr(EIDEMPOTENCY, "Idempotency-Key", "was used for a different adjustment")
					}
					t = prev
					return nil
				} else if ErrorCode(err) != ENOTFOUND {
					return err
				}
			}
			e := newEntry(Transaction{ID: s.newID(), MemberID: memberID, Kind: KindAdjustment, Reason: a.Reason,
				Actor: actor, IdempotencyKey: key, RequestHash: hash, CreatedAt: now})
			if a.Points > 0 {
				e.addLot(s.newID(), a.Points, AccountAdjustment, now, p.expiresAfter(now), now)
			} else {
				d, err := s.settleDue(ctx, tx, memberID, bal, now, true)
				if err != nil {
					return err
				}
				if -a.Points > d.balance.Available {
					return &Error{Code: EINSUFFICIENT, Message: "the member has fewer points available than the debit",
						Fields: []FieldError{{"points", "is more than the available balance"}}, Extra: map[string]any{"available": d.balance.Available}}
				}
				if !e.consume(d.spendable, -a.Points, AccountAdjustment) {
					return Errorf(EINTERNAL, "ledger: lots of member %s hold less than the balance", memberID)
				}
			}
			if err := tx.Post(ctx, e); err != nil {
				return err // ECONFLICT: a twin won the key; retryRace runs again
			}
			t = e.Tx
			return nil
		})
	})
	return t, err
}

// Balance returns a member's balance and the points that expire soon.
func (s *Service) Balance(ctx context.Context, memberID string) (BalanceView, error) {
	p, err := s.Programme(ctx)
	if err != nil {
		return BalanceView{}, err
	}
	v := BalanceView{MemberID: memberID, Expiring: []Expiring{}}
	err = s.Store.View(ctx, func(tx Tx) error {
		b, err := tx.LockBalance(ctx, memberID)
		if err != nil {
			return err
		}
		v.Available, v.Pending = b.Available, b.Pending
		exp, err := tx.Expiring(ctx, memberID, s.now().AddDate(0, 0, p.ExpiringSoonDays))
		if exp != nil {
			v.Expiring = exp
		}
		return err
	})
	return v, err
}

// History returns up to limit of a member's transactions, newest first,
// and the cursor of the next page (nil at the end).
func (s *Service) History(ctx context.Context, memberID string, before *Cursor, limit int) ([]Transaction, *Cursor, error) {
	if limit <= 0 || limit > 500 {
		return nil, nil, Invalid("limit", "must be between 1 and 500")
	}
	var items []Transaction
	err := s.Store.View(ctx, func(tx Tx) error {
		if _, err := tx.Member(ctx, memberID); err != nil {
			return err
		}
		var err error
		items, err = tx.Transactions(ctx, memberID, before, limit+1)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var next *Cursor
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return items, next, nil
}

// JobReport says what a run of the background job did.
type JobReport struct {
	Activated int `json:"activated_members"`
	Expired   int `json:"expired_members"`
	// TiersReviewed counts members re-qualified; Birthdays, bonuses given.
	TiersReviewed int `json:"tiers_reviewed"`
	Birthdays     int `json:"birthday_bonuses"`
}

// RunJobs activates pending lots whose time has come and expires active lots
// whose time has passed, one member per transaction, until none are due.
// Several instances may run it at once: each change is re-checked under the
// member's balance lock, so no lot is activated or expired twice.
func (s *Service) RunJobs(ctx context.Context) (JobReport, error) {
	var rep JobReport
	// A member whose settlement fails is left for the next run; the others
	// are settled, and the errors are returned together at the end.
	failed := map[string]error{}
	for {
		now := s.now()
		var activate, expire []string
		err := s.Store.View(ctx, func(tx Tx) (err error) {
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
			e, err := s.Engine(ctx)
			if err != nil {
				return rep, errors.Join(append(errs, err)...)
			}
			n, err := s.reviewTiers(ctx, e, now)
			rep.TiersReviewed = n
			errs = append(errs, err)
			n, err = s.birthdays(ctx, e, now)
			rep.Birthdays = n
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
func (s *Service) eachMember(ctx context.Context, list func(tx Tx, limit int) ([]string, error), change func(tx Tx, m *Member) (bool, error)) (int, error) {
	const page = 200
	n := 0
	var errs []error
	for {
		var ids []string
		if err := s.Store.View(ctx, func(tx Tx) (err error) {
			ids, err = list(tx, page)
			return err
		}); err != nil {
			return n, errors.Join(append(errs, err)...)
		}
		done := 0
		for _, id := range ids {
			err := s.Store.Update(ctx, func(tx Tx) error {
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
	err = s.Store.Update(ctx, func(tx Tx) error {
		bal, err := tx.LockBalance(ctx, memberID)
		if err != nil {
			return err
		}
		d, err := s.settleDue(ctx, tx, memberID, bal, now, true)
		activated, expired = d.activated, d.expired
		return err
	})
	return activated, expired, err
}

// due is a member's ledger after its due lots were settled.
type due struct {
	balance            Balance
	spendable          []*Lot // active lots that hold points, in spend order
	activated, expired bool
}

// settleDue activates the member's pending lots whose time has come and
// expires active lots whose time has passed, with the balance lock held,
// so that spending never uses expired points nor misses points that became
// spendable, whether or not the job has run yet. With post false it only
// computes (for a quote). Activation is posted before expiry, so that the
// balance never dips below zero between the two.
func (s *Service) settleDue(ctx context.Context, tx Tx, memberID string, bal Balance, now time.Time, post bool) (due, error) {
	lots, err := tx.Lots(ctx, memberID, "")
	if err != nil {
		return due{}, err
	}
	// Ids are drawn only for an entry that is posted: usually nothing is due.
	act := newEntry(Transaction{MemberID: memberID, Kind: KindActivation, CreatedAt: now})
	exp := newEntry(Transaction{MemberID: memberID, Kind: KindExpiry, CreatedAt: now})
	d := due{}
	for _, l := range lots {
		if l.State == LotPending && !l.ActivatesAt.After(now) {
			l.State = LotActive
			act.Lots[l.ID] = l
			act.post(AccountPending, AccountAvailable, l.Remaining)
		}
		switch {
		case l.State == LotActive && !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(now):
			l.Expired += l.Remaining
			exp.consume([]*Lot{l}, l.Remaining, AccountExpiry)
		case l.State == LotActive:
			d.spendable = append(d.spendable, l)
		}
	}
	SpendOrder(d.spendable)
	d.activated, d.expired = len(act.Lots) > 0, len(exp.Lots) > 0
	for _, e := range []*Entry{act, exp} {
		if len(e.Lots) == 0 {
			continue
		}
		bal.Available += e.Tx.Available
		bal.Pending += e.Tx.Pending
		if post {
			e.Tx.ID = s.newID()
			if err := tx.Post(ctx, e); err != nil {
				return due{}, err
			}
		}
	}
	d.balance = bal
	return d, nil
}

// Verify checks the ledger's invariants.
func (s *Service) Verify(ctx context.Context) ([]Breach, error) { return s.Store.Verify(ctx) }
