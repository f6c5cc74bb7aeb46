package kopilka

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
)

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

// Add counts an entry into the totals. A sum that does not fit in an int64
// is ErrStatementTooLarge.
func (st *Statement) Add(e PartnerEntry) error {
	var ok1, ok2 bool
	if e.Kind == KindPurchase {
		st.Purchases++
		st.PointsIssued, ok1 = Add(st.PointsIssued, e.Issued)
		st.PointsRedeemed, ok2 = Add(st.PointsRedeemed, e.Redeemed)
	} else {
		st.Refunds++
		st.RefundedIssued, ok1 = Add(st.RefundedIssued, -e.Issued)
		st.RefundedRedeemed, ok2 = Add(st.RefundedRedeemed, -e.Redeemed)
	}
	if !ok1 || !ok2 {
		return ErrStatementTooLarge
	}
	return nil
}

// Total computes the net points and the money each way from the sums, in
// minor units (points × point_value). An amount that does not fit in an
// int64 is ErrStatementTooLarge.
func (st *Statement) Total() error {
	var ok [5]bool
	st.NetIssued, ok[0] = Add(st.PointsIssued, -st.RefundedIssued)
	st.NetRedeemed, ok[1] = Add(st.PointsRedeemed, -st.RefundedRedeemed)
	st.OwedByPartner, ok[2] = Mul(st.NetIssued, st.PointValue)
	st.OwedToPartner, ok[3] = Mul(st.NetRedeemed, st.PointValue)
	st.NetAmount, ok[4] = Add(st.OwedToPartner, -st.OwedByPartner)
	for _, v := range ok {
		if !v {
			return ErrStatementTooLarge
		}
	}
	return nil
}

// ErrStatementTooLarge is a statement whose amounts pass what an int64 of
// minor units holds (9.2·10^18): only a programme with absurd figures
// (point_value, rules) gets there.
var ErrStatementTooLarge = Invalid("period", "the statement's amounts pass 9223372036854775807 minor units: check the programme's point_value and rules")

// FileName names the statement's file, without an extension:
// statement-<partner>-<period>, or statement-<partner>-<from>-<to> (dates
// YYYYMMDD) for a span that is no month.
func (st Statement) FileName() string {
	name := st.PartnerID + "-" + st.Period
	if st.Period == "" {
		name = st.PartnerID + "-" + st.From.Format("20060102") + "-" + st.To.Format("20060102")
	}
	return "statement-" + name
}

// WriteCSV writes the statement as CSV: a header, one row per ledger
// transaction (at, kind, receipt_id, refund_id, store_id, tx_id, and the
// points issued and redeemed), then a row of the net totals.
func (st Statement) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"at", "kind", "receipt_id", "refund_id", "store_id", "tx_id", "issued", "redeemed"})
	for _, e := range st.Entries {
		_ = cw.Write([]string{e.At.Format(time.RFC3339Nano), e.Kind, CSVCell(e.ReceiptID), CSVCell(e.RefundID), CSVCell(e.StoreID), e.TxID,
			strconv.FormatInt(e.Issued, 10), strconv.FormatInt(e.Redeemed, 10)})
	}
	_ = cw.Write([]string{st.To.Format(time.RFC3339), "total", "", "", "", "",
		strconv.FormatInt(st.NetIssued, 10), strconv.FormatInt(st.NetRedeemed, 10)})
	cw.Flush()
	return cw.Error()
}

// CSVCell keeps a spreadsheet from reading a cell (an id, a name) as a
// formula: one that starts with =, +, - or @ gets a leading apostrophe.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
