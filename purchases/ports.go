package purchases

import (
	"context"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/programme"
)

// Tx is the storage the purchase flow needs inside a transaction.
type Tx interface {
	access.Auditor
	ledger.SettleTx
	programme.BonusTx
	pricing.Counters
	// AddCounters adds the deltas to the member's counters, creating them.
	AddCounters(ctx context.Context, memberID string, deltas []kopilka.Counter) error
	// BudgetUsed sums what every slice of the budget has given.
	BudgetUsed(ctx context.Context, name string) (int64, error)
	// Holder finds the member a receipt names (by card number, else by member
	// id), locks the member's balance as LockBalance does, and returns any
	// purchase the partner already stored under receiptID: one round trip
	// for the till's hot path. An unknown card or member is ENOTFOUND.
	Holder(ctx context.Context, cardNumber, memberID, partnerID, receiptID string) (kopilka.Holder, error)
	// InsertPurchase stores a confirmed purchase; a receipt id its partner
	// has used already is ECONFLICT.
	InsertPurchase(ctx context.Context, p *kopilka.Purchase) error
	// InsertRefund stores a refund; an existing refund id is ECONFLICT.
	InsertRefund(ctx context.Context, r *kopilka.RefundRecord) error
	// ListPurchases returns a page of purchases matching q, newest first.
	ListPurchases(ctx context.Context, q kopilka.PurchaseQuery) ([]*kopilka.Purchase, error)
	// LotsByID returns the named lots.
	LotsByID(ctx context.Context, ids []string) ([]*kopilka.Lot, error)
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// Purchase returns the partner's purchase with its lines, or ENOTFOUND.
	Purchase(ctx context.Context, partnerID, receiptID string) (*kopilka.Purchase, error)
	// PurchasePartners returns up to limit partners that have a purchase
	// with the receipt id, in order.
	PurchasePartners(ctx context.Context, receiptID string, limit int) ([]string, error)
	// Refunds returns the refunds of the partner's purchase, oldest first.
	Refunds(ctx context.Context, partnerID, receiptID string) ([]kopilka.RefundRecord, error)
	// Refund returns the refund of the partner's purchase, or ENOTFOUND.
	Refund(ctx context.Context, partnerID, receiptID, refundID string) (*kopilka.RefundRecord, error)
	// TakeBudget takes up to want points of a budget split into slices,
	// slice i holding at most limits[i]: from slice prefer first, then from
	// the slices with the most room. It locks only the slices it takes from,
	// each round in ascending order; when a slice it chose was drained
	// meanwhile it chooses again among the others, so it returns less than
	// want only when no slice has room left. (A second round may deadlock
	// with another taker: that is a retryable error.) It never takes past
	// a slice's limit.
	TakeBudget(ctx context.Context, name string, limits []int64, prefer int, want int64) (int64, error)
	UpdateMember(ctx context.Context, m kopilka.Member) error
	// UpdatePurchase stores the purchase's status, spends and refunded quantities.
	UpdatePurchase(ctx context.Context, p *kopilka.Purchase) error
}
