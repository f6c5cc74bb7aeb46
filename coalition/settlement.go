package coalition

import (
	"context"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// periodBounds reads a month "2026-10" in the programme's time zone.
func periodBounds(period string, loc *time.Location) (from, to time.Time, err error) {
	m, err := time.ParseInLocation("2006-01", period, loc)
	if err != nil || m.Year() < 2000 || m.Year() > 2999 {
		return from, to, kopilka.Invalid("period", `must be a month "YYYY-MM" from 2000-01 to 2999-12`)
	}
	return m.UTC(), kopilka.AddMonths(m, 1).UTC(), nil
}

// statement sums the partner's ledger over [from, to) and lists its entries.
func (s *Service) statement(ctx context.Context, tx Tx, partnerID string, from, to time.Time, pointValue int64) (kopilka.Statement, error) {
	st := kopilka.Statement{PartnerID: partnerID, From: from, To: to, Status: kopilka.StatementOpen, PointValue: pointValue, Entries: []kopilka.PartnerEntry{}}
	var after *kopilka.Cursor
	for {
		page, err := tx.PartnerEntries(ctx, partnerID, from, to, after, 1000)
		if err != nil {
			return st, err
		}
		for _, e := range page {
			if err := st.Add(e); err != nil {
				return st, err
			}
		}
		st.Entries = append(st.Entries, page...)
		if len(page) < 1000 {
			break
		}
		last := page[len(page)-1]
		after = &kopilka.Cursor{CreatedAt: last.At, ID: last.TxID}
	}
	return st, st.Total()
}

// Settlements lists the partner's closed months, newest first, without
// their entries (read one with Statement). A principal of another partner
// finds the partner missing.
func (s *Service) Settlements(ctx context.Context, partnerID string) (sts []kopilka.Statement, err error) {
	if err := access.Allow(ctx, access.PartnersReports); err != nil {
		return nil, err
	}
	if !access.Reaches(ctx, partnerID, "") {
		return nil, errNoPartner
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		if _, err := s.partner(ctx, tx, partnerID); err != nil {
			return err
		}
		sts, err = tx.Settlements(ctx, partnerID)
		return err
	})
	return sts, err
}

// Statement reports a partner's points for a month ("2026-10"), or for
// [from, to) when period is empty. A closed month gives its frozen totals.
func (s *Service) Statement(ctx context.Context, partnerID, period string, from, to time.Time) (kopilka.Statement, error) {
	if err := access.Allow(ctx, access.PartnersReports); err != nil {
		return kopilka.Statement{}, err
	}
	if !access.Reaches(ctx, partnerID, "") {
		return kopilka.Statement{}, errNoPartner
	}
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.Statement{}, err
	}
	if period != "" {
		if from, to, err = periodBounds(period, e.Loc); err != nil {
			return kopilka.Statement{}, err
		}
	} else if !from.Before(to) {
		return kopilka.Statement{}, kopilka.Invalid("to", "must be after from")
	}
	var st kopilka.Statement
	err = s.DB.View(ctx, func(tx Tx) error {
		if _, err := s.partner(ctx, tx, partnerID); err != nil {
			return err
		}
		if period != "" {
			closed, err := tx.Settlement(ctx, partnerID, period)
			if err == nil {
				st, err = s.withEntries(ctx, tx, closed)
				return err
			} else if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				return err
			}
		}
		st, err = s.statement(ctx, tx, partnerID, from, to, e.Programme.PointValue)
		st.Period = period
		return err
	})
	return st, err
}

// withEntries lists a closed statement's entries from the ledger, read with
// the bounds it was closed with, whatever the time zone is now; its totals
// stay as they were frozen.
func (s *Service) withEntries(ctx context.Context, tx Tx, closed kopilka.Statement) (kopilka.Statement, error) {
	live, err := s.statement(ctx, tx, closed.PartnerID, closed.From, closed.To, closed.PointValue)
	closed.Entries = live.Entries
	return closed, err
}

// CloseSettlement freezes a partner's statement of a month that ended at
// least SettleGrace ago. Closing it again returns the frozen statement.
// It is recorded as closed by the principal in ctx.
func (s *Service) CloseSettlement(ctx context.Context, partnerID, period string) (_ kopilka.Statement, err error) {
	a := access.Begin(ctx, s.Env, access.SettlementsClose, partnerID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Statement{}, err
	}
	by := kopilka.PrincipalFrom(ctx).Actor()
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.Statement{}, err
	}
	from, to, err := periodBounds(period, e.Loc)
	if err != nil {
		return kopilka.Statement{}, err
	}
	now := s.Env.Time()
	if to.Add(kopilka.SettleGrace).After(now) {
		return kopilka.Statement{}, kopilka.Invalid("period", fmt.Sprintf("may be closed from %s, %s after it ends", to.Add(kopilka.SettleGrace).Format(time.RFC3339), kopilka.SettleGrace))
	}
	var st kopilka.Statement
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) (err error) {
			if _, err := s.partner(ctx, tx, partnerID); err != nil {
				return err
			}
			if st, err = tx.Settlement(ctx, partnerID, period); err == nil {
				if st, err = s.withEntries(ctx, tx, st); err != nil {
					return err
				}
				return a.Record(ctx, tx, totals(st), totals(st))
			} else if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				return err
			}
			if st, err = s.statement(ctx, tx, partnerID, from, to, e.Programme.PointValue); err != nil {
				return err
			}
			st.Period, st.Status, st.ClosedAt, st.ClosedBy = period, kopilka.StatementClosed, &now, by
			if err := tx.InsertSettlement(ctx, st); err != nil { // the totals; the entries stay in the ledger
				return err
			}
			return a.Record(ctx, tx, nil, totals(st))
		})
	})
	if err != nil {
		return kopilka.Statement{}, err
	}
	return st, nil
}

// totals is a statement without its entries, as the audit log keeps it:
// the entries are the ledger's own transactions.
func totals(st kopilka.Statement) kopilka.Statement {
	st.Entries = nil
	return st
}
