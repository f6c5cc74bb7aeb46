// Package cases keeps the service centre's cases: a dispute, complaint or
// request that a member raised, recorded against the member (and the
// receipt it is about, where there is one), with notes, a status and a
// resolution. A compensation bonus or correction is made from the case,
// within the support role's limits, in the transaction that notes it on the
// case, so that what was given and why stays together. The figures the
// service centre is judged by come from the cases: how many are open, how
// many were resolved at the first contact, and how long resolving took.
package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
)

// Case kinds, channels and statuses.
const (
	KindDispute   = "dispute"   // the member disputes points or a receipt
	KindComplaint = "complaint" // about service, a store, the programme
	KindRequest   = "request"   // asks for something: a card, a change, information

	StatusOpen     = "open"
	StatusResolved = "resolved"
)

// Kinds and Channels are the values a case may have.
var (
	Kinds    = []string{KindDispute, KindComplaint, KindRequest}
	Channels = []string{"phone", "store", "email", "app", "chat", "other"}
)

// Case is one service case. Times are UTC; Compensated is the sum of the
// points given (negative: taken) from the case.
type Case struct {
	ID       string `json:"id"`
	MemberID string `json:"member_id"`
	Kind     string `json:"kind"`
	Channel  string `json:"channel"`
	Subject  string `json:"subject"`
	// ReceiptID and PartnerID name the purchase the case is about ("": none).
	ReceiptID  string     `json:"receipt_id,omitempty"`
	PartnerID  string     `json:"partner_id,omitempty"`
	Status     string     `json:"status"`
	Resolution string     `json:"resolution,omitempty"`
	OpenedBy   string     `json:"opened_by"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// FirstContact says the case was resolved in the contact that opened it.
	FirstContact bool      `json:"first_contact"`
	Compensated  int64     `json:"compensated"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Notes are the case's notes, oldest first (left out of lists).
	Notes []Note `json:"notes,omitempty"`
}

// Note is one entry of a case's log: a note, a compensation (with its
// ledger transaction and points), a resolution or a reopening.
type Note struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"` // note, compensation, resolved, reopened
	Text   string    `json:"text"`
	TxID   string    `json:"tx_id,omitempty"`
	Points int64     `json:"points,omitempty"`
}

// Opening is a new case. With Resolution, the case is resolved at once:
// the problem was solved in the contact that raised it.
type Opening struct {
	MemberID   string `json:"member_id"`
	Kind       string `json:"kind"`
	Channel    string `json:"channel"`
	Subject    string `json:"subject"`
	ReceiptID  string `json:"receipt_id"`
	PartnerID  string `json:"partner_id"`
	Note       string `json:"note"`
	Resolution string `json:"resolution"`
}

// Query filters a list of cases, newest first.
type Query struct {
	MemberID string
	Status   string
	Before   *kopilka.Cursor
	Limit    int
}

// Stats are the service centre's figures for cases opened in [From, To):
// how many were opened, are still open, were resolved, and resolved at the
// first contact (and its share, in per cent rounded down), and the mean
// time to resolve the resolved ones, in whole minutes. OpenNow counts
// every case open now, whenever opened.
type Stats struct {
	From                 time.Time `json:"from"`
	To                   time.Time `json:"to"`
	Opened               int64     `json:"opened"`
	Open                 int64     `json:"open"`
	Resolved             int64     `json:"resolved"`
	FirstContact         int64     `json:"first_contact"`
	FirstContactPercent  int64     `json:"first_contact_percent"`
	MeanMinutesToResolve int64     `json:"mean_minutes_to_resolve"`
	OpenNow              int64     `json:"open_now"`
	CompensatedPoints    int64     `json:"compensated_points"`
}

// Tx is the storage the cases need inside a transaction; a compensation
// posts through the ledger's own port in the same transaction.
type Tx interface {
	ledger.Tx
	InsertCase(ctx context.Context, c Case) error
	// LockCase reads a case with its notes and holds it until the
	// transaction ends, or ENOTFOUND.
	LockCase(ctx context.Context, id string) (Case, error)
	// Case reads a case with its notes, or ENOTFOUND.
	Case(ctx context.Context, id string) (Case, error)
	UpdateCase(ctx context.Context, c Case) error
	AddCaseNote(ctx context.Context, caseID string, n Note) error
	// Cases lists cases, newest first, without notes.
	Cases(ctx context.Context, q Query) ([]Case, error)
	// CaseStats counts the cases opened in [from, to).
	CaseStats(ctx context.Context, from, to time.Time) (Stats, error)
	// Purchase reads a purchase, or ENOTFOUND.
	Purchase(ctx context.Context, partnerID, receiptID string) (*kopilka.Purchase, error)
	// PurchasePartners lists up to limit partners that have a purchase
	// with the receipt id.
	PurchasePartners(ctx context.Context, receiptID string, limit int) ([]string, error)
}

// Adjuster posts an adjustment inside the caller's transaction: the
// ledger's Service.
type Adjuster interface {
	PrepareAdjustment(ctx context.Context, a kopilka.Adjustment, key string) (ledger.Prepared, error)
	PostAdjustment(ctx context.Context, tx ledger.Tx, memberID string, prep ledger.Prepared) (kopilka.Transaction, kopilka.Balance, bool, error)
}

// Service runs the cases over the database.
type Service struct {
	DB     kopilka.Transactor[Tx]
	Env    *kopilka.Env
	Ledger Adjuster
}

// MaxNotes is how many notes one case takes; past it, open another case.
const MaxNotes = 500

func checkText(pr *kopilka.Problems, field, v string, required bool, max int) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		pr.Add(field, "is required")
	case utf8.RuneCountInString(v) > max || !kopilka.CleanText(strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(v)):
		pr.Add(field, fmt.Sprintf("must be at most %d characters of text", max))
	}
	return v
}

// Open opens a case against a member (resolved at once when the opening
// has a resolution). Errors: EINVALID naming the field; ENOTFOUND for a
// member or a receipt that does not exist (a receipt must be the member's).
func (s *Service) Open(ctx context.Context, in Opening) (c Case, err error) {
	a := access.Begin(ctx, s.Env, access.CasesWrite, "")
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return c, err
	}
	var pr kopilka.Problems
	kopilka.CheckID(&pr, "member_id", in.MemberID, true)
	if !slices.Contains(Kinds, in.Kind) {
		pr.Add("kind", "must be one of "+strings.Join(Kinds, ", "))
	}
	if in.Channel == "" {
		in.Channel = "phone"
	}
	if !slices.Contains(Channels, in.Channel) {
		pr.Add("channel", "must be one of "+strings.Join(Channels, ", "))
	}
	in.Subject = checkText(&pr, "subject", in.Subject, true, 200)
	in.Note = checkText(&pr, "note", in.Note, false, 4000)
	in.Resolution = checkText(&pr, "resolution", in.Resolution, false, 2000)
	kopilka.CheckID(&pr, "receipt_id", in.ReceiptID, false)
	kopilka.CheckID(&pr, "partner_id", in.PartnerID, false)
	if in.PartnerID != "" && in.ReceiptID == "" {
		pr.Add("partner_id", "names the receipt's partner: give receipt_id too")
	}
	if err := pr.Err(); err != nil {
		return c, err
	}
	now := s.Env.Time()
	actor := kopilka.PrincipalFrom(ctx).Actor()
	c = Case{ID: s.Env.NewID(), MemberID: in.MemberID, Kind: in.Kind, Channel: in.Channel, Subject: in.Subject,
		ReceiptID: in.ReceiptID, PartnerID: in.PartnerID, Status: StatusOpen, OpenedBy: actor, OpenedAt: now, UpdatedAt: now}
	a.SetTarget(c.ID)
	if in.Note != "" {
		c.Notes = append(c.Notes, Note{Seq: 1, At: now, Actor: actor, Kind: "note", Text: in.Note})
	}
	if in.Resolution != "" {
		c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt, c.FirstContact = StatusResolved, in.Resolution, actor, &now, true
		c.Notes = append(c.Notes, Note{Seq: len(c.Notes) + 1, At: now, Actor: actor, Kind: "resolved", Text: in.Resolution})
	}
	err = s.DB.Update(ctx, func(tx Tx) error {
		m, err := tx.Member(ctx, in.MemberID)
		if err != nil {
			return err
		}
		if m.Status == kopilka.StatusErased {
			return kopilka.Errorf(kopilka.ECONFLICT, "the member's personal data was erased on request: no case can be opened")
		}
		if in.ReceiptID != "" {
			partners := []string{in.PartnerID}
			if in.PartnerID == "" {
				if partners, err = tx.PurchasePartners(ctx, in.ReceiptID, 50); err != nil {
					return err
				}
			}
			c.PartnerID = ""
			for _, partner := range partners { // the member's purchase among the partners' receipts of this id
				if p, err := tx.Purchase(ctx, partner, in.ReceiptID); err == nil && p.MemberID == in.MemberID {
					c.PartnerID = p.PartnerID
					break
				} else if err != nil && kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
					return err
				}
			}
			if c.PartnerID == "" {
				return kopilka.FieldErr(kopilka.ENOTFOUND, "receipt_id", "the member has no purchase with this receipt id")
			}
		}
		if err := tx.InsertCase(ctx, c); err != nil {
			return err
		}
		for _, n := range c.Notes {
			if err := tx.AddCaseNote(ctx, c.ID, n); err != nil {
				return err
			}
		}
		return a.Record(ctx, tx, nil, c)
	})
	return c, err
}

// Case reads a case with its notes.
func (s *Service) Case(ctx context.Context, id string) (c Case, err error) {
	if err := access.Allow(ctx, access.CasesRead); err != nil {
		return c, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		c, err = tx.Case(ctx, id)
		return err
	})
	return c, err
}

// List lists cases newest first, a page of at most q.Limit (1–500,
// default 50), with the cursor of the next page (nil at the end).
func (s *Service) List(ctx context.Context, q Query) ([]Case, *kopilka.Cursor, error) {
	if err := access.Allow(ctx, access.CasesRead); err != nil {
		return nil, nil, err
	}
	var pr kopilka.Problems
	kopilka.CheckID(&pr, "member_id", q.MemberID, false)
	if q.Status != "" && q.Status != StatusOpen && q.Status != StatusResolved {
		pr.Add("status", `must be "open" or "resolved"`)
	}
	q.Limit = kopilka.PageLimit(&pr, q.Limit)
	if err := pr.Err(); err != nil {
		return nil, nil, err
	}
	var cs []Case
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		cs, err = tx.Cases(ctx, q)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	var next *kopilka.Cursor
	if len(cs) == q.Limit {
		last := cs[len(cs)-1]
		next = &kopilka.Cursor{CreatedAt: last.OpenedAt, ID: last.ID}
	}
	return cs, next, nil
}

// Stats counts the cases opened in [from, to) (see Stats); a zero to is
// now, and a zero from 30 days before to.
func (s *Service) Stats(ctx context.Context, from, to time.Time) (st Stats, err error) {
	if err := access.Allow(ctx, access.CasesRead); err != nil {
		return st, err
	}
	if to.IsZero() {
		to = s.Env.Time()
	}
	if from.IsZero() {
		from = to.Add(-30 * 24 * time.Hour)
	}
	if !from.Before(to) {
		return st, kopilka.Invalid("to", "must be after from")
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		st, err = tx.CaseStats(ctx, from, to)
		return err
	})
	if st.Resolved > 0 {
		st.FirstContactPercent = st.FirstContact * 100 / st.Resolved
	}
	st.From, st.To = from, to
	return st, err
}

// change runs one change of a case in a transaction with its audit entry:
// fn changes the locked case and returns the notes to add.
func (s *Service) change(ctx context.Context, action access.Action, id string, fn func(tx Tx, c *Case, actor string, now time.Time) ([]Note, error)) (c Case, err error) {
	a := access.Begin(ctx, s.Env, action, id)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return c, err
	}
	actor := kopilka.PrincipalFrom(ctx).Actor()
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			var err error
			if c, err = tx.LockCase(ctx, id); err != nil {
				return err
			}
			before := c
			before.Notes = nil
			now := s.Env.Time()
			notes, err := fn(tx, &c, actor, now)
			if err != nil {
				return err
			}
			if len(c.Notes)+len(notes) > MaxNotes {
				return kopilka.Errorf(kopilka.ECONFLICT, "the case has %d notes, the most one case takes: open another case", MaxNotes)
			}
			for _, n := range notes {
				n.Seq, n.At, n.Actor = len(c.Notes)+1, now, actor
				if err := tx.AddCaseNote(ctx, c.ID, n); err != nil {
					return err
				}
				c.Notes = append(c.Notes, n)
			}
			c.UpdatedAt = now
			if err := tx.UpdateCase(ctx, c); err != nil {
				return err
			}
			after := c
			after.Notes = notes
			return a.Record(ctx, tx, before, after)
		})
	})
	return c, err
}

// AddNote adds a note to a case.
func (s *Service) AddNote(ctx context.Context, id, text string) (Case, error) {
	var pr kopilka.Problems
	text = checkText(&pr, "text", text, true, 4000)
	if err := pr.Err(); err != nil {
		return Case{}, err
	}
	return s.change(ctx, access.CasesWrite, id, func(tx Tx, c *Case, actor string, now time.Time) ([]Note, error) {
		return []Note{{Kind: "note", Text: text}}, nil
	})
}

// Resolve resolves an open case with its resolution (ECONFLICT if it is
// resolved already).
func (s *Service) Resolve(ctx context.Context, id, resolution string) (Case, error) {
	var pr kopilka.Problems
	resolution = checkText(&pr, "resolution", resolution, true, 2000)
	if err := pr.Err(); err != nil {
		return Case{}, err
	}
	return s.change(ctx, access.CasesWrite, id, func(tx Tx, c *Case, actor string, now time.Time) ([]Note, error) {
		if c.Status == StatusResolved {
			return nil, kopilka.Errorf(kopilka.ECONFLICT, "the case is resolved already")
		}
		c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt = StatusResolved, resolution, actor, &now
		return []Note{{Kind: "resolved", Text: resolution}}, nil
	})
}

// Reopen opens a resolved case again, saying why (ECONFLICT if it is open).
// It is no longer counted as resolved at the first contact.
func (s *Service) Reopen(ctx context.Context, id, why string) (Case, error) {
	var pr kopilka.Problems
	why = checkText(&pr, "reason", why, true, 2000)
	if err := pr.Err(); err != nil {
		return Case{}, err
	}
	return s.change(ctx, access.CasesWrite, id, func(tx Tx, c *Case, actor string, now time.Time) ([]Note, error) {
		if c.Status == StatusOpen {
			return nil, kopilka.Errorf(kopilka.ECONFLICT, "the case is open")
		}
		c.Status, c.Resolution, c.ResolvedBy, c.ResolvedAt, c.FirstContact = StatusOpen, "", "", nil, false
		return []Note{{Kind: "reopened", Text: why}}, nil
	})
}

// Compensation is points given to (positive) or taken from (negative) the
// member from a case, with the reason the member's history shows.
type Compensation struct {
	Points int64  `json:"points"`
	Reason string `json:"reason"`
	// ExpiresDays and ExpiresMonths give a credit a life of its own
	// (default: the programme's, as earned points).
	ExpiresDays   int `json:"expires_days,omitempty"`
	ExpiresMonths int `json:"expires_months,omitempty"`
}

// Compensate gives (or takes) points from a case, as an adjustment of the
// member's balance with the support role's limits, in the transaction that
// notes it on the case. With a key, a repeat returns the case as it is,
// with no second compensation. It returns the case and the ledger
// transaction. Errors: those of ledger.Service.Adjust; ECONFLICT for a
// resolved case (reopen it first).
func (s *Service) Compensate(ctx context.Context, id string, comp Compensation, key string) (c Case, t kopilka.Transaction, err error) {
	adj := kopilka.Adjustment{Points: comp.Points, Reason: comp.Reason, ExpiresDays: comp.ExpiresDays, ExpiresMonths: comp.ExpiresMonths}
	if err := access.Allow(ctx, access.CasesCompensate); err != nil {
		return c, t, err
	}
	// The ledger's key and reason name the case; both are known before the
	// transaction, as is the programme the points are posted under.
	ledgerKey := ""
	if key != "" {
		var pr kopilka.Problems
		if kopilka.CheckID(&pr, "Idempotency-Key", key, false); pr.Err() != nil {
			return c, t, pr.Err()
		}
		sum := sha256.Sum256([]byte(id + "\x00" + key))
		ledgerKey = "case:" + hex.EncodeToString(sum[:16])
	}
	reason := strings.TrimSpace(adj.Reason)
	adj.Reason = "case " + shortID(id) + ": " + reason
	if reason == "" {
		adj.Reason = ""
	}
	prep, err := s.Ledger.PrepareAdjustment(ctx, adj, ledgerKey)
	if err != nil {
		return c, t, err
	}
	c, err = s.change(ctx, access.CasesCompensate, id, func(tx Tx, c *Case, actor string, now time.Time) ([]Note, error) {
		var replayed bool
		var err error
		t, _, replayed, err = s.Ledger.PostAdjustment(ctx, tx, c.MemberID, prep)
		if err != nil {
			return nil, err
		}
		if replayed {
			return nil, nil
		}
		if c.Status == StatusResolved {
			return nil, kopilka.Errorf(kopilka.ECONFLICT, "the case is resolved: reopen it to compensate")
		}
		sum, ok := kopilka.Add(c.Compensated, t.Available)
		if !ok {
			return nil, kopilka.Errorf(kopilka.EPOINTSCAP, "the case's compensations overflow")
		}
		c.Compensated = sum
		return []Note{{Kind: "compensation", Text: reason, TxID: t.ID, Points: comp.Points}}, nil
	})
	return c, t, err
}

// shortID is the first part of an id, enough for a person to find it.
func shortID(id string) string {
	if i := strings.IndexByte(id, '-'); i > 0 {
		return id[:i]
	}
	return id
}
