package ledger

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Adjust credits or debits a member's available points by hand, recording
// who did it and why. A credit is a new lot that expires like earned points;
// a debit consumes lots like spending. With a key, a repeat of the same
// adjustment returns the first transaction; another body is EIDEMPOTENCY.
// The support role may move at most SupportLimit points either way, and
// at most SupportDailyLimit a day in all and SupportMemberDailyLimit a day
// on one member (EFORBIDDEN past either; a replay counts once).
func (s *Service) Adjust(ctx context.Context, memberID string, a kopilka.Adjustment, key string) (t kopilka.Transaction, err error) {
	audit := access.Begin(ctx, s.Env, access.LedgerAdjust, memberID)
	defer func() { err = access.Finish(ctx, s.DB, audit, err) }()
	if err := audit.Err(); err != nil {
		return t, err
	}
	prep, err := s.PrepareAdjustment(ctx, a, key)
	if err != nil {
		return t, err
	}
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			var bal kopilka.Balance
			var err error
			if t, bal, _, err = s.PostAdjustment(ctx, tx, memberID, prep); err != nil {
				return err
			}
			return audit.Record(ctx, tx, bal, t)
		})
	})
	return t, err
}

// Prepared is an adjustment checked and ready to post: its idempotency key
// and hash, and the programme it is posted under (read before the
// transaction, so that posting waits for nothing else).
type Prepared struct {
	Adjustment kopilka.Adjustment
	Key, hash  string
	programme  kopilka.Programme
}

// PrepareAdjustment checks an adjustment and its idempotency key before any
// transaction, trimming its reason: the support role's limit at a time
// (EFORBIDDEN) and every field (EINVALID naming it); and reads the
// programme it will be posted under.
func (s *Service) PrepareAdjustment(ctx context.Context, a kopilka.Adjustment, key string) (Prepared, error) {
	if err := s.checkAdjustment(ctx, &a, key); err != nil {
		return Prepared{}, err
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return Prepared{}, err
	}
	return Prepared{Adjustment: a, Key: key, hash: kopilka.HashJSON(a), programme: eng.Programme}, nil
}

func (s *Service) checkAdjustment(ctx context.Context, a *kopilka.Adjustment, key string) error {
	p := kopilka.PrincipalFrom(ctx)
	if p.Role == kopilka.RoleSupport && (a.Points > s.SupportLimit || a.Points < -s.SupportLimit) {
		return &kopilka.Error{Code: kopilka.EFORBIDDEN, Message: fmt.Sprintf("the support role may adjust at most %d points at a time; ask an operator", s.SupportLimit),
			Fields: []kopilka.FieldError{{Field: "points", Detail: fmt.Sprintf("at most %d either way for the support role", s.SupportLimit)}}}
	}
	var pr kopilka.Problems
	a.Reason = strings.TrimSpace(a.Reason)
	if a.Points == 0 {
		pr.Add("points", "must not be zero")
	}
	if a.Points > 1_000_000_000 || a.Points < -1_000_000_000 {
		pr.Add("points", "must be within ±1000000000")
	}
	if a.Reason == "" || utf8.RuneCountInString(a.Reason) > 500 || !kopilka.CleanText(a.Reason) {
		pr.Add("reason", "is required: at most 500 characters of text without control characters")
	}
	a.Life().Check(&pr, "", "expires_days", "expires_months")
	if a.Points < 0 && a.Life().Set() {
		pr.Add("expires_days", "a debit takes no life: give expires_days or expires_months only with a credit")
	}
	kopilka.CheckID(&pr, "Idempotency-Key", key, false)
	return pr.Err()
}

// PostAdjustment posts a prepared adjustment (PrepareAdjustment) inside the
// caller's transaction, which must end with the audit entry: it locks the
// member's balance, takes the support role's daily allowances, and credits
// a new lot or debits lots as spending does. With a key, a repeat of the
// same adjustment returns the first transaction and replayed true; another
// adjustment under the key is EIDEMPOTENCY. It returns the balance before.
// Errors: ENOTFOUND (member), ECONFLICT (erased member), EINSUFFICIENT,
// EFORBIDDEN (allowance), EPOINTSCAP.
func (s *Service) PostAdjustment(ctx context.Context, tx Tx, memberID string, prep Prepared) (t kopilka.Transaction, bal kopilka.Balance, replayed bool, err error) {
	a, key, hash, prog := prep.Adjustment, prep.Key, prep.hash, prep.programme
	now := s.Env.Time()
	p := kopilka.PrincipalFrom(ctx)
	bal, err = tx.LockBalance(ctx, memberID) // ENOTFOUND for an unknown member
	if err != nil {
		return t, bal, false, err
	}
	if m, err := tx.Member(ctx, memberID); err != nil {
		return t, bal, false, err
	} else if m.Status == kopilka.StatusErased {
		return t, bal, false, kopilka.Errorf(kopilka.ECONFLICT, "the member's personal data was erased on request: the account takes no adjustments")
	}
	// Under the member's lock a replay sees the adjustment its twin committed.
	if key != "" {
		prev, err := tx.TransactionByKey(ctx, memberID, key)
		if err == nil {
			if prev.RequestHash != hash {
				return t, bal, false, kopilka.FieldErr(kopilka.EIDEMPOTENCY, "Idempotency-Key", "was used for a different adjustment")
			}
			return prev, bal, true, nil
		} else if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
			return t, bal, false, err
		}
	}
	if p.Role == kopilka.RoleSupport {
		if err := s.supportAllowance(ctx, tx, p, memberID, a.Points, now); err != nil {
			return t, bal, false, err
		}
	}
	e := NewEntry(kopilka.Transaction{ID: s.Env.NewID(), MemberID: memberID, Kind: kopilka.KindAdjustment, Reason: a.Reason,
		Actor: p.Actor(), IdempotencyKey: key, RequestHash: hash, CreatedAt: now})
	if a.Points > 0 {
		expires := prog.ExpiresAfter(now)
		if a.Life().Set() {
			expires = a.Life().After(now)
		}
		e.AddLot(s.Env.NewID(), a.Points, kopilka.AccountAdjustment, now, expires, now)
	} else {
		d, err := SettleDue(ctx, tx, s.Env, memberID, bal, now, true)
		if err != nil {
			return t, bal, false, err
		}
		if -a.Points > d.Balance.Available {
			return t, bal, false, &kopilka.Error{Code: kopilka.EINSUFFICIENT, Message: "the member has fewer points available than the debit",
				Fields: []kopilka.FieldError{{Field: "points", Detail: "is more than the available balance"}}, Extra: map[string]any{"available": d.Balance.Available}}
		}
		if !e.Consume(d.Spendable, -a.Points, kopilka.AccountAdjustment) {
			return t, bal, false, kopilka.Errorf(kopilka.EINTERNAL, "ledger: lots of member %s hold less than the balance", memberID)
		}
	}
	if err := e.Fits(bal, prog.BalanceCap(), "points"); err != nil {
		return t, bal, false, err
	}
	if err := tx.Post(ctx, e); err != nil {
		return t, bal, false, err // ECONFLICT: a twin won the key; retryRace runs again
	}
	return e.Tx, bal, false, nil
}

// supportAllowance takes an adjustment of points (either way) from the
// support role's daily allowances: the operator's and the member's, each
// counted per UTC day (not the programme's: a change of its time zone
// would open a new day's allowance at once).
func (s *Service) supportAllowance(ctx context.Context, tx Tx, p kopilka.Principal, memberID string, points int64, now time.Time) error {
	day := now.UTC().Format(time.DateOnly)
	moved := max(points, -points)
	for _, c := range []struct {
		name, who string
		limit     int64
	}{
		{"support:" + p.Kind + ":" + p.ID + ":" + day, "one support operator", s.SupportDailyLimit},
		{"support-member:" + memberID + ":" + day, "the support role on one member", s.SupportMemberDailyLimit},
	} {
		if c.limit <= 0 {
			continue
		}
		ok, err := tx.TakeAllowance(ctx, c.name, moved, c.limit)
		if err != nil {
			return err
		}
		if !ok {
			return &kopilka.Error{Code: kopilka.EFORBIDDEN,
				Message: fmt.Sprintf("%s may adjust at most %d points a day (%s, UTC), and this would pass it; ask an operator", c.who, c.limit, day),
				Fields:  []kopilka.FieldError{{Field: "points", Detail: fmt.Sprintf("passes the daily limit of %d points for %s", c.limit, c.who)}}}
		}
	}
	return nil
}

// Balance returns a member's balance and the points that expire soon.
func (s *Service) Balance(ctx context.Context, memberID string) (kopilka.BalanceView, error) {
	if err := access.Allow(ctx, access.LedgerBalance); err != nil {
		return kopilka.BalanceView{}, err
	}
	return s.balance(ctx, memberID)
}

// MyBalance is Balance for the member signed in.
func (s *Service) MyBalance(ctx context.Context) (kopilka.BalanceView, error) {
	if err := access.Allow(ctx, access.MeBalance); err != nil {
		return kopilka.BalanceView{}, err
	}
	return s.balance(ctx, kopilka.PrincipalFrom(ctx).MemberID)
}

func (s *Service) balance(ctx context.Context, memberID string) (kopilka.BalanceView, error) {
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.BalanceView{}, err
	}
	p := eng.Programme
	v := kopilka.BalanceView{MemberID: memberID, Expiring: []kopilka.Expiring{}}
	err = s.DB.View(ctx, func(tx Tx) error {
		b, err := tx.LockBalance(ctx, memberID)
		if err != nil {
			return err
		}
		v.Available, v.Pending = b.Available, b.Pending
		exp, err := tx.Expiring(ctx, memberID, s.Env.Time().AddDate(0, 0, p.ExpiringSoonDays))
		if exp != nil {
			v.Expiring = exp
		}
		return err
	})
	return v, err
}

// History returns up to limit of a member's transactions, newest first,
// and the cursor of the next page (nil at the end).
func (s *Service) History(ctx context.Context, memberID string, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
	if err := access.Allow(ctx, access.LedgerHistory); err != nil {
		return nil, nil, err
	}
	return s.history(ctx, memberID, before, limit)
}

// MyHistory is History for the member signed in.
func (s *Service) MyHistory(ctx context.Context, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
	if err := access.Allow(ctx, access.MeHistory); err != nil {
		return nil, nil, err
	}
	return s.history(ctx, kopilka.PrincipalFrom(ctx).MemberID, before, limit)
}

func (s *Service) history(ctx context.Context, memberID string, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, *kopilka.Cursor, error) {
	if limit <= 0 || limit > 500 {
		return nil, nil, kopilka.Invalid("limit", "must be between 1 and 500")
	}
	var items []kopilka.Transaction
	err := s.DB.View(ctx, func(tx Tx) error {
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
	var next *kopilka.Cursor
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = &kopilka.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	return items, next, nil
}

// Due is a member's ledger after its due lots were settled.
type Due struct {
	Balance            kopilka.Balance
	Spendable          []*kopilka.Lot // active lots that hold points, in spend order
	Activated, Expired bool
}

// SettleDue activates the member's pending lots whose time has come and
// expires active lots whose time has passed, with the balance lock held,
// so that spending never uses expired points nor misses points that became
// spendable, whether or not the job has run yet. With post false it only
// computes (for a quote). Activation is posted before expiry, so that the
// balance never dips below zero between the two.
func SettleDue(ctx context.Context, tx SettleTx, env *kopilka.Env, memberID string, bal kopilka.Balance, now time.Time, post bool) (Due, error) {
	lots, err := tx.Lots(ctx, memberID, "")
	if err != nil {
		return Due{}, err
	}
	// Ids are drawn only for an entry that is posted: usually nothing is due.
	act := NewEntry(kopilka.Transaction{MemberID: memberID, Kind: kopilka.KindActivation, CreatedAt: now})
	exp := NewEntry(kopilka.Transaction{MemberID: memberID, Kind: kopilka.KindExpiry, CreatedAt: now})
	d := Due{}
	for _, l := range lots {
		if l.State == kopilka.LotPending && !l.ActivatesAt.After(now) {
			l.State = kopilka.LotActive
			act.Lots[l.ID] = l
			act.Post(kopilka.AccountPending, kopilka.AccountAvailable, l.Remaining)
		}
		switch {
		case l.State == kopilka.LotActive && !l.ExpiresAt.IsZero() && !l.ExpiresAt.After(now):
			l.Expired += l.Remaining
			exp.Consume([]*kopilka.Lot{l}, l.Remaining, kopilka.AccountExpiry)
		case l.State == kopilka.LotActive:
			d.Spendable = append(d.Spendable, l)
		}
	}
	SpendOrder(d.Spendable)
	d.Activated, d.Expired = len(act.Lots) > 0, len(exp.Lots) > 0
	for _, e := range []*Entry{act, exp} {
		if len(e.Lots) == 0 {
			continue
		}
		bal.Available += e.Tx.Available
		bal.Pending += e.Tx.Pending
		if post {
			e.Tx.ID = env.NewID()
			if err := tx.Post(ctx, e); err != nil {
				return Due{}, err
			}
		}
	}
	d.Balance = bal
	return d, nil
}
