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
				var expires time.Time
				if p.ExpiryMonths > 0 {
					expires = now.AddDate(0, p.ExpiryMonths, 0)
				}
				e.addLot(s.newID(), a.Points, AccountAdjustment, now, expires, now)
			} else {
				if -a.Points > bal.Available {
					return &Error{Code: EINSUFFICIENT, Message: "the member has fewer points available than the debit",
						Fields: []FieldError{{"points", "is more than the available balance"}}, Extra: map[string]any{"available": bal.Available}}
				}
				lots, err := tx.Lots(ctx, memberID, LotActive)
				if err != nil {
					return err
				}
				SpendOrder(lots)
				if !e.consume(lots, -a.Points, AccountAdjustment) {
					return Errorf(EINTERNAL, "ledger: lots of member %s hold less than the balance", memberID)
				}
			}
			if err := tx.Post(ctx, e); err != nil {
				if ErrorCode(err) == ECONFLICT {
					return errRace
				}
				return err
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
		for _, job := range []struct {
			kind    string
			members []string
			count   *int
		}{{KindActivation, activate, &rep.Activated}, {KindExpiry, expire, &rep.Expired}} {
			for _, id := range job.members {
				if failed[id] != nil {
					continue
				}
				n, err := s.settle(ctx, id, now, job.kind)
				if err != nil {
					if ctx.Err() != nil {
						return rep, ctx.Err()
					}
					failed[id] = fmt.Errorf("%s of member %s: %w", job.kind, id, err)
					continue
				}
				*job.count += n
			}
		}
		// Nothing changed: nothing was due, or only failed members were, or
		// another instance settled these members first and finishes the work.
		if rep == before {
			errs := make([]error, 0, len(failed))
			for _, err := range failed {
				errs = append(errs, err)
			}
			return rep, errors.Join(errs...)
		}
	}
}

// settle activates or expires one member's due lots; it returns 1 when it
// changed something.
func (s *Service) settle(ctx context.Context, memberID string, now time.Time, kind string) (int, error) {
	changed := 0
	err := s.Store.Update(ctx, func(tx Tx) error {
		changed = 0
		if _, err := tx.LockBalance(ctx, memberID); err != nil {
			return err
		}
		state := LotActive
		if kind == KindActivation {
			state = LotPending
		}
		lots, err := tx.Lots(ctx, memberID, state)
		if err != nil {
			return err
		}
		e := newEntry(Transaction{ID: s.newID(), MemberID: memberID, Kind: kind, CreatedAt: now})
		for _, l := range lots {
			switch {
			case kind == KindActivation && !l.ActivatesAt.After(now):
				l.State = LotActive
				e.Lots[l.ID] = l
				e.post(AccountPending, AccountAvailable, l.Remaining)
			case kind == KindExpiry && !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(now):
				e.consume([]*Lot{l}, l.Remaining, AccountExpiry)
			}
		}
		if len(e.Lots) == 0 {
			return nil
		}
		changed = 1
		return tx.Post(ctx, e)
	})
	return changed, err
}

// Verify checks the ledger's invariants.
func (s *Service) Verify(ctx context.Context) ([]Breach, error) { return s.Store.Verify(ctx) }
