package kopilka

import (
	"context"
	"fmt"
	"time"
)

// Settlement between the programme and its partners.
//
// Every purchase, refund and cancel is posted with the store and partner it
// happened at. Points a purchase issues come out of the issuance account and
// are owed by the partner whose store issued them; points a purchase redeems
// go into the redemption account and are owed to the partner whose store took
// them. A member may earn at one partner and spend at another: each side is
// settled with its own partner. A refund reverses both, in the period in
// which it is posted, not in the purchase's.

// PartnerEntry is one ledger transaction at a partner's store.
type PartnerEntry struct {
	TxID      string    `json:"tx_id"`
	Kind      string    `json:"kind"` // purchase, refund or cancel
	ReceiptID string    `json:"receipt_id"`
	RefundID  string    `json:"refund_id,omitempty"`
	StoreID   string    `json:"store_id"`
	At        time.Time `json:"at"`
	// Issued is the points it issued (negative: a refund took them back).
	Issued int64 `json:"issued"`
	// Redeemed is the points it redeemed (negative: a refund gave them back).
	Redeemed int64 `json:"redeemed"`
}

// Statement is what a partner and the programme owe each other for a period.
type Statement struct {
	PartnerID string    `json:"partner_id"`
	Period    string    `json:"period"` // "2026-10" for a month, else from/to
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	// Status is "open" while it may still change and "closed" once frozen.
	Status     string `json:"status"`
	PointValue int64  `json:"point_value"` // minor units of money per point
	Purchases  int64  `json:"purchases"`
	Refunds    int64  `json:"refunds"` // refunds and cancels
	// Points issued and redeemed by purchases, and what refunds took back
	// of the one and gave back of the other.
	PointsIssued     int64          `json:"points_issued"`
	PointsRedeemed   int64          `json:"points_redeemed"`
	RefundedIssued   int64          `json:"refunded_issued"`
	RefundedRedeemed int64          `json:"refunded_redeemed"`
	NetIssued        int64          `json:"net_issued"`
	NetRedeemed      int64          `json:"net_redeemed"`
	OwedByPartner    int64          `json:"owed_by_partner"` // net_issued × point_value
	OwedToPartner    int64          `json:"owed_to_partner"` // net_redeemed × point_value
	NetAmount        int64          `json:"net_amount"`      // owed_to − owed_by: positive, the programme pays the partner
	ClosedAt         *time.Time     `json:"closed_at,omitempty"`
	ClosedBy         string         `json:"closed_by,omitempty"`
	Entries          []PartnerEntry `json:"entries"`
}

// Statement statuses.
const (
	StatementOpen   = "open"
	StatementClosed = "closed"
)

// SettleGrace is how long after a period's end it may be closed, so that
// a transaction that began before the end has committed.
const SettleGrace = time.Hour

// periodBounds reads a month "2026-10" in the programme's time zone.
func periodBounds(period string, loc *time.Location) (from, to time.Time, err error) {
	m, err := time.ParseInLocation("2006-01", period, loc)
	if err != nil {
		return from, to, Invalid("period", `must be a month "YYYY-MM"`)
	}
	return m.UTC(), m.AddDate(0, 1, 0).UTC(), nil
}

// add counts an entry into the totals.
func (st *Statement) add(e PartnerEntry) {
	if e.Kind == KindPurchase {
		st.Purchases++
		st.PointsIssued += e.Issued
		st.PointsRedeemed += e.Redeemed
	} else {
		st.Refunds++
		st.RefundedIssued -= e.Issued
		st.RefundedRedeemed -= e.Redeemed
	}
}

func (st *Statement) total() {
	st.NetIssued = st.PointsIssued - st.RefundedIssued
	st.NetRedeemed = st.PointsRedeemed - st.RefundedRedeemed
	st.OwedByPartner = st.NetIssued * st.PointValue
	st.OwedToPartner = st.NetRedeemed * st.PointValue
	st.NetAmount = st.OwedToPartner - st.OwedByPartner
}

// statement sums the partner's ledger over [from, to) and lists its entries.
func (s *Service) statement(ctx context.Context, tx Tx, partnerID string, from, to time.Time, pointValue int64) (Statement, error) {
	st := Statement{PartnerID: partnerID, From: from, To: to, Status: StatementOpen, PointValue: pointValue, Entries: []PartnerEntry{}}
	var after *Cursor
	for {
		page, err := tx.PartnerEntries(ctx, partnerID, from, to, after, 1000)
		if err != nil {
			return st, err
		}
		for _, e := range page {
			st.add(e)
		}
		st.Entries = append(st.Entries, page...)
		if len(page) < 1000 {
			break
		}
		last := page[len(page)-1]
		after = &Cursor{CreatedAt: last.At, ID: last.TxID}
	}
	st.total()
	return st, nil
}

// Statement reports a partner's points for a month ("2026-10"), or for
// [from, to) when period is empty. A closed month gives its frozen totals.
func (s *Service) Statement(ctx context.Context, partnerID, period string, from, to time.Time) (Statement, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return Statement{}, err
	}
	if period != "" {
		if from, to, err = periodBounds(period, e.loc); err != nil {
			return Statement{}, err
		}
	} else if !from.Before(to) {
		return Statement{}, Invalid("to", "must be after from")
	}
	var st Statement
	err = s.Store.View(ctx, func(tx Tx) error {
		if _, err := tx.Partner(ctx, partnerID); err != nil {
			return err
		}
		if period != "" {
			closed, err := tx.Settlement(ctx, partnerID, period)
			if err == nil {
				st, err = s.withEntries(ctx, tx, closed)
				return err
			} else if ErrorCode(err) != ENOTFOUND {
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
func (s *Service) withEntries(ctx context.Context, tx Tx, closed Statement) (Statement, error) {
	live, err := s.statement(ctx, tx, closed.PartnerID, closed.From, closed.To, closed.PointValue)
	closed.Entries = live.Entries
	return closed, err
}

// CloseSettlement freezes a partner's statement of a month that ended at
// least SettleGrace ago. Closing it again returns the frozen statement.
func (s *Service) CloseSettlement(ctx context.Context, partnerID, period, by string) (Statement, error) {
	e, err := s.Engine(ctx)
	if err != nil {
		return Statement{}, err
	}
	from, to, err := periodBounds(period, e.loc)
	if err != nil {
		return Statement{}, err
	}
	now := s.now()
	if to.Add(SettleGrace).After(now) {
		return Statement{}, Invalid("period", fmt.Sprintf("may be closed from %s, %s after it ends", to.Add(SettleGrace).Format(time.RFC3339), SettleGrace))
	}
	var st Statement
	err = retryRace(func() error {
		return s.Store.Update(ctx, func(tx Tx) (err error) {
			if _, err := tx.Partner(ctx, partnerID); err != nil {
				return err
			}
			if st, err = tx.Settlement(ctx, partnerID, period); err == nil {
				st, err = s.withEntries(ctx, tx, st)
				return err
			} else if ErrorCode(err) != ENOTFOUND {
				return err
			}
			if st, err = s.statement(ctx, tx, partnerID, from, to, e.Programme.PointValue); err != nil {
				return err
			}
			st.Period, st.Status, st.ClosedAt, st.ClosedBy = period, StatementClosed, &now, by
			return tx.InsertSettlement(ctx, st) // the totals; the entries stay in the ledger
		})
	})
	if err != nil {
		return Statement{}, err
	}
	return st, nil
}
