package kopilka

import (
	"context"
	"time"
)

// Store is the storage the service needs. Every write runs inside Update as
// one database transaction; the store retries it on a serialization
// failure or a deadlock, so fn must have no effect outside the transaction.
// Implementations: store/sqlite and store/postgres; both pass store/storetest.
type Store interface {
	// Update runs fn in one read-write transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn outside a transaction, for reads.
	View(ctx context.Context, fn func(Tx) error) error
	// Verify checks the ledger invariants and returns every breach it finds.
	Verify(ctx context.Context) ([]Breach, error)
	Ping(ctx context.Context) error
	Close() error
}

// Tx is the set of operations available inside a transaction.
type Tx interface {
	ProgrammeTx
	MemberTx
	LedgerTx
	PurchaseTx
	KeyTx
	CounterTx
	PartnerTx
	AccessTx
}

// AccessTx reads and writes operators, sessions, one-time codes and the
// audit log. The audit log has no update or delete: it is append-only.
type AccessTx interface {
	// InsertOperator stores a new operator; a taken e-mail is ECONFLICT.
	InsertOperator(ctx context.Context, o Operator) error
	UpdateOperator(ctx context.Context, o Operator) error
	// Operator returns the operator, or ENOTFOUND.
	Operator(ctx context.Context, id string) (Operator, error)
	// LockOperator reads the operator and holds it until the transaction
	// ends, so that concurrent failed logins all count.
	LockOperator(ctx context.Context, id string) (Operator, error)
	OperatorIDByEmail(ctx context.Context, email string) (string, error)
	Operators(ctx context.Context) ([]Operator, error)
	InsertSession(ctx context.Context, s Session) error
	// Session returns the live (not revoked) session with the hash, or ENOTFOUND.
	Session(ctx context.Context, hash string) (Session, error)
	RevokeSession(ctx context.Context, hash string, at time.Time) error
	// RevokeSessions ends every live session of the operator or member.
	RevokeSessions(ctx context.Context, subjectID string, at time.Time) error
	// PutOTP stores the address's code, replacing any earlier one.
	PutOTP(ctx context.Context, o OTP) error
	// OTP returns the address's code, or ENOTFOUND; LockOTP also holds it.
	OTP(ctx context.Context, address string) (OTP, error)
	LockOTP(ctx context.Context, address string) (OTP, error)
	// InsertAudit appends entries.
	InsertAudit(ctx context.Context, es ...AuditEntry) error
	// AuditEntries lists entries matching the filter, newest first.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}

// PartnerTx reads and writes partners, their stores and settlements.
type PartnerTx interface {
	// PutPartner inserts the partner or replaces the one with its id.
	PutPartner(ctx context.Context, p Partner) error
	// Partner returns the partner, or ENOTFOUND.
	Partner(ctx context.Context, id string) (Partner, error)
	Partners(ctx context.Context) ([]Partner, error)
	// PutOutlet inserts the store or replaces the one with its id.
	PutOutlet(ctx context.Context, o Outlet) error
	// Outlet returns the store, or ENOTFOUND.
	Outlet(ctx context.Context, id string) (Outlet, error)
	// Outlets lists up to limit stores of a partner ("": all) with ids after after, by id.
	Outlets(ctx context.Context, partnerID, after string, limit int) ([]Outlet, error)
	// OutletsIn lists up to limit open stores of active partners (of one
	// partner when partnerID is set) whose coordinates lie in the box, with
	// their partner's categories. It must use an index on the coordinates.
	OutletsIn(ctx context.Context, b Box, partnerID string, limit int) ([]Outlet, error)
	// PartnerEntries lists up to limit ledger transactions at the
	// partner's stores posted in [from, to), oldest first, after the cursor.
	PartnerEntries(ctx context.Context, partnerID string, from, to time.Time, after *Cursor, limit int) ([]PartnerEntry, error)
	// InsertSettlement stores a closed statement; an existing one is ECONFLICT.
	InsertSettlement(ctx context.Context, st Statement) error
	// Settlement returns the closed statement of the period, or ENOTFOUND.
	Settlement(ctx context.Context, partnerID, period string) (Statement, error)
}

// CounterTx keeps running totals: a member's per bucket (spend and points
// per day for tiers, a rule's points per period for caps), and budgets
// split into slices.
type CounterTx interface {
	// AddCounters adds the deltas to the member's counters, creating them.
	AddCounters(ctx context.Context, memberID string, deltas []Counter) error
	// SumCounter sums the member's counter over buckets from … to, inclusive.
	SumCounter(ctx context.Context, memberID, name, from, to string) (int64, error)
	// LastPurchase is when the member's last purchase not cancelled occurred (zero: never).
	LastPurchase(ctx context.Context, memberID string) (time.Time, error)
	// TakeBudget takes up to want points of a budget split into slices,
	// slice i holding at most limits[i]: from slice prefer first, then from
	// the slices with the most room. It locks only the slices it takes from,
	// in ascending order, so concurrent takers never deadlock; it returns
	// what it took (less than want only when the slices it chose ran out).
	TakeBudget(ctx context.Context, name string, limits []int64, prefer int, want int64) (int64, error)
	// BudgetUsed sums what every slice of the budget has given.
	BudgetUsed(ctx context.Context, name string) (int64, error)
}

// Counter is a change of one of a member's totals in one bucket.
type Counter struct {
	Name   string
	Bucket string
	Delta  int64
}

// ProgrammeTx reads and writes the programme settings.
type ProgrammeTx interface {
	Programme(ctx context.Context) (Programme, error)
	SetProgramme(ctx context.Context, p Programme) error
}

// MemberTx reads and writes members and cards.
type MemberTx interface {
	// InsertMember stores a new member with a zero balance.
	InsertMember(ctx context.Context, m Member) error
	UpdateMember(ctx context.Context, m Member) error
	// Member returns the member with its cards, or ENOTFOUND.
	Member(ctx context.Context, id string) (Member, error)
	// MemberIDBy finds a member by "phone", "email" or "card" (any status), or ENOTFOUND.
	MemberIDBy(ctx context.Context, key, value string) (string, error)
	InsertCard(ctx context.Context, c Card) error
	UpdateCard(ctx context.Context, c Card) error
	// Card returns the card, or ENOTFOUND.
	Card(ctx context.Context, number string) (Card, error)
	// BirthdayMembers lists up to limit active members born on one of the
	// days ("MM-DD") who have had no birthday bonus for year.
	BirthdayMembers(ctx context.Context, days []string, year, limit int) ([]string, error)
	// TierReviews lists up to limit members whose tier is due for review at now.
	TierReviews(ctx context.Context, now time.Time, limit int) ([]string, error)
}

// LedgerTx reads and writes balances, lots and transactions.
type LedgerTx interface {
	// Holder finds the member a receipt names (by card number, else by member
	// id), locks the member's balance as LockBalance does, and returns any
	// purchase already stored under receiptID: one round trip for the till's
	// hot path. An unknown card or member is ENOTFOUND.
	Holder(ctx context.Context, cardNumber, memberID, receiptID string) (Holder, error)
	// LockBalance reads the member's balance and holds it against other
	// writers until the transaction ends. Every write to a member's lots
	// takes this lock first, so locks are always taken in the same order.
	LockBalance(ctx context.Context, memberID string) (Balance, error)
	// Lots returns the member's lots in a state ("": any) that still hold points.
	Lots(ctx context.Context, memberID, state string) ([]*Lot, error)
	// LotsByID returns the named lots.
	LotsByID(ctx context.Context, ids []string) ([]*Lot, error)
	// Post writes the entry: transaction, postings, lots, lot moves and the
	// change to the member's balance. A balance that would go negative is EINSUFFICIENT.
	Post(ctx context.Context, e *Entry) error
	// Transactions returns a member's history, newest first, before the cursor.
	Transactions(ctx context.Context, memberID string, before *Cursor, limit int) ([]Transaction, error)
	// TransactionByKey finds a transaction by its idempotency key, or ENOTFOUND.
	TransactionByKey(ctx context.Context, memberID, key string) (Transaction, error)
	// Expiring sums the member's active points that expire by until.
	Expiring(ctx context.Context, memberID string, until time.Time) ([]Expiring, error)
	// DueMembers lists up to limit members with lots to activate or expire at now.
	DueMembers(ctx context.Context, now time.Time, limit int) (activate, expire []string, err error)
}

// Holder is the member a receipt is for, as a purchase finds it.
type Holder struct {
	MemberID     string
	MemberStatus string
	CardStatus   string // "" when the receipt named the member, not a card
	Balance      Balance
	// Prior is the purchase already confirmed under the receipt id, if any.
	Prior *PriorPurchase
}

// PriorPurchase is what a replay of a confirmation needs.
type PriorPurchase struct {
	RequestHash string
	Quote       Quote
}

// Cursor marks a place in a member's history.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// PurchaseTx reads and writes purchases and refunds.
type PurchaseTx interface {
	// InsertPurchase stores a confirmed purchase; an existing receipt id is ECONFLICT.
	InsertPurchase(ctx context.Context, p *Purchase) error
	// Purchase returns the purchase with its lines, or ENOTFOUND.
	Purchase(ctx context.Context, receiptID string) (*Purchase, error)
	// UpdatePurchase stores the purchase's status, spends and refunded quantities.
	UpdatePurchase(ctx context.Context, p *Purchase) error
	// InsertRefund stores a refund; an existing refund id is ECONFLICT.
	InsertRefund(ctx context.Context, r *RefundRecord) error
	// Refund returns the refund, or ENOTFOUND.
	Refund(ctx context.Context, receiptID, refundID string) (*RefundRecord, error)
	// PurchasesBetween returns up to limit purchases with their lines that
	// occurred in [from, to), in order of occurrence, after the cursor.
	PurchasesBetween(ctx context.Context, from, to time.Time, after *Cursor, limit int) ([]*Purchase, error)
}

// KeyTx reads and writes API keys.
type KeyTx interface {
	InsertKey(ctx context.Context, k APIKey) error
	KeyByHash(ctx context.Context, hash string) (APIKey, error)
	Keys(ctx context.Context) ([]APIKey, error)
	RevokeKey(ctx context.Context, id string, at time.Time) error
	TouchKey(ctx context.Context, id string, at time.Time) error
}
