package kopilka

import "time"

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

// Add counts an entry into the totals.
func (st *Statement) Add(e PartnerEntry) {
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

func (st *Statement) Total() {
	st.NetIssued = st.PointsIssued - st.RefundedIssued
	st.NetRedeemed = st.PointsRedeemed - st.RefundedRedeemed
	st.OwedByPartner = st.NetIssued * st.PointValue
	st.OwedToPartner = st.NetRedeemed * st.PointValue
	st.NetAmount = st.OwedToPartner - st.OwedByPartner
}
