// Package privacy answers a member's requests about their personal data,
// as the Russian law on personal data (152-FZ) and the GDPR give them: an
// export of everything Kopilka holds about the member, as one document,
// and an irreversible erasure of what identifies them, which leaves the
// ledger whole (the member's transactions, lots and purchases stay, under
// an id that no longer names anybody).
package privacy

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/cases"
)

// Tx is the storage the privacy requests need.
type Tx interface {
	access.Auditor
	// AllLots returns every lot of the member, spent ones too.
	AllLots(ctx context.Context, memberID string) ([]*kopilka.Lot, error)
	// AuditEntries lists entries matching the filter, newest first.
	AuditEntries(ctx context.Context, f kopilka.AuditFilter) ([]kopilka.AuditEntry, error)
	// ForgetMember deletes the member's one-time code rows (and those of
	// the addresses) and its messages waiting in the outbox, and erases the
	// words of its service cases.
	ForgetMember(ctx context.Context, memberID string, addresses []string) error
	// LockBalance reads the member's balance and holds it until the
	// transaction ends; ENOTFOUND for an unknown member.
	LockBalance(ctx context.Context, memberID string) (kopilka.Balance, error)
	// Member returns the member with every card, or ENOTFOUND.
	Member(ctx context.Context, id string) (kopilka.Member, error)
	// MemberPurchases returns up to limit purchases after the transaction named.
	MemberPurchases(ctx context.Context, memberID, afterTx string, limit int) ([]*kopilka.Purchase, error)
	// MemberCases returns the member's service cases with their notes.
	MemberCases(ctx context.Context, memberID string, limit int) ([]cases.Case, error)
	// MemberSessions returns what is kept of the member's sessions.
	MemberSessions(ctx context.Context, memberID string) ([]kopilka.Session, error)
	// RevokeSessions ends every live session of the member.
	RevokeSessions(ctx context.Context, subjectID string, at time.Time) error
	// Transactions returns a member's history, newest first, before the cursor.
	Transactions(ctx context.Context, memberID string, before *kopilka.Cursor, limit int) ([]kopilka.Transaction, error)
	UpdateCard(ctx context.Context, c kopilka.Card) error
	UpdateMember(ctx context.Context, m kopilka.Member) error
}

// Service runs the privacy requests over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
}

// Export is everything Kopilka holds about a member: the profile with every
// card, the balance, every lot, every ledger transaction (oldest first),
// every purchase with its lines, the sessions (never a token) and the audit
// log's entries about the member. Amounts are minor units, points points.
type Export struct {
	ExportedAt   time.Time             `json:"exported_at"`
	Member       kopilka.Member        `json:"member"`
	Balance      kopilka.Balance       `json:"balance"`
	Lots         []*kopilka.Lot        `json:"lots"`
	Transactions []kopilka.Transaction `json:"transactions"`
	Purchases    []ExportedPurchase    `json:"purchases"`
	Sessions     []kopilka.Session     `json:"sessions"`
	Cases        []cases.Case          `json:"cases"`
	Audit        []kopilka.AuditEntry  `json:"audit"`
}

// ExportedPurchase is a purchase as an export shows it: where and when, its lines
// as sold and returned, and the confirmation the till received.
type ExportedPurchase struct {
	ReceiptID  string         `json:"receipt_id"`
	PartnerID  string         `json:"partner_id"`
	StoreID    string         `json:"store_id"`
	CardNumber string         `json:"card_number,omitempty"`
	Status     string         `json:"status"`
	OccurredAt time.Time      `json:"occurred_at"`
	Lines      []ExportedLine `json:"lines"`
	Quote      kopilka.Quote  `json:"quote"`
}

// ExportedLine is a purchase's line: what was sold (minor units, a decimal
// quantity), the points it earned and was paid with, and how much of it
// was returned.
type ExportedLine struct {
	LineNo   int              `json:"line"`
	SKU      string           `json:"sku"`
	Category string           `json:"category,omitempty"`
	Quantity kopilka.Quantity `json:"quantity"`
	Price    int64            `json:"price"`
	Amount   int64            `json:"amount"`
	Earned   int64            `json:"earned"`
	Spent    int64            `json:"spent"`
	Refunded kopilka.Quantity `json:"refunded"`
}

func exported(p *kopilka.Purchase) ExportedPurchase {
	x := ExportedPurchase{ReceiptID: p.ReceiptID, PartnerID: p.PartnerID, StoreID: p.StoreID, CardNumber: p.CardNumber, Status: p.Status,
		OccurredAt: p.OccurredAt, Quote: p.Quote, Lines: make([]ExportedLine, len(p.Lines))}
	for i, l := range p.Lines {
		x.Lines[i] = ExportedLine{LineNo: l.Line.Line, SKU: l.SKU, Category: l.Category, Quantity: l.Quantity, Price: l.Price, Amount: l.Amount,
			Earned: l.Earned, Spent: l.Spent, Refunded: l.Refunded}
	}
	return x
}

// MaxExportRows bounds the transactions and the purchases of an export: a
// member past it (a till's test card with millions) gets the first ones.
const MaxExportRows = 100_000

// Export returns the member's document (admin only). The request is
// recorded in the audit log; ENOTFOUND for an unknown member.
func (s *Service) Export(ctx context.Context, memberID string) (x Export, err error) {
	a := access.Begin(ctx, s.Env, access.MembersExport, memberID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return x, err
	}
	x.ExportedAt = s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) error {
		var err error
		if x.Balance, err = tx.LockBalance(ctx, memberID); err != nil {
			return err
		}
		if x.Member, err = tx.Member(ctx, memberID); err != nil {
			return err
		}
		lots, err := tx.AllLots(ctx, memberID)
		if err != nil {
			return err
		}
		x.Lots = lots
		var before *kopilka.Cursor
		for len(x.Transactions) < MaxExportRows {
			page, err := tx.Transactions(ctx, memberID, before, 1000)
			if err != nil {
				return err
			}
			x.Transactions = append(x.Transactions, page...)
			if len(page) < 1000 {
				break
			}
			last := page[len(page)-1]
			before = &kopilka.Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
		}
		for i, j := 0, len(x.Transactions)-1; i < j; i, j = i+1, j-1 { // oldest first
			x.Transactions[i], x.Transactions[j] = x.Transactions[j], x.Transactions[i]
		}
		after := ""
		for len(x.Purchases) < MaxExportRows {
			page, err := tx.MemberPurchases(ctx, memberID, after, 500)
			if err != nil {
				return err
			}
			for _, p := range page {
				x.Purchases = append(x.Purchases, exported(p))
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].TxID
		}
		if x.Sessions, err = tx.MemberSessions(ctx, memberID); err != nil {
			return err
		}
		if x.Cases, err = tx.MemberCases(ctx, memberID, 1000); err != nil {
			return err
		}
		if x.Audit, err = tx.AuditEntries(ctx, kopilka.AuditFilter{Target: memberID, Limit: 1000}); err != nil {
			return err
		}
		// Only that the export happened is recorded, never what it holds.
		return a.Record(ctx, tx, nil, map[string]any{"member_id": memberID, "transactions": len(x.Transactions), "purchases": len(x.Purchases)})
	})
	return x, err
}

// Erasure is a request to erase a member: why, for the audit log.
type Erasure struct {
	Reason string `json:"reason"`
}

// Erase erases a member's personal data, irreversibly (admin only): the
// phone, e-mail, name, birth date, consents, tags and chosen categories are
// removed, every card is blocked, every session revoked, one-time codes and
// waiting messages deleted, and the member's status becomes "erased", which
// nothing turns back. The ledger stays whole: balances, lots, transactions
// and purchases keep the member's id. Erasing an erased member changes
// nothing and answers it again. The audit entry keeps the reason and the
// member's id, never the data removed.
func (s *Service) Erase(ctx context.Context, memberID string, e Erasure) (m kopilka.Member, err error) {
	a := access.Begin(ctx, s.Env, access.MembersErase, memberID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return m, err
	}
	e.Reason = strings.TrimSpace(e.Reason)
	if e.Reason == "" || utf8.RuneCountInString(e.Reason) > 500 || !kopilka.CleanText(e.Reason) {
		return m, kopilka.Invalid("reason", "is required: at most 500 characters of text without control characters (the request it answers, for the audit log)")
	}
	now := s.Env.Time()
	err = s.DB.Update(ctx, func(tx Tx) error {
		if _, err := tx.LockBalance(ctx, memberID); err != nil {
			return err
		}
		var err error
		if m, err = tx.Member(ctx, memberID); err != nil {
			return err
		}
		if m.Status == kopilka.StatusErased {
			return a.Record(ctx, tx, nil, map[string]any{"member_id": m.ID, "status": m.Status, "reason": e.Reason, "already": true})
		}
		var addresses []string
		if m.Phone != "" {
			addresses = append(addresses, "phone:"+m.Phone)
		}
		if m.Email != "" {
			addresses = append(addresses, "email:"+m.Email)
		}
		m.Phone, m.Email, m.Name, m.BirthDate = "", "", "", ""
		m.Consents = kopilka.Consents{}
		m.Tags, m.Categories, m.CategoriesAt = []string{}, []string{}, nil
		m.PhoneVerified, m.EmailVerified = false, false
		m.Status = kopilka.StatusErased
		if err := tx.UpdateMember(ctx, m); err != nil {
			return err
		}
		for i, c := range m.Cards {
			if c.Status == kopilka.StatusActive {
				c.Status = kopilka.StatusBlocked
				if err := tx.UpdateCard(ctx, c); err != nil {
					return err
				}
				m.Cards[i] = c
			}
		}
		if err := tx.RevokeSessions(ctx, m.ID, now); err != nil {
			return err
		}
		if err := tx.ForgetMember(ctx, m.ID, addresses); err != nil {
			return err
		}
		return a.Record(ctx, tx, nil, map[string]any{"member_id": m.ID, "status": m.Status, "reason": e.Reason})
	})
	return m, err
}
