package purchases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/programme"
)

// holder finds the member a receipt is for, locks its balance, and refuses
// unknown or blocked cards and blocked members. With replay set, a receipt
// already confirmed is returned in Prior before any check: a replay gets its
// first answer even if the card has been blocked since.
func holder(ctx context.Context, tx Tx, r *kopilka.Receipt, replay bool) (kopilka.Holder, error) {
	h, err := tx.Holder(ctx, r.CardNumber, r.MemberID, r.PartnerID, r.ReceiptID)
	switch {
	case kopilka.ErrorCode(err) == kopilka.ENOTFOUND && r.CardNumber != "":
		return h, kopilka.FieldErr(kopilka.EUNKNOWNCARD, "card_number", "no card has this number")
	case kopilka.ErrorCode(err) == kopilka.ENOTFOUND:
		return h, kopilka.FieldErr(kopilka.ENOTFOUND, "member_id", "no member has this id")
	case err != nil:
		return h, err
	case replay && h.Prior != nil:
		return h, nil
	case h.CardStatus == kopilka.StatusReplaced:
		return h, kopilka.FieldErr(kopilka.EBLOCKEDCARD, "card_number", "the card was replaced by another card")
	case h.CardStatus != "" && h.CardStatus != kopilka.StatusActive:
		return h, kopilka.FieldErr(kopilka.EBLOCKEDCARD, "card_number", "the card is blocked")
	case h.MemberStatus != kopilka.StatusActive:
		return h, kopilka.FieldErr(kopilka.EBLOCKEDMEMBER, "member_id", "the member is blocked")
	}
	r.MemberID = h.MemberID
	return h, nil
}

// projected is the balance after the quote is posted.
func projected(q *kopilka.Quote, b kopilka.Balance, now time.Time, p kopilka.Programme) kopilka.Balance {
	b.Available -= q.Spent
	if activates, _ := p.LotDates(now); activates.After(now) {
		b.Pending += q.Earned
	} else {
		b.Available += q.Earned
	}
	return b
}

// Calculate quotes a receipt. It changes nothing.
func (s *Service) Calculate(ctx context.Context, r kopilka.Receipt) (kopilka.Quote, error) {
	if err := access.Allow(ctx, access.PurchasesQuote); err != nil {
		return kopilka.Quote{}, err
	}
	if err := s.reachStore(ctx, r.StoreID); err != nil {
		return kopilka.Quote{}, err
	}
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.Quote{}, err
	}
	return s.calculate(ctx, r, e, false)
}

// TestReceipt quotes a receipt, as a till would, against the live
// programme and, when draft is not nil, against that draft of it too: the
// receipt tester of the back office, for the roles that simulate the
// programme (a till's role is not needed). It changes nothing. A draft
// that does not compile is EINVALID naming its field.
func (s *Service) TestReceipt(ctx context.Context, r kopilka.Receipt, draft *kopilka.Programme) (live kopilka.Quote, drafted *kopilka.Quote, err error) {
	if err := access.Allow(ctx, access.ProgrammeSimulate); err != nil {
		return live, nil, err
	}
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return live, nil, err
	}
	var de *pricing.Engine
	if draft != nil {
		if de, err = pricing.Compile(*draft); err != nil {
			return live, nil, err
		}
	}
	// A role that may not read balances or cards (marketing) prices the
	// receipt as for a member with no points, and learns of a card only
	// whether it can be used.
	blind := access.Allow(ctx, access.LedgerBalance) != nil
	if blind {
		r.SpendPoints = 0
	}
	defer func() {
		if c := kopilka.ErrorCode(err); blind && (c == kopilka.ENOTFOUND || c == kopilka.EBLOCKEDCARD || c == kopilka.EUNKNOWNCARD) {
			err = kopilka.FieldErr(kopilka.ENOTFOUND, "card_number", "no card that can be used has this number")
		}
	}()
	if live, err = s.calculate(ctx, r, e, blind); err != nil || de == nil {
		return live, nil, err
	}
	dq, err := s.calculate(ctx, r, de, blind)
	return live, &dq, err
}

// calculate quotes a receipt against the engine; blind prices it as for a
// member with no points and leaves the balance out.
func (s *Service) calculate(ctx context.Context, r kopilka.Receipt, e *pricing.Engine, blind bool) (kopilka.Quote, error) {
	now := s.Env.Time()
	if err := r.Validate(now); err != nil {
		return kopilka.Quote{}, err
	}
	site, err := s.Sites.SiteFor(ctx, &r, now)
	if err != nil {
		return kopilka.Quote{}, err
	}
	if err := tooOld(r, now, e.Programme); err != nil {
		return kopilka.Quote{}, err
	}
	var q kopilka.Quote
	err = s.DB.View(ctx, func(tx Tx) error {
		h, err := holder(ctx, tx, &r, false)
		if err != nil {
			return err
		}
		// The balance as the confirmation will see it: due lots settled.
		d, err := ledger.SettleDue(ctx, tx, s.Env, r.MemberID, h.Balance, now, false)
		if err != nil {
			return err
		}
		available := d.Balance.Available
		if blind {
			available = 0
		}
		pc, err := s.price(ctx, tx, e, r, &site.Partner, available, now, false, nil)
		if err != nil {
			return err
		}
		q = pc.quote
		q.MemberID, q.Balance, q.Status = r.MemberID, projected(&q, d.Balance, now, e.Programme), "quote"
		if blind {
			q.Balance, q.SpendLimit.Reasons = kopilka.Balance{}, nil
		}
		q.StoreID, q.PartnerID = r.StoreID, r.PartnerID
		return nil
	})
	return q, err
}

// tooOld refuses a receipt dated further in the past than the programme
// lets a till date one.
func tooOld(r kopilka.Receipt, now time.Time, p kopilka.Programme) error {
	if limit := p.MaxReceiptAge(); !r.OccurredAt.IsZero() && now.Sub(r.OccurredAt) > limit {
		return kopilka.Invalid("occurred_at", fmt.Sprintf("is more than %d hours ago: a till may date a receipt at most that far back (max_receipt_age_hours); older purchases enter through the importer",
			int(limit.Hours())))
	}
	return nil
}

// dailySpend is the member's counter of points spent per day, for the
// daily spend limit.
const dailySpend = "spend:day"

// priced is a quote with what confirming it must also write.
type priced struct {
	quote    kopilka.Quote
	member   *kopilka.Member // loaded when the rules read it
	counters []kopilka.Counter
}

// price prices a receipt inside a transaction: it loads what the rules read
// of the member and asks the member's caps and the budgets for capped
// points, taking them when take is set (a confirmation) and only reading
// them otherwise (a quote).
func (s *Service) price(ctx context.Context, tx Tx, e *pricing.Engine, r kopilka.Receipt, partner *kopilka.Partner, available int64, now time.Time, take bool, verdicts *pricing.Verdicts) (priced, error) {
	var pc priced
	in := pricing.PriceInput{Receipt: r, Partner: partner, Available: available, Now: now, Verdicts: verdicts}
	p := &e.Programme
	var cardDay string // set when the member's daily spend is limited
	if limit := p.Spending.CardDailyLimit; limit > 0 {
		// Per member, whatever the receipt names (a card, another card of
		// the member's, or the member's id): naming the id must not be a way
		// round the limit.
		day := pricing.DayBucket(now, e.Loc)
		used, err := tx.SumCounter(ctx, r.MemberID, dailySpend, day, day)
		if err != nil {
			return pc, err
		}
		left := max(0, limit-used)
		in.CardLeft, cardDay = &left, day
	}
	if e.NeedsMember || p.Bonuses.Referral.ReferrerPoints > 0 || p.Bonuses.Referral.RefereePoints > 0 {
		m, err := tx.Member(ctx, r.MemberID)
		if err != nil {
			return pc, err
		}
		pc.member, in.Member = &m, &m
	}
	if e.NeedsLastPurchase {
		var err error
		if in.LastPurchase, err = tx.LastPurchase(ctx, r.MemberID); err != nil {
			return pc, err
		}
	}
	at := r.OccurredAt
	if at.IsZero() {
		at = now
	}
	lim := &txLimits{tx: tx, memberID: r.MemberID, at: at.In(e.Loc), take: take}
	q, err := e.Price(ctx, in, lim)
	pc.quote, pc.counters = q, lim.counters
	if cardDay != "" {
		pc.counters = append(pc.counters, kopilka.Counter{Name: dailySpend, Bucket: cardDay, Delta: q.Spent})
	}
	return pc, err
}

// Confirm posts a purchase. It is idempotent by receipt id: the same receipt
// again returns the first result and changes nothing; another receipt with
// the same id is ERECEIPT.
func (s *Service) Confirm(ctx context.Context, r kopilka.Receipt) (q kopilka.Quote, err error) {
	a := access.Begin(ctx, s.Env, access.PurchasesConfirm, r.ReceiptID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Quote{}, err
	}
	if err := s.reachStore(ctx, r.StoreID); err != nil {
		return kopilka.Quote{}, err
	}
	now := s.Env.Time()
	if err := r.Validate(now); err != nil {
		return kopilka.Quote{}, err
	}
	hash := r.Hash() // before defaults: a retry without occurred_at is the same receipt
	if r.OccurredAt.IsZero() {
		r.OccurredAt = now
	}
	return s.confirmAt(ctx, a, r, now, hash, false)
}

// ConfirmHistoric posts a purchase of the past as Confirm would have at its
// time, r.OccurredAt: the points it earned then, its lot dated and expiring
// from then, the member's tier and counters of then; the store's hours and
// the receipt's age are not asked, nor is it ever a spend. hash is kept as
// the purchase's request hash ("import:<source>"), so that its import finds
// it again; the same receipt again returns the first answer. Role admin
// (import.run): the importer's, for history with points.
func (s *Service) ConfirmHistoric(ctx context.Context, r kopilka.Receipt, hash string) (q kopilka.Quote, err error) {
	a := access.Begin(ctx, s.Env, access.ImportRun, r.ReceiptID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return kopilka.Quote{}, err
	}
	r.SpendPoints = 0
	if err := r.Validate(r.OccurredAt); err != nil {
		return kopilka.Quote{}, err
	}
	if r.OccurredAt.IsZero() {
		return kopilka.Quote{}, kopilka.FieldErr(kopilka.EINVALID, "occurred_at", "a purchase of the past needs its time")
	}
	return s.confirmAt(ctx, a, r, r.OccurredAt, hash, true)
}

// confirmAt posts the receipt as of now (historic: without the store's
// hours and the receipt's age).
func (s *Service) confirmAt(ctx context.Context, a *access.Audit, r kopilka.Receipt, now time.Time, hash string, historic bool) (q kopilka.Quote, err error) {
	// A replay gets its first answer even if the store has closed since;
	// anything else at an unknown or closed store is refused.
	site, siteErr := s.Sites.SiteFor(ctx, &r, now)
	if historic && kopilka.ErrorCode(siteErr) == kopilka.ESTORECLOSED {
		site, siteErr = s.Sites.Site(ctx, r.StoreID) // its hours of today say nothing of then
	}
	if c := kopilka.ErrorCode(siteErr); c != "" && c != kopilka.EUNKNOWNSTORE && c != kopilka.ESTORECLOSED {
		return kopilka.Quote{}, siteErr
	}
	e, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.Quote{}, err
	}
	var ageErr error
	if !historic {
		ageErr = tooOld(r, now, e.Programme) // a replay of a receipt confirmed in time still gets its answer
	}
	var verdicts *pricing.Verdicts
	if siteErr == nil && ageErr == nil && e.HasConditions() {
		// The conditions are judged before the write transaction, so that
		// none runs while SQLite's one writer is held.
		if verdicts, err = s.judge(ctx, e, r, &site.Partner, now); err != nil {
			return kopilka.Quote{}, err
		}
	}
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			h, err := holder(ctx, tx, &r, true)
			if err != nil {
				return err
			}
			if h.Prior != nil {
				if h.Prior.RequestHash != hash {
					return kopilka.FieldErr(kopilka.ERECEIPT, "receipt_id", "a different receipt was confirmed with this id")
				}
				q = h.Prior.Quote
				return a.Record(ctx, tx, nil, q)
			}
			if siteErr != nil {
				return siteErr
			}
			if ageErr != nil {
				return ageErr
			}
			if q, err = s.confirm(ctx, tx, e, r, &site.Partner, h.Balance, hash, now, verdicts); err != nil {
				return err
			}
			return a.Record(ctx, tx, nil, q)
		})
	})
	return q, err
}

func (s *Service) confirm(ctx context.Context, tx Tx, eng *pricing.Engine, r kopilka.Receipt, partner *kopilka.Partner, bal kopilka.Balance, hash string, now time.Time, verdicts *pricing.Verdicts) (kopilka.Quote, error) {
	p := eng.Programme
	var d ledger.Due
	if r.SpendPoints > 0 {
		var err error
		if d, err = ledger.SettleDue(ctx, tx, s.Env, r.MemberID, bal, now, true); err != nil {
			return kopilka.Quote{}, err
		}
		bal = d.Balance
	}
	pc, err := s.price(ctx, tx, eng, r, partner, bal.Available, now, true, verdicts)
	q := pc.quote
	if err != nil {
		// The prior-receipt check in Holder may have read before the lock was
		// ours: a twin of this request may have committed while we waited and
		// spent the points. Look again now that we hold the lock.
		if prev, perr := tx.Purchase(ctx, r.PartnerID, r.ReceiptID); perr == nil {
			if prev.RequestHash != hash {
				return kopilka.Quote{}, kopilka.FieldErr(kopilka.ERECEIPT, "receipt_id", "a different receipt was confirmed with this id")
			}
			return prev.Quote, nil
		}
		return kopilka.Quote{}, err
	}
	e := ledger.NewEntry(kopilka.Transaction{ID: s.Env.NewID(), MemberID: r.MemberID, Kind: kopilka.KindPurchase, ReceiptID: r.ReceiptID,
		StoreID: r.StoreID, PartnerID: r.PartnerID, CreatedAt: now})
	pur := &kopilka.Purchase{ReceiptID: r.ReceiptID, MemberID: r.MemberID, StoreID: r.StoreID, PartnerID: r.PartnerID, CardNumber: r.CardNumber,
		RequestHash: hash, Status: kopilka.PurchaseConfirmed, TxID: e.Tx.ID, OccurredAt: r.OccurredAt, CreatedAt: now}
	if q.Spent > 0 {
		if !e.Consume(d.Spendable, q.Spent, kopilka.AccountRedemption) {
			return kopilka.Quote{}, kopilka.Errorf(kopilka.EINTERNAL, "ledger: lots of member %s hold less than the balance", r.MemberID)
		}
		for _, m := range e.Moves {
			pur.Spends = append(pur.Spends, kopilka.Spend{LotID: m.LotID, Points: -m.Delta})
		}
	}
	if q.Earned > 0 {
		activates, expires := p.LotDates(now)
		pur.EarnLotID = e.AddLot(s.Env.NewID(), q.Earned, kopilka.AccountIssuance, activates, expires, now).ID
	}
	if err := e.Fits(bal, p.BalanceCap(), "lines"); err != nil {
		return kopilka.Quote{}, err
	}
	if err := tx.Post(ctx, e); err != nil {
		return kopilka.Quote{}, err
	}
	var bonus int64
	if m := pc.member; m != nil {
		// Before the purchase is stored: the referral looks for a first purchase.
		if bonus, err = programme.Referral(ctx, tx, s.Env, p, m, now); err != nil {
			return kopilka.Quote{}, err
		}
		basis := q.Paid
		if p.Tiers.Basis == pricing.CounterPoints {
			basis = q.Earned
		}
		if up, err := eng.Upgrade(ctx, tx, m, r.OccurredAt, basis); err != nil {
			return kopilka.Quote{}, err
		} else if up {
			if err := tx.UpdateMember(ctx, *m); err != nil {
				return kopilka.Quote{}, err
			}
		}
	}
	day := pricing.DayBucket(r.OccurredAt, eng.Loc)
	pc.counters = append(pc.counters, kopilka.Counter{Name: pricing.CounterSpend, Bucket: day, Delta: q.Paid}, kopilka.Counter{Name: pricing.CounterPoints, Bucket: day, Delta: q.Earned})
	if err := tx.AddCounters(ctx, r.MemberID, pc.counters); err != nil {
		return kopilka.Quote{}, err
	}
	q.MemberID, q.StoreID, q.PartnerID, q.Status = r.MemberID, r.StoreID, r.PartnerID, kopilka.PurchaseConfirmed
	q.Balance = kopilka.Balance{Available: bal.Available + e.Tx.Available + bonus, Pending: bal.Pending + e.Tx.Pending}
	pur.Quote = q
	for i, l := range r.Lines {
		pur.Lines = append(pur.Lines, kopilka.PurchaseLine{Line: l, Earned: q.Lines[i].Earned, Spent: q.Lines[i].Spent})
	}
	if err := tx.InsertPurchase(ctx, pur); err != nil {
		return kopilka.Quote{}, err // ECONFLICT: a twin won; retryRace runs again
	}
	return q, nil
}

// judge evaluates the receipt's conditions for its member as the database
// holds it now, in a read-only transaction, and outside any: the
// confirmation uses the verdicts if the member still reads the same inside
// its write transaction. A receipt that is a replay, or names no member the
// holder finds, gets none (the confirmation answers it).
func (s *Service) judge(ctx context.Context, e *pricing.Engine, r kopilka.Receipt, partner *kopilka.Partner, now time.Time) (*pricing.Verdicts, error) {
	in := pricing.PriceInput{Receipt: r, Partner: partner, Now: now}
	err := s.DB.View(ctx, func(tx Tx) error {
		h, err := holder(ctx, tx, &in.Receipt, true)
		if err != nil || h.Prior != nil {
			return errNoVerdicts
		}
		m, err := tx.Member(ctx, in.Receipt.MemberID) // as price reads it, whenever it does
		if err != nil {
			return err
		}
		in.Member = &m
		if e.NeedsLastPurchase {
			if in.LastPurchase, err = tx.LastPurchase(ctx, in.Receipt.MemberID); err != nil {
				return err
			}
		}
		return nil
	})
	if err == errNoVerdicts {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return e.Judge(ctx, in)
}

var errNoVerdicts = errors.New("no verdicts")

// Purchase returns a confirmed purchase's current state as a quote. A
// receipt id is unique within its partner: a principal scoped to a partner
// finds its own partner's receipts (partnerID "" or its own; a store-scoped
// key only those of its stores), and finds another partner's as missing as
// one that does not exist. An unscoped principal names the partner, or
// leaves partnerID "" when only one partner has the receipt id (EINVALID on
// partner_id when several have).
func (s *Service) Purchase(ctx context.Context, partnerID, receiptID string) (q kopilka.Quote, err error) {
	if err := access.Allow(ctx, access.PurchasesRead); err != nil {
		return kopilka.Quote{}, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		p, err := s.purchase(ctx, tx, partnerID, receiptID)
		if err != nil {
			return err
		}
		q = view(p)
		return nil
	})
	return q, err
}

// ReceiptView is a purchase as the back office shows it: the confirmation
// (Quote), the receipt's lines as sold with what each earned, was paid
// with in points and was returned, the card it was made with (masked for
// the support role), and its refunds, oldest first.
type ReceiptView struct {
	Quote   kopilka.Quote
	Lines   []kopilka.PurchaseLine
	Card    string
	Refunds []kopilka.RefundRecord
}

// Receipt reads a purchase with its lines and refunds, for the roles that
// read purchases; another partner's is ENOTFOUND as a missing one (see
// Purchase).
func (s *Service) Receipt(ctx context.Context, partnerID, receiptID string) (v ReceiptView, err error) {
	if err := access.Allow(ctx, access.PurchasesRead); err != nil {
		return v, err
	}
	err = s.DB.View(ctx, func(tx Tx) error {
		p, err := s.purchase(ctx, tx, partnerID, receiptID)
		if err != nil {
			return err
		}
		v.Quote, v.Lines, v.Card = view(p), p.Lines, p.CardNumber
		if v.Card != "" && kopilka.PrincipalFrom(ctx).Role == kopilka.RoleSupport {
			v.Card = kopilka.Card{Number: v.Card}.Masked().Number
		}
		v.Refunds, err = tx.Refunds(ctx, p.PartnerID, p.ReceiptID)
		return err
	})
	return v, err
}

// ListPurchases lists purchases newest first, a page of at most q.Limit,
// with the cursor of the next page (nil at the end). A principal scoped to
// a partner lists its own partner's purchases only (naming another partner
// lists nothing), and a store-scoped key its stores' only.
func (s *Service) ListPurchases(ctx context.Context, q kopilka.PurchaseQuery) ([]kopilka.Quote, *kopilka.Cursor, error) {
	if err := access.Allow(ctx, access.PurchasesRead); err != nil {
		return nil, nil, err
	}
	var pr kopilka.Problems
	for _, f := range []struct{ name, v string }{{"member_id", q.MemberID}, {"store_id", q.StoreID}, {"partner_id", q.PartnerID}} {
		kopilka.CheckID(&pr, f.name, f.v, false)
	}
	q.Limit = kopilka.PageLimit(&pr, q.Limit)
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		pr.Add("to", "must be after from")
	}
	if err := pr.Err(); err != nil {
		return nil, nil, err
	}
	if p := kopilka.PrincipalFrom(ctx); p.Scoped() {
		if q.PartnerID != "" && q.PartnerID != p.PartnerID {
			return []kopilka.Quote{}, nil, nil
		}
		q.PartnerID, q.StoreIDs = p.PartnerID, p.StoreIDs
	}
	q.Limit++
	var ps []*kopilka.Purchase
	if err := s.DB.View(ctx, func(tx Tx) (err error) { ps, err = tx.ListPurchases(ctx, q); return err }); err != nil {
		return nil, nil, err
	}
	var next *kopilka.Cursor
	if len(ps) == q.Limit {
		ps = ps[:q.Limit-1]
		last := ps[len(ps)-1]
		next = &kopilka.Cursor{CreatedAt: last.OccurredAt, ID: last.TxID}
	}
	out := make([]kopilka.Quote, len(ps))
	for i, p := range ps {
		out[i] = view(p)
	}
	return out, next, nil
}

// view is a purchase as its reader sees it: the confirmation's quote with
// the purchase's status now.
func view(p *kopilka.Purchase) kopilka.Quote {
	q := p.Quote
	at := p.OccurredAt
	q.Status, q.StoreID, q.PartnerID, q.OccurredAt = p.Status, p.StoreID, p.PartnerID, &at
	return q
}

// errNoPurchase is the answer for a purchase that does not exist and for
// one the principal may not see, in the same words.
var errNoPurchase = kopilka.Errorf(kopilka.ENOTFOUND, "no purchase has this id")

// purchase reads a purchase the principal in ctx may see (see Purchase for
// how partnerID is read).
func (s *Service) purchase(ctx context.Context, tx Tx, partnerID, receiptID string) (*kopilka.Purchase, error) {
	partnerID, err := s.receiptPartner(ctx, tx, partnerID, receiptID)
	if err != nil {
		return nil, err
	}
	p, err := tx.Purchase(ctx, partnerID, receiptID)
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND || err == nil && !access.Reaches(ctx, p.PartnerID, p.StoreID) {
		return nil, errNoPurchase
	}
	return p, err
}

// receiptPartner is the partner whose receipt receiptID a principal names.
func (s *Service) receiptPartner(ctx context.Context, tx Tx, partnerID, receiptID string) (string, error) {
	if own := kopilka.PrincipalFrom(ctx).PartnerID; own != "" {
		if partnerID != "" && partnerID != own {
			return "", errNoPurchase
		}
		return own, nil
	}
	if partnerID != "" {
		return partnerID, nil
	}
	found, err := tx.PurchasePartners(ctx, receiptID, 2)
	switch {
	case err != nil:
		return "", err
	case len(found) == 0:
		return "", errNoPurchase
	case len(found) > 1:
		return "", kopilka.Invalid("partner_id", "several partners have a receipt with this id: name the partner")
	}
	return found[0], nil
}

// reachStore refuses a principal scoped to a partner a receipt at a store of
// another partner, or at one of its stores outside the principal's.
func (s *Service) reachStore(ctx context.Context, storeID string) error {
	if !kopilka.PrincipalFrom(ctx).Scoped() {
		return nil
	}
	site, err := s.Sites.Site(ctx, storeID)
	if kopilka.ErrorCode(err) == kopilka.ENOTFOUND || err == nil && !access.Reaches(ctx, site.Partner.ID, storeID) {
		return kopilka.ErrNoStore
	}
	return err
}

// Refund returns some lines or quantities of a purchase. Earned points of the
// returned part are taken back and spent points of it given back, in
// proportion; when every line is returned the member is where they were
// before the purchase. Idempotent by refund id. The purchase is found as
// Purchase finds it (partnerID "" for the principal's own partner).
func (s *Service) Refund(ctx context.Context, partnerID, receiptID string, req kopilka.RefundRequest) (res kopilka.RefundResult, err error) {
	a := access.Begin(ctx, s.Env, access.PurchasesRefund, receiptID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return res, err
	}
	if err := req.Validate(); err != nil {
		return kopilka.RefundResult{}, err
	}
	return s.refund(ctx, a, partnerID, receiptID, req, kopilka.KindRefund, s.Env.Time())
}

// Cancel voids a purchase at the till: everything not yet refunded is
// returned. The purchase is found as Purchase finds it.
func (s *Service) Cancel(ctx context.Context, partnerID, receiptID string) (res kopilka.RefundResult, err error) {
	a := access.Begin(ctx, s.Env, access.PurchasesCancel, receiptID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return res, err
	}
	return s.refund(ctx, a, partnerID, receiptID, kopilka.RefundRequest{RefundID: kopilka.CancelRefundID}, kopilka.KindCancel, s.Env.Time())
}

func (s *Service) refund(ctx context.Context, a *access.Audit, partnerID, receiptID string, req kopilka.RefundRequest, kind string, now time.Time) (kopilka.RefundResult, error) {
	hash := kopilka.HashJSON(req)
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return kopilka.RefundResult{}, err
	}
	var res kopilka.RefundResult
	err = kopilka.RetryRace(func() error {
		return s.DB.Update(ctx, func(tx Tx) error {
			pur, err := s.purchase(ctx, tx, partnerID, receiptID)
			if err != nil {
				return err
			}
			bal, err := tx.LockBalance(ctx, pur.MemberID)
			if err != nil {
				return err
			}
			// Under the member's lock, refunds of one purchase queue: a replay
			// sees the refund its twin has just committed.
			prev, err := tx.Refund(ctx, pur.PartnerID, receiptID, req.RefundID)
			if err == nil {
				if prev.RequestHash != hash {
					return kopilka.FieldErr(kopilka.ERECEIPT, "refund_id", "a different refund was made with this id")
				}
				res = prev.Result
				return a.Record(ctx, tx, view(pur), res)
			} else if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
				return err
			}
			if pur, err = tx.Purchase(ctx, pur.PartnerID, receiptID); err != nil {
				return err
			}
			before := view(pur)
			if res, err = s.postRefund(ctx, tx, pur, bal, req, hash, kind, now, eng.Loc); err != nil {
				return err
			}
			return a.Record(ctx, tx, before, res)
		})
	})
	return res, err
}

// RefundHistoric refunds units of a purchase as Refund would have at the
// time at (an imported return): the points the units earned are taken back,
// dated then. The same refund id again returns the first answer. Role
// admin (import.run).
func (s *Service) RefundHistoric(ctx context.Context, partnerID, receiptID string, req kopilka.RefundRequest, at time.Time) (res kopilka.RefundResult, err error) {
	a := access.Begin(ctx, s.Env, access.ImportRun, receiptID)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return res, err
	}
	if err := req.Validate(); err != nil {
		return res, err
	}
	return s.refund(ctx, a, partnerID, receiptID, req, kopilka.KindRefund, at)
}

// returned is the share of total that belongs to the first done of all units,
// so that successive refunds of a line add up to exactly total.
func returned(total int64, done, all kopilka.Quantity) int64 {
	q, _, _ := kopilka.MulDiv(total, int64(done), int64(all))
	return q
}

func (s *Service) postRefund(ctx context.Context, tx Tx, pur *kopilka.Purchase, bal kopilka.Balance, req kopilka.RefundRequest, hash, kind string, now time.Time, loc *time.Location) (kopilka.RefundResult, error) {
	if pur.Status == kopilka.PurchaseCancelled {
		return kopilka.RefundResult{}, kopilka.Errorf(kopilka.ESTATE, "the purchase was cancelled")
	}
	res := kopilka.RefundResult{RefundID: req.RefundID, ReceiptID: pur.ReceiptID, Lines: []kopilka.RefundResultLine{}}
	byLine := map[int]*kopilka.PurchaseLine{}
	refundedBefore := map[int]kopilka.Quantity{}
	for i := range pur.Lines {
		byLine[pur.Lines[i].Line.Line] = &pur.Lines[i]
		refundedBefore[pur.Lines[i].Line.Line] = pur.Lines[i].Refunded
	}
	want := req.Lines
	if len(want) == 0 {
		for _, l := range pur.Lines {
			if l.Refunded < l.Quantity {
				want = append(want, kopilka.RefundLine{Line: l.Line.Line})
			}
		}
	}
	var pr kopilka.Problems
	for i, w := range want {
		l, ok := byLine[w.Line]
		if !ok {
			pr.Add(fmt.Sprintf("lines[%d].line", i), fmt.Sprintf("the receipt has no line %d", w.Line))
			continue
		}
		left := l.Quantity - l.Refunded
		qty := left
		if w.Quantity != nil {
			qty = *w.Quantity
		}
		if qty > left || left == 0 {
			pr.Add(fmt.Sprintf("lines[%d].quantity", i), fmt.Sprintf("only %s of line %d is left to return", left, w.Line))
			continue
		}
		before := l.Refunded
		l.Refunded += qty
		rl := kopilka.RefundResultLine{Line: w.Line, Quantity: qty,
			EarnedReversed: returned(l.Earned, l.Refunded, l.Quantity) - returned(l.Earned, before, l.Quantity),
			SpentReturned:  returned(l.Spent, l.Refunded, l.Quantity) - returned(l.Spent, before, l.Quantity)}
		res.Lines = append(res.Lines, rl)
		res.EarnedReversed += rl.EarnedReversed
		res.SpentReturned += rl.SpentReturned
	}
	if err := pr.Err(); err != nil {
		return kopilka.RefundResult{}, err
	}
	if len(want) == 0 {
		return kopilka.RefundResult{}, kopilka.Errorf(kopilka.ESTATE, "every line of the purchase was already returned")
	}
	// Receipt awards shrink to what the lines kept still earn: a threshold
	// no longer reached is taken back whole.
	paidOf := map[int]int64{}
	for _, ql := range pur.Quote.Lines {
		paidOf[ql.Line] = ql.Paid
	}
	kept := func(a kopilka.Award, refunded func(int) kopilka.Quantity) int64 {
		var basis int64
		keeps := false
		for _, n := range a.Lines {
			l := byLine[n]
			if l == nil {
				continue
			}
			basis += paidOf[n] - returned(paidOf[n], refunded(n), l.Quantity)
			keeps = keeps || refunded(n) < l.Quantity
		}
		if a.Kind == kopilka.RulePerReceipt && !keeps {
			return 0 // every line it counted is back
		}
		return min(a.Points, a.Value(basis))
	}
	for _, a := range pur.Quote.Awards {
		back := kept(a, func(n int) kopilka.Quantity { return refundedBefore[n] }) - kept(a, func(n int) kopilka.Quantity { return byLine[n].Refunded })
		res.AwardsReversed += back
		res.EarnedReversed += back
	}
	var paidBack int64
	for n, l := range byLine {
		paidBack += returned(paidOf[n], l.Refunded, l.Quantity) - returned(paidOf[n], refundedBefore[n], l.Quantity)
	}
	e := ledger.NewEntry(kopilka.Transaction{ID: s.Env.NewID(), MemberID: pur.MemberID, Kind: kind, ReceiptID: pur.ReceiptID, RefundID: req.RefundID,
		StoreID: pur.StoreID, PartnerID: pur.PartnerID, CreatedAt: now})
	if err := s.giveBackSpent(ctx, tx, e, pur, res.SpentReturned); err != nil {
		return kopilka.RefundResult{}, err
	}
	taken, err := s.takeBackEarned(ctx, tx, e, pur, res.EarnedReversed)
	if err != nil {
		return kopilka.RefundResult{}, err
	}
	if res.EarnedExpired = res.EarnedReversed - taken; res.EarnedExpired > 0 {
		// Report per line what was really taken back, the awards and then the last lines first.
		left := res.EarnedExpired
		cut := min(left, res.AwardsReversed)
		res.AwardsReversed -= cut
		left -= cut
		for i := len(res.Lines) - 1; i >= 0 && left > 0; i-- {
			cut := min(left, res.Lines[i].EarnedReversed)
			res.Lines[i].EarnedReversed -= cut
			left -= cut
		}
		res.EarnedReversed = taken
	}
	pur.EarnedReversed += taken
	if err := tx.Post(ctx, e); err != nil {
		return kopilka.RefundResult{}, err
	}
	pur.Status = kopilka.PurchaseRefunded
	for _, l := range pur.Lines {
		if l.Refunded < l.Quantity {
			pur.Status = kopilka.PurchaseConfirmed
		}
	}
	if kind == kopilka.KindCancel {
		pur.Status = kopilka.PurchaseCancelled
	}
	if err := tx.UpdatePurchase(ctx, pur); err != nil {
		return kopilka.RefundResult{}, err
	}
	// The purchase's day counts less toward tiers.
	day := pricing.DayBucket(pur.OccurredAt, loc)
	if err := tx.AddCounters(ctx, pur.MemberID, []kopilka.Counter{{Name: pricing.CounterSpend, Bucket: day, Delta: -paidBack}, {Name: pricing.CounterPoints, Bucket: day, Delta: -taken}}); err != nil {
		return kopilka.RefundResult{}, err
	}
	res.Status = pur.Status
	// Spent points given back to a lot whose time has passed expire at
	// once, with anything else due: the answer says what can be spent.
	d, err := ledger.SettleDue(ctx, tx, s.Env, pur.MemberID, kopilka.Balance{Available: bal.Available + e.Tx.Available, Pending: bal.Pending + e.Tx.Pending}, now, true)
	if err != nil {
		return kopilka.RefundResult{}, err
	}
	res.Balance = d.Balance
	rec := &kopilka.RefundRecord{ReceiptID: pur.ReceiptID, PartnerID: pur.PartnerID, RefundID: req.RefundID, RequestHash: hash, TxID: e.Tx.ID, Result: res, CreatedAt: now}
	if err := tx.InsertRefund(ctx, rec); err != nil {
		return kopilka.RefundResult{}, err // ECONFLICT: a twin won; retryRace runs again
	}
	return res, nil
}

// giveBackSpent restores points to the lots the purchase took them from,
// the last taken first. A lot whose expiry has passed gets them back too;
// the expiry job takes them again, as it would have without the purchase.
func (s *Service) giveBackSpent(ctx context.Context, tx Tx, e *ledger.Entry, pur *kopilka.Purchase, points int64) error {
	if points == 0 {
		return nil
	}
	ids := make([]string, len(pur.Spends))
	for i, sp := range pur.Spends {
		ids[i] = sp.LotID
	}
	lots, err := tx.LotsByID(ctx, ids)
	if err != nil {
		return err
	}
	byID := map[string]*kopilka.Lot{}
	for _, l := range lots {
		byID[l.ID] = l
	}
	for i := len(pur.Spends) - 1; i >= 0 && points > 0; i-- {
		sp := &pur.Spends[i]
		give := min(sp.Points-sp.Restored, points)
		if give <= 0 {
			continue
		}
		l := byID[sp.LotID]
		if l == nil {
			return kopilka.Errorf(kopilka.EINTERNAL, "ledger: lot %s of purchase %s is missing", sp.LotID, pur.ReceiptID)
		}
		e.Move(l, give)
		e.Post(kopilka.AccountRedemption, kopilka.AccountAvailable, give)
		sp.Restored += give
		points -= give
	}
	if points != 0 {
		return kopilka.Errorf(kopilka.EINTERNAL, "ledger: purchase %s has fewer spent points to return than its lines say", pur.ReceiptID)
	}
	return nil
}

// takeBackEarned takes back points the purchase earned: from its own lot
// first, then from the member's other active lots, the soonest to expire first.
//
// Earned points that have expired are not taken back again: expiry already
// returned them to the programme. It returns how many points it took.
func (s *Service) takeBackEarned(ctx context.Context, tx Tx, e *ledger.Entry, pur *kopilka.Purchase, points int64) (int64, error) {
	if points == 0 {
		return 0, nil
	}
	var order []*kopilka.Lot
	if pur.EarnLotID != "" {
		own, err := tx.LotsByID(ctx, []string{pur.EarnLotID})
		if err != nil {
			return 0, err
		}
		for _, l := range own {
			points = max(0, min(points, l.Points-l.Expired-pur.EarnedReversed))
		}
		order = append(order, own...)
	}
	if points == 0 {
		return 0, nil
	}
	active, err := tx.Lots(ctx, pur.MemberID, kopilka.LotActive)
	if err != nil {
		return 0, err
	}
	// Lots this refund has just given spent points back to count too: in the
	// database they may still be empty.
	others := map[string]*kopilka.Lot{}
	for _, l := range active {
		others[l.ID] = l
	}
	for id, l := range e.Lots {
		others[id] = l
	}
	delete(others, pur.EarnLotID)
	rest := make([]*kopilka.Lot, 0, len(others))
	for _, l := range others {
		if l.State == kopilka.LotActive && l.Remaining > 0 {
			rest = append(rest, l)
		}
	}
	ledger.SpendOrder(rest)
	order = append(order, rest...)
	if !e.Consume(order, points, kopilka.AccountIssuance) {
		return 0, &kopilka.Error{Code: kopilka.EINSUFFICIENT,
			Message: fmt.Sprintf("the member no longer holds the %d points this refund must take back", points),
			Extra:   map[string]any{"earned_reversed": points}}
	}
	return points, nil
}
