package kopilka

import (
	"context"
	"fmt"
	"time"
)

// Purchase statuses.
const (
	PurchaseConfirmed = "confirmed"
	PurchaseRefunded  = "refunded" // every line returned
	PurchaseCancelled = "cancelled"
)

// Purchase is a confirmed receipt as the ledger remembers it.
type Purchase struct {
	ReceiptID   string
	MemberID    string
	StoreID     string
	PartnerID   string
	CardNumber  string
	RequestHash string
	Status      string
	TxID        string
	EarnLotID   string
	// EarnedReversed is how many earned points refunds have taken back.
	EarnedReversed int64
	Spends         []Spend
	Lines          []PurchaseLine
	Quote          Quote // the confirmation as the till received it
	OccurredAt     time.Time
	CreatedAt      time.Time
}

// PurchaseLine is a receipt line with what it earned, spent and got back.
type PurchaseLine struct {
	Line
	Earned   int64
	Spent    int64
	Refunded Quantity
}

// Spend is how many points a purchase took from one lot, and how many of
// them refunds have given back.
type Spend struct {
	LotID    string `json:"lot_id"`
	Points   int64  `json:"points"`
	Restored int64  `json:"restored"`
}

// RefundRequest returns some lines or quantities of a purchase.
// Empty Lines returns everything not yet returned.
type RefundRequest struct {
	RefundID string       `json:"refund_id"`
	Lines    []RefundLine `json:"lines"`
}

// RefundLine returns Quantity of a line (nil: all of what is left of it).
type RefundLine struct {
	Line     int       `json:"line"`
	Quantity *Quantity `json:"quantity,omitempty"`
}

// RefundResult is what a refund did.
type RefundResult struct {
	RefundID       string `json:"refund_id"`
	ReceiptID      string `json:"receipt_id"`
	EarnedReversed int64  `json:"earned_reversed"`
	SpentReturned  int64  `json:"spent_returned"`
	// AwardsReversed is the part of EarnedReversed taken from receipt awards.
	AwardsReversed int64 `json:"awards_reversed"`
	// EarnedExpired is how many earned points of the returned part had
	// already expired, and so were not taken back again.
	EarnedExpired int64              `json:"earned_expired"`
	Lines         []RefundResultLine `json:"lines"`
	Balance       Balance            `json:"balance"`
	Status        string             `json:"status"` // the purchase's status after it
}

// RefundResultLine is the part of a refund for one line.
type RefundResultLine struct {
	Line           int      `json:"line"`
	Quantity       Quantity `json:"quantity"`
	EarnedReversed int64    `json:"earned_reversed"`
	SpentReturned  int64    `json:"spent_returned"`
}

// RefundRecord is a stored refund.
type RefundRecord struct {
	ReceiptID   string
	RefundID    string
	RequestHash string
	TxID        string
	Result      RefundResult
	CreatedAt   time.Time
}

// CancelRefundID is the refund id under which a cancel is recorded.
const CancelRefundID = "cancel"

// holder finds the member a receipt is for, locks its balance, and refuses
// unknown or blocked cards and blocked members. With replay set, a receipt
// already confirmed is returned in Prior before any check: a replay gets its
// first answer even if the card has been blocked since.
func holder(ctx context.Context, tx Tx, r *Receipt, replay bool) (Holder, error) {
	h, err := tx.Holder(ctx, r.CardNumber, r.MemberID, r.ReceiptID)
	switch {
	case ErrorCode(err) == ENOTFOUND && r.CardNumber != "":
		return h, FieldErr(EUNKNOWNCARD, "card_number", "no card has this number")
	case ErrorCode(err) == ENOTFOUND:
		return h, FieldErr(ENOTFOUND, "member_id", "no member has this id")
	case err != nil:
		return h, err
	case replay && h.Prior != nil:
		return h, nil
	case h.CardStatus == StatusReplaced:
		return h, FieldErr(EBLOCKEDCARD, "card_number", "the card was replaced by another card")
	case h.CardStatus != "" && h.CardStatus != StatusActive:
		return h, FieldErr(EBLOCKEDCARD, "card_number", "the card is blocked")
	case h.MemberStatus != StatusActive:
		return h, FieldErr(EBLOCKEDMEMBER, "member_id", "the member is blocked")
	}
	r.MemberID = h.MemberID
	return h, nil
}

// projected is the balance after the quote is posted.
func (q *Quote) projected(b Balance, now time.Time, p Programme) Balance {
	b.Available -= q.Spent
	if activates, _ := p.lotDates(now); activates.After(now) {
		b.Pending += q.Earned
	} else {
		b.Available += q.Earned
	}
	return b
}

// Calculate quotes a receipt. It changes nothing.
func (s *Service) Calculate(ctx context.Context, r Receipt) (Quote, error) {
	now := s.now()
	if err := r.Validate(now); err != nil {
		return Quote{}, err
	}
	site, err := s.siteFor(ctx, &r, now)
	if err != nil {
		return Quote{}, err
	}
	e, err := s.Engine(ctx)
	if err != nil {
		return Quote{}, err
	}
	var q Quote
	err = s.Store.View(ctx, func(tx Tx) error {
		h, err := holder(ctx, tx, &r, false)
		if err != nil {
			return err
		}
		// The balance as the confirmation will see it: due lots settled.
		d, err := s.settleDue(ctx, tx, r.MemberID, h.Balance, now, false)
		if err != nil {
			return err
		}
		pc, err := s.price(ctx, tx, e, r, &site.Partner, d.balance.Available, now, false)
		if err != nil {
			return err
		}
		q = pc.quote
		q.MemberID, q.Balance, q.Status = r.MemberID, q.projected(d.balance, now, e.Programme), "quote"
		q.StoreID, q.PartnerID = r.StoreID, r.PartnerID
		return nil
	})
	return q, err
}

// priced is a quote with what confirming it must also write.
type priced struct {
	quote    Quote
	member   *Member // loaded when the rules read it
	counters []Counter
}

// price prices a receipt inside a transaction: it loads what the rules read
// of the member and asks the member's caps and the budgets for capped
// points, taking them when take is set (a confirmation) and only reading
// them otherwise (a quote).
func (s *Service) price(ctx context.Context, tx Tx, e *Engine, r Receipt, partner *Partner, available int64, now time.Time, take bool) (priced, error) {
	var pc priced
	in := PriceInput{Receipt: r, Partner: partner, Available: available, Now: now}
	p := &e.Programme
	var cardDay string // set when the card's daily spend is limited
	if limit := p.Spending.CardDailyLimit; limit > 0 && r.CardNumber != "" {
		day := dayBucket(now, e.loc)
		used, err := tx.SumCounter(ctx, r.MemberID, "card:"+r.CardNumber, day, day)
		if err != nil {
			return pc, err
		}
		left := max(0, limit-used)
		in.CardLeft, cardDay = &left, day
	}
	if e.needsMember || p.Bonuses.Referral.ReferrerPoints > 0 || p.Bonuses.Referral.RefereePoints > 0 {
		m, err := tx.Member(ctx, r.MemberID)
		if err != nil {
			return pc, err
		}
		pc.member, in.Member = &m, &m
	}
	if e.needsLastPurchase {
		var err error
		if in.LastPurchase, err = tx.LastPurchase(ctx, r.MemberID); err != nil {
			return pc, err
		}
	}
	at := r.OccurredAt
	if at.IsZero() {
		at = now
	}
	lim := &txLimits{tx: tx, memberID: r.MemberID, at: at.In(e.loc), take: take}
	q, err := e.Price(ctx, in, lim)
	pc.quote, pc.counters = q, lim.counters
	if cardDay != "" {
		pc.counters = append(pc.counters, Counter{"card:" + r.CardNumber, cardDay, q.Spent})
	}
	return pc, err
}

// retryRace runs fn again once when it lost a race on an idempotency key:
// a concurrent request with the same id committed first, and the store
// reported ECONFLICT, at the write or at commit (the only unique keys these
// writes can break are the receipt, refund and idempotency keys; the others
// are random). The second run finds that request's result.
func retryRace(fn func() error) error {
	err := fn()
	if ErrorCode(err) == ECONFLICT {
		err = fn()
	}
	return err
}

// Confirm posts a purchase. It is idempotent by receipt id: the same receipt
// again returns the first result and changes nothing; another receipt with
// the same id is ERECEIPT.
func (s *Service) Confirm(ctx context.Context, r Receipt) (Quote, error) {
	now := s.now()
	if err := r.Validate(now); err != nil {
		return Quote{}, err
	}
	hash := r.Hash() // before defaults: a retry without occurred_at is the same receipt
	if r.OccurredAt.IsZero() {
		r.OccurredAt = now
	}
	// A replay gets its first answer even if the store has closed since;
	// anything else at an unknown or closed store is refused.
	site, siteErr := s.siteFor(ctx, &r, now)
	if c := ErrorCode(siteErr); c != "" && c != EUNKNOWNSTORE && c != ESTORECLOSED {
		return Quote{}, siteErr
	}
	e, err := s.Engine(ctx)
	if err != nil {
		return Quote{}, err
	}
	var q Quote
	err = retryRace(func() error {
		return s.Store.Update(ctx, func(tx Tx) error {
			h, err := holder(ctx, tx, &r, true)
			if err != nil {
				return err
			}
			if h.Prior != nil {
				if h.Prior.RequestHash != hash {
					return FieldErr(ERECEIPT, "receipt_id", "a different receipt was confirmed with this id")
				}
				q = h.Prior.Quote
				return nil
			}
			if siteErr != nil {
				return siteErr
			}
			q, err = s.confirm(ctx, tx, e, r, &site.Partner, h.Balance, hash, now)
			return err
		})
	})
	return q, err
}

func (s *Service) confirm(ctx context.Context, tx Tx, eng *Engine, r Receipt, partner *Partner, bal Balance, hash string, now time.Time) (Quote, error) {
	p := eng.Programme
	var d due
	if r.SpendPoints > 0 {
		var err error
		if d, err = s.settleDue(ctx, tx, r.MemberID, bal, now, true); err != nil {
			return Quote{}, err
		}
		bal = d.balance
	}
	pc, err := s.price(ctx, tx, eng, r, partner, bal.Available, now, true)
	q := pc.quote
	if err != nil {
		// The prior-receipt check in Holder may have read before the lock was
		// ours: a twin of this request may have committed while we waited and
		// spent the points. Look again now that we hold the lock.
		if prev, perr := tx.Purchase(ctx, r.ReceiptID); perr == nil {
			if prev.RequestHash != hash {
				return Quote{}, FieldErr(ERECEIPT, "receipt_id", "a different receipt was confirmed with this id")
			}
			return prev.Quote, nil
		}
		return Quote{}, err
	}
	e := newEntry(Transaction{ID: s.newID(), MemberID: r.MemberID, Kind: KindPurchase, ReceiptID: r.ReceiptID,
		StoreID: r.StoreID, PartnerID: r.PartnerID, CreatedAt: now})
	pur := &Purchase{ReceiptID: r.ReceiptID, MemberID: r.MemberID, StoreID: r.StoreID, PartnerID: r.PartnerID, CardNumber: r.CardNumber,
		RequestHash: hash, Status: PurchaseConfirmed, TxID: e.Tx.ID, OccurredAt: r.OccurredAt, CreatedAt: now}
	if q.Spent > 0 {
		if !e.consume(d.spendable, q.Spent, AccountRedemption) {
			return Quote{}, Errorf(EINTERNAL, "ledger: lots of member %s hold less than the balance", r.MemberID)
		}
		for _, m := range e.Moves {
			pur.Spends = append(pur.Spends, Spend{LotID: m.LotID, Points: -m.Delta})
		}
	}
	if q.Earned > 0 {
		activates, expires := p.lotDates(now)
		pur.EarnLotID = e.addLot(s.newID(), q.Earned, AccountIssuance, activates, expires, now).ID
	}
	if err := tx.Post(ctx, e); err != nil {
		return Quote{}, err
	}
	var bonus int64
	if m := pc.member; m != nil {
		// Before the purchase is stored: the referral looks for a first purchase.
		if bonus, err = s.referral(ctx, tx, p, m, now); err != nil {
			return Quote{}, err
		}
		basis := q.Paid
		if p.Tiers.Basis == CounterPoints {
			basis = q.Earned
		}
		if up, err := eng.upgrade(ctx, tx, m, r.OccurredAt, basis); err != nil {
			return Quote{}, err
		} else if up {
			if err := tx.UpdateMember(ctx, *m); err != nil {
				return Quote{}, err
			}
		}
	}
	day := dayBucket(r.OccurredAt, eng.loc)
	pc.counters = append(pc.counters, Counter{CounterSpend, day, q.Paid}, Counter{CounterPoints, day, q.Earned})
	if err := tx.AddCounters(ctx, r.MemberID, pc.counters); err != nil {
		return Quote{}, err
	}
	q.MemberID, q.StoreID, q.PartnerID, q.Status = r.MemberID, r.StoreID, r.PartnerID, PurchaseConfirmed
	q.Balance = Balance{Available: bal.Available + e.Tx.Available + bonus, Pending: bal.Pending + e.Tx.Pending}
	pur.Quote = q
	for i, l := range r.Lines {
		pur.Lines = append(pur.Lines, PurchaseLine{Line: l, Earned: q.Lines[i].Earned, Spent: q.Lines[i].Spent})
	}
	if err := tx.InsertPurchase(ctx, pur); err != nil {
		return Quote{}, err // ECONFLICT: a twin won; retryRace runs again
	}
	return q, nil
}

// Purchase returns a confirmed purchase's current state as a quote.
func (s *Service) Purchase(ctx context.Context, receiptID string) (q Quote, err error) {
	err = s.Store.View(ctx, func(tx Tx) error {
		p, err := tx.Purchase(ctx, receiptID)
		if err != nil {
			return err
		}
		q = p.Quote
		q.Status, q.StoreID, q.PartnerID = p.Status, p.StoreID, p.PartnerID
		return nil
	})
	return q, err
}

// validate checks the request against nothing but itself.
func (r *RefundRequest) validate() error {
	var pr Problems
	checkID(&pr, "refund_id", r.RefundID, true)
	if r.RefundID == CancelRefundID {
		pr.Add("refund_id", `"cancel" is reserved; use the cancel route`)
	}
	seen := map[int]bool{}
	for i, l := range r.Lines {
		if l.Line < 1 {
			pr.Add(fmt.Sprintf("lines[%d].line", i), "must be a positive line number")
		} else if seen[l.Line] {
			pr.Add(fmt.Sprintf("lines[%d].line", i), "appears twice")
		}
		seen[l.Line] = true
		if l.Quantity != nil && *l.Quantity <= 0 {
			pr.Add(fmt.Sprintf("lines[%d].quantity", i), "must be more than 0")
		}
	}
	return pr.Err()
}

// Refund returns some lines or quantities of a purchase. Earned points of the
// returned part are taken back and spent points of it given back, in
// proportion; when every line is returned the member is where they were
// before the purchase. Idempotent by refund id.
func (s *Service) Refund(ctx context.Context, receiptID string, req RefundRequest) (RefundResult, error) {
	if err := req.validate(); err != nil {
		return RefundResult{}, err
	}
	return s.refund(ctx, receiptID, req, KindRefund)
}

// Cancel voids a purchase at the till: everything not yet refunded is returned.
func (s *Service) Cancel(ctx context.Context, receiptID string) (RefundResult, error) {
	return s.refund(ctx, receiptID, RefundRequest{RefundID: CancelRefundID}, KindCancel)
}

func (s *Service) refund(ctx context.Context, receiptID string, req RefundRequest, kind string) (RefundResult, error) {
	hash := hashJSON(req)
	now := s.now()
	eng, err := s.Engine(ctx)
	if err != nil {
		return RefundResult{}, err
	}
	var res RefundResult
	err = retryRace(func() error {
		return s.Store.Update(ctx, func(tx Tx) error {
			pur, err := tx.Purchase(ctx, receiptID)
			if err != nil {
				return err
			}
			bal, err := tx.LockBalance(ctx, pur.MemberID)
			if err != nil {
				return err
			}
			// Under the member's lock, refunds of one purchase queue: a replay
			// sees the refund its twin has just committed.
			prev, err := tx.Refund(ctx, receiptID, req.RefundID)
			if err == nil {
				if prev.RequestHash != hash {
					return FieldErr(ERECEIPT, "refund_id", "a different refund was made with this id")
				}
				res = prev.Result
				return nil
			} else if ErrorCode(err) != ENOTFOUND {
				return err
			}
			if pur, err = tx.Purchase(ctx, receiptID); err != nil {
				return err
			}
			res, err = s.postRefund(ctx, tx, pur, bal, req, hash, kind, now, eng.loc)
			return err
		})
	})
	return res, err
}

// returned is the share of total that belongs to the first done of all units,
// so that successive refunds of a line add up to exactly total.
func returned(total int64, done, all Quantity) int64 {
	q, _, _ := mulDiv(total, int64(done), int64(all))
	return q
}

func (s *Service) postRefund(ctx context.Context, tx Tx, pur *Purchase, bal Balance, req RefundRequest, hash, kind string, now time.Time, loc *time.Location) (RefundResult, error) {
	if pur.Status == PurchaseCancelled {
		return RefundResult{}, Errorf(ESTATE, "the purchase was cancelled")
	}
	res := RefundResult{RefundID: req.RefundID, ReceiptID: pur.ReceiptID, Lines: []RefundResultLine{}}
	byLine := map[int]*PurchaseLine{}
	refundedBefore := map[int]Quantity{}
	for i := range pur.Lines {
		byLine[pur.Lines[i].Line.Line] = &pur.Lines[i]
		refundedBefore[pur.Lines[i].Line.Line] = pur.Lines[i].Refunded
	}
	want := req.Lines
	if len(want) == 0 {
		for _, l := range pur.Lines {
			if l.Refunded < l.Quantity {
				want = append(want, RefundLine{Line: l.Line.Line})
			}
		}
	}
	var pr Problems
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
		rl := RefundResultLine{Line: w.Line, Quantity: qty,
			EarnedReversed: returned(l.Earned, l.Refunded, l.Quantity) - returned(l.Earned, before, l.Quantity),
			SpentReturned:  returned(l.Spent, l.Refunded, l.Quantity) - returned(l.Spent, before, l.Quantity)}
		res.Lines = append(res.Lines, rl)
		res.EarnedReversed += rl.EarnedReversed
		res.SpentReturned += rl.SpentReturned
	}
	if err := pr.Err(); err != nil {
		return RefundResult{}, err
	}
	if len(want) == 0 {
		return RefundResult{}, Errorf(ESTATE, "every line of the purchase was already returned")
	}
	// Receipt awards shrink to what the lines kept still earn: a threshold
	// no longer reached is taken back whole.
	paidOf := map[int]int64{}
	for _, ql := range pur.Quote.Lines {
		paidOf[ql.Line] = ql.Paid
	}
	kept := func(a Award, refunded func(int) Quantity) int64 {
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
		if a.Kind == RulePerReceipt && !keeps {
			return 0 // every line it counted is back
		}
		return min(a.Points, a.value(basis))
	}
	for _, a := range pur.Quote.Awards {
		back := kept(a, func(n int) Quantity { return refundedBefore[n] }) - kept(a, func(n int) Quantity { return byLine[n].Refunded })
		res.AwardsReversed += back
		res.EarnedReversed += back
	}
	var paidBack int64
	for n, l := range byLine {
		paidBack += returned(paidOf[n], l.Refunded, l.Quantity) - returned(paidOf[n], refundedBefore[n], l.Quantity)
	}
	e := newEntry(Transaction{ID: s.newID(), MemberID: pur.MemberID, Kind: kind, ReceiptID: pur.ReceiptID, RefundID: req.RefundID,
		StoreID: pur.StoreID, PartnerID: pur.PartnerID, CreatedAt: now})
	if err := s.giveBackSpent(ctx, tx, e, pur, res.SpentReturned); err != nil {
		return RefundResult{}, err
	}
	taken, err := s.takeBackEarned(ctx, tx, e, pur, res.EarnedReversed)
	if err != nil {
		return RefundResult{}, err
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
		return RefundResult{}, err
	}
	pur.Status = PurchaseRefunded
	for _, l := range pur.Lines {
		if l.Refunded < l.Quantity {
			pur.Status = PurchaseConfirmed
		}
	}
	if kind == KindCancel {
		pur.Status = PurchaseCancelled
	}
	if err := tx.UpdatePurchase(ctx, pur); err != nil {
		return RefundResult{}, err
	}
	// The purchase's day counts less toward tiers.
	day := dayBucket(pur.OccurredAt, loc)
	if err := tx.AddCounters(ctx, pur.MemberID, []Counter{{CounterSpend, day, -paidBack}, {CounterPoints, day, -taken}}); err != nil {
		return RefundResult{}, err
	}
	res.Status = pur.Status
	res.Balance = Balance{Available: bal.Available + e.Tx.Available, Pending: bal.Pending + e.Tx.Pending}
	rec := &RefundRecord{ReceiptID: pur.ReceiptID, RefundID: req.RefundID, RequestHash: hash, TxID: e.Tx.ID, Result: res, CreatedAt: now}
	if err := tx.InsertRefund(ctx, rec); err != nil {
		return RefundResult{}, err // ECONFLICT: a twin won; retryRace runs again
	}
	return res, nil
}

// giveBackSpent restores points to the lots the purchase took them from,
// the last taken first. A lot whose expiry has passed gets them back too;
// the expiry job takes them again, as it would have without the purchase.
func (s *Service) giveBackSpent(ctx context.Context, tx Tx, e *Entry, pur *Purchase, points int64) error {
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
	byID := map[string]*Lot{}
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
			return Errorf(EINTERNAL, "ledger: lot %s of purchase %s is missing", sp.LotID, pur.ReceiptID)
		}
		e.move(l, give)
		e.post(AccountRedemption, AccountAvailable, give)
		sp.Restored += give
		points -= give
	}
	if points != 0 {
		return Errorf(EINTERNAL, "ledger: purchase %s has fewer spent points to return than its lines say", pur.ReceiptID)
	}
	return nil
}

// takeBackEarned takes back points the purchase earned: from its own lot
// first, then from the member's other active lots, the soonest to expire first.
//
// Earned points that have expired are not taken back again: expiry already
// returned them to the programme. It returns how many points it took.
func (s *Service) takeBackEarned(ctx context.Context, tx Tx, e *Entry, pur *Purchase, points int64) (int64, error) {
	if points == 0 {
		return 0, nil
	}
	var order []*Lot
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
	active, err := tx.Lots(ctx, pur.MemberID, LotActive)
	if err != nil {
		return 0, err
	}
	// Lots this refund has just given spent points back to count too: in the
	// database they may still be empty.
	others := map[string]*Lot{}
	for _, l := range active {
		others[l.ID] = l
	}
	for id, l := range e.Lots {
		others[id] = l
	}
	delete(others, pur.EarnLotID)
	rest := make([]*Lot, 0, len(others))
	for _, l := range others {
		if l.State == LotActive && l.Remaining > 0 {
			rest = append(rest, l)
		}
	}
	SpendOrder(rest)
	order = append(order, rest...)
	if !e.consume(order, points, AccountIssuance) {
		return 0, &Error{Code: EINSUFFICIENT,
			Message: fmt.Sprintf("the member no longer holds the %d points this refund must take back", points),
			Extra:   map[string]any{"earned_reversed": points}}
	}
	return points, nil
}
