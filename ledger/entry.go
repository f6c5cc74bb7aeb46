package ledger

import (
	"fmt"
	"sort"
	"time"

	"github.com/kopilka/kopilka"
)

// Entry is a ledger transaction being built: its postings, the lots it
// creates and the changes to existing lots. The store writes it at once.
type Entry struct {
	Tx       kopilka.Transaction
	Postings []kopilka.Posting
	Moves    []kopilka.LotMove
	NewLots  []kopilka.Lot
	// Lots holds the new remaining points (and state) of lots it changed.
	Lots map[string]*kopilka.Lot
}

func NewEntry(tx kopilka.Transaction) *Entry {
	return &Entry{Tx: tx, Lots: map[string]*kopilka.Lot{}}
}

// Post moves points from one account to another.
func (e *Entry) Post(from, to string, points int64) {
	if points == 0 {
		return
	}
	e.Postings = append(e.Postings, kopilka.Posting{Account: from, Amount: -points}, kopilka.Posting{Account: to, Amount: points})
	for _, p := range []kopilka.Posting{{Account: from, Amount: -points}, {Account: to, Amount: points}} {
		switch p.Account {
		case kopilka.AccountAvailable:
			e.Tx.Available += p.Amount
		case kopilka.AccountPending:
			e.Tx.Pending += p.Amount
		}
	}
}

// AddLot creates a lot of points from the counter account.
func (e *Entry) AddLot(id string, points int64, from string, activates, expires, now time.Time) *kopilka.Lot {
	l := kopilka.Lot{ID: id, MemberID: e.Tx.MemberID, TxID: e.Tx.ID, Points: points, Remaining: points,
		State: kopilka.LotActive, ActivatesAt: activates, ExpiresAt: expires, CreatedAt: now}
	to := kopilka.AccountAvailable
	if activates.After(now) {
		l.State, to = kopilka.LotPending, kopilka.AccountPending
	}
	e.NewLots = append(e.NewLots, l)
	e.Post(from, to, points)
	return &e.NewLots[len(e.NewLots)-1]
}

// Move changes a lot's remaining points and records it.
func (e *Entry) Move(l *kopilka.Lot, delta int64) {
	if delta == 0 {
		return
	}
	l.Remaining += delta
	e.Lots[l.ID] = l
	e.Moves = append(e.Moves, kopilka.LotMove{LotID: l.ID, Delta: delta})
}

// Consume takes points from the lots in order (oldest to expire first) and
// posts them from the lots' account to the counter account. It reports
// whether the lots held enough; on false the entry must be discarded.
func (e *Entry) Consume(lots []*kopilka.Lot, points int64, to string) bool {
	for _, l := range lots {
		if points == 0 {
			break
		}
		take := min(l.Remaining, points)
		if take <= 0 {
			continue
		}
		e.Move(l, -take)
		from := kopilka.AccountAvailable
		if l.State == kopilka.LotPending {
			from = kopilka.AccountPending
		}
		e.Post(from, to, take)
		points -= take
	}
	return points == 0
}

// SpendOrder sorts lots the way spending consumes them: the soonest to
// expire first (never-expiring last), then the oldest.
func SpendOrder(lots []*kopilka.Lot) {
	sort.SliceStable(lots, func(i, j int) bool {
		a, b := lots[i], lots[j]
		if !a.ExpiresAt.Equal(b.ExpiresAt) {
			if a.ExpiresAt.IsZero() || b.ExpiresAt.IsZero() {
				return b.ExpiresAt.IsZero()
			}
			return a.ExpiresAt.Before(b.ExpiresAt)
		}
		if !a.CreatedAt.Equal(b.CreatedAt) {
			return a.CreatedAt.Before(b.CreatedAt)
		}
		return a.ID < b.ID
	})
}

// Fits reports whether a member's balance bal (read under its lock) can take
// the entry: an entry that adds points may not take available and pending
// together past max (kopilka.Programme.BalanceCap). It returns EPOINTSCAP,
// naming field, when it cannot; an entry that adds nothing always fits.
func (e *Entry) Fits(bal kopilka.Balance, max int64, field string) error {
	delta, ok := kopilka.Add(e.Tx.Available, e.Tx.Pending)
	if !ok {
		return capErr(max, field)
	}
	if delta <= 0 {
		return nil
	}
	held, ok := kopilka.Add(bal.Available, bal.Pending)
	if after, ok2 := kopilka.Add(held, delta); !ok || !ok2 || after > max {
		return capErr(max, field)
	}
	return nil
}

func capErr(max int64, field string) error {
	return &kopilka.Error{Code: kopilka.EPOINTSCAP,
		Message: fmt.Sprintf("the member's balance would hold more than %d points, the most one balance may hold", max),
		Fields:  []kopilka.FieldError{{Field: field, Detail: fmt.Sprintf("would take the balance past %d points", max)}},
		Extra:   map[string]any{"max_balance": max}}
}
