// Package importer brings history into the programme: receipt lines from a
// file become members (by the source's customer id), stores and purchases
// with their dates, and returns become refunds of the purchases they
// return. Re-running an import changes nothing. See docs/import.md.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// Tx is the storage an import writes through, one transaction a batch.
type Tx interface {
	access.Auditor
	// EnsureStores adds the partner's stores that do not exist yet (named by
	// their ids, in the zone, open) and returns how many it added. A store
	// id another partner holds is ECONFLICT.
	EnsureStores(ctx context.Context, partnerID string, ids []string, zone string, at time.Time) (int, error)
	// EnsureMembers adds the members that do not exist yet, with their
	// balance and their reference (source, external id), and moves an
	// existing one's created_at back to an earlier first purchase. It
	// returns how many it added.
	EnsureMembers(ctx context.Context, source string, refs []MemberRef) (int, error)
	// StoredReceipts returns, of the partner's receipts named, those stored
	// already: each with its request hash ("import:<source>" for an import's)
	// and the numbers of its lines.
	StoredReceipts(ctx context.Context, partnerID string, receiptIDs []string) (map[string]*Stored, error)
	// InsertPurchases stores purchases with their lines in as few statements
	// as the database allows.
	InsertPurchases(ctx context.Context, ps []*kopilka.Purchase) error
	// AddPurchaseLines stores more lines of a stored purchase and adds their
	// amounts to its total.
	AddPurchaseLines(ctx context.Context, partnerID, receiptID string, lines []kopilka.PurchaseLine, amount int64) error
	// Returnable returns the lines of the member's purchases at the partner
	// up to at, of the SKU, with units not yet returned: newest first, at
	// most limit.
	Returnable(ctx context.Context, partnerID, memberID, sku string, at time.Time, limit int) ([]ReturnableLine, error)
	// ReturnUnits marks units of a purchase's line returned (refunded +=
	// units) and the purchase refunded once every line is.
	ReturnUnits(ctx context.Context, partnerID, receiptID string, line int, units kopilka.Quantity) error
	// InsertRefund stores a refund; an existing refund id is ECONFLICT.
	InsertRefund(ctx context.Context, r *kopilka.RefundRecord) error
	// RefundsWithID returns the partner's refunds recorded under refundID
	// (an imported return's receipt id), on whichever purchases.
	RefundsWithID(ctx context.Context, partnerID, refundID string) ([]kopilka.RefundRecord, error)
	// EnsureProducts records the partner's goods' names (sku → name) not
	// known yet; a known name stays.
	EnsureProducts(ctx context.Context, partnerID string, names map[string]string) error
}

// MemberRef is a member an import knows by the source's customer id.
type MemberRef struct {
	ExternalID string
	MemberID   string
	// FirstAt is the member's first purchase in the file: their created_at.
	FirstAt time.Time
}

// Stored is a receipt the database holds already.
type Stored struct {
	Hash  string
	Lines map[int]bool
}

// ReturnableLine is a purchase's line with units not yet returned.
type ReturnableLine struct {
	ReceiptID string
	Line      int
	Left      kopilka.Quantity // quantity − refunded
}

// Pricer posts history with points: the purchases' use cases, dated at
// the receipt's time.
type Pricer interface {
	ConfirmHistoric(ctx context.Context, r kopilka.Receipt, hash string) (kopilka.Quote, error)
	RefundHistoric(ctx context.Context, partnerID, receiptID string, req kopilka.RefundRequest, at time.Time) (kopilka.RefundResult, error)
}

// Live gives the programme's time zone.
type Live interface {
	Engine(ctx context.Context) (*pricing.Engine, error)
}

// Service imports files.
type Service struct {
	DB   kopilka.Transactor[Tx]
	Env  *kopilka.Env
	Live Live
	// Members writes the member import (ImportMembers).
	Members kopilka.Transactor[MembersTx]
	// Jobs keeps the imports run as jobs.
	Jobs kopilka.Transactor[JobTx]
	// Pricer posts members' receipts with points (Options.Points).
	Pricer Pricer
	// Region reads phone numbers without a country code ("RU").
	Region string
}

// Options are one import's settings.
type Options struct {
	Mapping Mapping
	// PartnerID is the partner whose stores and receipts these are; it
	// must exist.
	PartnerID string
	// Source names where the customer ids come from (default the mapping's
	// name): the same id from two sources is two members.
	Source string
	// Dir is where the mapping's lookup files are (the file's directory).
	Dir string
	// At dates receipts of a file without a time column (default now).
	At time.Time
	// Batch is how many receipts one transaction writes (default 2,000).
	Batch int
	// MaxErrors is how many refused rows the summary lists (default 1,000);
	// every one is counted.
	MaxErrors int
	// Progress, when set, is called after each batch with the summary so far.
	Progress func(Summary)
	// Points posts members' receipts through the purchase flow at their
	// time, earning the points the programme gives now as of then (dated
	// then, expiring from then), and their returns take the points back;
	// guests' receipts are stored as without. Off: no points, no ledger.
	Points bool
}

// Summary is what an import did. Rows = lines written + lines already
// there + rows refused (a basket's row counts its items).
type Summary struct {
	Source    string `json:"source"`
	PartnerID string `json:"partner_id"`
	Rows      int64  `json:"rows"`
	// Lines, Receipts and Returns are what this run wrote.
	Lines    int64 `json:"lines"`
	Receipts int64 `json:"receipts"`
	Returns  int64 `json:"returns"`
	// ReturnedFound counts return lines found, whole or in part, on an
	// earlier purchase of the same member and SKU (now refunds of it).
	ReturnedFound int64 `json:"returned_found"`
	// Already counts lines found stored by an earlier run.
	Already int64      `json:"already"`
	Members int64      `json:"members"`
	Stores  int64      `json:"stores"`
	Refused int64      `json:"refused"`
	Errors  []RowError `json:"errors"`
	// Earned is the points members' receipts earned (Options.Points), less
	// what their returns took back.
	Earned int64 `json:"points_earned,omitempty"`
	// Turnover is what this run's sales came to less its returns, in minor units.
	Turnover int64     `json:"turnover"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Elapsed  float64   `json:"elapsed_seconds"`
}

// receipt is a receipt gathered from rows.
type receipt struct {
	id, customer, store string
	at                  time.Time
	ret                 bool // a return: its quantities were negative
	lines               []row
}

// MemberID is the id of the member a source's customer id becomes: "m"
// and 20 characters of the SHA-256 of source and id, so that every run
// and every instance finds the same member without a lookup.
func MemberID(source, externalID string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + externalID))
	return "m" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:]))[:20]
}

// Import reads r and writes what it holds (role admin). A row that cannot
// be imported is counted and listed in the summary with its line and
// reason, and the rest goes on; an error ends the import, after the
// batches written so far (a second run goes on where it stopped).
func (s *Service) Import(ctx context.Context, r io.Reader, o Options) (sum Summary, err error) {
	start := time.Now()
	if err := access.Allow(ctx, access.ImportRun); err != nil {
		return sum, err
	}
	if err := o.Mapping.Check(); err != nil {
		return sum, err
	}
	if o.PartnerID == "" {
		return sum, kopilka.FieldErr(kopilka.EINVALID, "partner", "the partner whose receipts these are is needed")
	}
	if o.Source == "" {
		o.Source = o.Mapping.Name
	}
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 1000
	}
	if o.At.IsZero() {
		o.At = s.Env.Time()
	}
	eng, err := s.Live.Engine(ctx)
	if err != nil {
		return sum, err
	}
	loc := eng.Loc
	if o.Mapping.Zone != "" {
		if loc, err = time.LoadLocation(o.Mapping.Zone); err != nil {
			return sum, kopilka.FieldErr(kopilka.EINVALID, "zone", "unknown time zone")
		}
	}
	var cats map[string]string
	if o.Mapping.Categories != nil {
		if cats, err = loadLookup(o.Mapping.Categories, o.Dir); err != nil {
			return sum, err
		}
	}
	rd, err := newReader(r, o.Mapping, loc, o.At, cats)
	if err != nil {
		return sum, err
	}
	im := &run{s: s, o: o, sum: &sum, zone: loc.String(), members: map[string]time.Time{}, stores: map[string]bool{}, named: map[string]bool{}}
	sum.Source, sum.PartnerID = o.Source, o.PartnerID
	defer func() { sum.Elapsed = time.Since(start).Seconds() }()
	var open []*receipt
	byID := map[string]*receipt{}
	for {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rows, err := rd.next()
		if err == io.EOF {
			break
		}
		var rerr RowError
		if errors.As(err, &rerr) {
			sum.Rows++
			im.refuse(rerr)
			continue
		}
		if err != nil {
			return sum, err
		}
		if len(rows) == 0 {
			continue
		}
		sum.Rows += int64(len(rows))
		id := rows[0].receipt
		rc := byID[id]
		if rc == nil {
			if len(open) >= o.Batch {
				if err := im.flush(ctx, open); err != nil {
					return sum, err
				}
				open, byID = open[:0], map[string]*receipt{}
			}
			rc = &receipt{id: id, customer: rows[0].customer, store: rows[0].store, at: rows[0].at, ret: rows[0].qty < 0}
			open = append(open, rc)
			byID[id] = rc
		}
		for _, l := range rows {
			switch {
			case (l.qty < 0) != rc.ret:
				im.refuse(RowError{Line: l.line, Field: "quantity", Reason: "a return's line in a sale, or a sale's in a return"})
			case l.customer != rc.customer:
				im.refuse(RowError{Line: l.line, Field: "customer", Reason: fmt.Sprintf("receipt %s is %q's", id, rc.customer)})
			case l.store != rc.store:
				im.refuse(RowError{Line: l.line, Field: "store", Reason: fmt.Sprintf("receipt %s is store %q's", id, rc.store)})
			default:
				if l.qty < 0 {
					l.qty = -l.qty
				}
				rc.lines = append(rc.lines, l)
			}
		}
	}
	if len(open) > 0 {
		if err := im.flush(ctx, open); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// run is one import's state: the members and stores it has made sure of.
type run struct {
	s       *Service
	o       Options
	sum     *Summary
	zone    string
	members map[string]time.Time // external id → earliest first purchase sent
	stores  map[string]bool
	named   map[string]bool // SKUs whose names were sent
	// deferred are the batch's members' receipts to post with points after
	// its transaction.
	deferred []*receipt
}

func (im *run) refuse(e RowError) {
	im.sum.Refused++
	if len(im.sum.Errors) < im.o.MaxErrors {
		im.sum.Errors = append(im.sum.Errors, e)
	}
}

// flush writes a batch of receipts in one transaction with its audit entry.
func (im *run) flush(ctx context.Context, batch []*receipt) error {
	var stores []string
	var refs []MemberRef
	var ids []string
	seenStore := map[string]bool{}
	names := map[string]string{}
	for _, rc := range batch {
		if len(rc.lines) == 0 {
			continue
		}
		for _, l := range rc.lines {
			if l.name != "" && !im.named[l.sku] {
				if _, ok := names[l.sku]; !ok {
					names[l.sku] = l.name
				}
			}
		}
		ids = append(ids, rc.id)
		if !im.stores[rc.store] && !seenStore[rc.store] {
			seenStore[rc.store] = true
			stores = append(stores, rc.store)
		}
		if rc.customer != "" {
			if t, ok := im.members[rc.customer]; !ok || rc.at.Before(t) {
				im.members[rc.customer] = rc.at
				refs = append(refs, MemberRef{ExternalID: rc.customer, MemberID: MemberID(im.o.Source, rc.customer), FirstAt: rc.at})
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var got Summary
	a := access.Begin(ctx, im.s.Env, access.ImportRun, im.o.Source)
	err := kopilka.RetryRace(func() error {
		got = Summary{}
		return im.s.DB.Update(ctx, func(tx Tx) error {
			n, err := tx.EnsureStores(ctx, im.o.PartnerID, stores, im.zone, batch[0].at)
			if err != nil {
				return err
			}
			got.Stores = int64(n)
			if n, err = tx.EnsureMembers(ctx, im.o.Source, refs); err != nil {
				return err
			}
			got.Members = int64(n)
			if err := im.write(ctx, tx, batch, ids, &got); err != nil {
				return err
			}
			if err := tx.EnsureProducts(ctx, im.o.PartnerID, names); err != nil {
				return err
			}
			return a.Record(ctx, tx, nil, map[string]any{"source": im.o.Source, "partner_id": im.o.PartnerID,
				"first_line": batch[0].lines[0].line, "receipts": got.Receipts, "returns": got.Returns, "lines": got.Lines,
				"members": got.Members, "stores": got.Stores})
		})
	})
	if err != nil {
		return access.Finish(ctx, im.s.DB, a, err)
	}
	if err := im.postDeferred(ctx, &got); err != nil {
		return err
	}
	for _, st := range stores {
		im.stores[st] = true
	}
	for sku := range names {
		im.named[sku] = true
	}
	s := im.sum
	s.Lines += got.Lines
	s.Receipts += got.Receipts
	s.Returns += got.Returns
	s.ReturnedFound += got.ReturnedFound
	s.Already += got.Already
	s.Members += got.Members
	s.Stores += got.Stores
	s.Turnover += got.Turnover
	s.Earned += got.Earned
	s.Refused += got.Refused
	for _, e := range got.Errors {
		if len(s.Errors) < im.o.MaxErrors {
			s.Errors = append(s.Errors, e)
		}
	}
	for _, rc := range batch {
		if len(rc.lines) == 0 {
			continue
		}
		if s.From.IsZero() || rc.at.Before(s.From) {
			s.From = rc.at
		}
		if rc.at.After(s.To) {
			s.To = rc.at
		}
	}
	if im.o.Progress != nil {
		im.o.Progress(*s)
	}
	return nil
}

// write stores the batch's sales, then its returns in order.
func (im *run) write(ctx context.Context, tx Tx, batch []*receipt, ids []string, got *Summary) error {
	stored, err := tx.StoredReceipts(ctx, im.o.PartnerID, ids)
	if err != nil {
		return err
	}
	hash := "import:" + im.o.Source
	im.deferred = im.deferred[:0] // this attempt's
	now := im.s.Env.Time()
	var sales []*kopilka.Purchase
	var returns []*kopilka.Purchase
	var returned []*receipt // returns' receipts, beside them
	for _, rc := range batch {
		if len(rc.lines) == 0 {
			continue
		}
		p := im.purchase(rc, now)
		if im.o.Points && rc.customer != "" {
			if st := stored[rc.id]; st == nil {
				im.deferred = append(im.deferred, rc) // posted with points after this transaction
				continue
			} else if st.Hash == hash {
				for _, l := range rc.lines {
					if st.Lines[l.item] {
						got.Already++
					} else {
						got.Refused++
						got.Errors = append(got.Errors, RowError{Line: l.line, Field: "receipt", Reason: "with points, a receipt's lines must come together in the file: this one came after its receipt was posted"})
					}
				}
				continue
			}
		}
		if st := stored[rc.id]; st != nil && st.Hash != hash {
			// A till's receipt, or another source's, has this id: the
			// import adds nothing to it.
			for _, l := range rc.lines {
				got.Refused++
				got.Errors = append(got.Errors, RowError{Line: l.line, Field: "receipt", Reason: fmt.Sprintf("receipt %s of partner %s was stored by another source", rc.id, im.o.PartnerID)})
			}
			continue
		} else if st != nil {
			have := st.Lines
			// Stored by an earlier run, or a receipt whose lines come apart in
			// the file: only its lines not stored yet are new.
			var more []kopilka.PurchaseLine
			var amount int64
			for _, l := range p.Lines {
				if have[l.Line.Line] {
					got.Already++
					continue
				}
				more = append(more, l)
				amount += l.Amount
			}
			if len(more) == 0 {
				continue
			}
			if rc.ret {
				// Returned lines must be matched before they are stored.
				if err := im.match(ctx, tx, rc, fmt.Sprintf("%s#%d", rc.id, more[0].Line.Line), more, got); err != nil {
					return err
				}
				amount = -amount
			}
			if err := tx.AddPurchaseLines(ctx, im.o.PartnerID, rc.id, more, amount); err != nil {
				return err
			}
			got.Lines += int64(len(more))
			got.Turnover += amount
			continue
		}
		got.Lines += int64(len(p.Lines))
		if rc.ret {
			returns, returned = append(returns, p), append(returned, rc)
			got.Returns++
			got.Turnover -= p.Quote.Total
		} else {
			sales = append(sales, p)
			got.Receipts++
			got.Turnover += p.Quote.Total
		}
	}
	if err := tx.InsertPurchases(ctx, sales); err != nil {
		return err
	}
	for i, p := range returns {
		if err := im.match(ctx, tx, returned[i], returned[i].id, p.Lines, got); err != nil {
			return err
		}
	}
	return tx.InsertPurchases(ctx, returns)
}

// purchase is the stored form of an imported receipt: no ledger
// transaction, a quote with its total, lines numbered by the file's lines
// (a basket's items 1…n). A return is a purchase of status "return" whose
// lines' quantities are the units brought back.
func (im *run) purchase(rc *receipt, now time.Time) *kopilka.Purchase {
	memberID := ""
	if rc.customer != "" {
		memberID = MemberID(im.o.Source, rc.customer)
	}
	p := &kopilka.Purchase{ReceiptID: rc.id, MemberID: memberID, StoreID: rc.store, PartnerID: im.o.PartnerID,
		RequestHash: "import:" + im.o.Source, Status: kopilka.PurchaseConfirmed, OccurredAt: rc.at, CreatedAt: now}
	if rc.ret {
		p.Status = kopilka.PurchaseReturn
	}
	for _, l := range rc.lines {
		p.Lines = append(p.Lines, kopilka.PurchaseLine{Line: kopilka.Line{Line: l.item, SKU: l.sku, Category: l.category,
			Quantity: l.qty, Price: l.price, Amount: l.amount}})
		p.Quote.Total += l.amount
	}
	at := rc.at
	p.Quote = kopilka.Quote{ReceiptID: rc.id, MemberID: memberID, StoreID: rc.store, PartnerID: im.o.PartnerID,
		Total: p.Quote.Total, Paid: p.Quote.Total, Status: p.Status, OccurredAt: &at}
	return p
}

// match finds a return's lines on the member's earlier purchases of the
// same SKU, newest first, and records them there as refunds (refund id: the
// return's receipt id, and for lines of it that came later in the file, the
// first such line's number after "#"). A line's Refunded becomes the units found, so that
// a unit is counted returned once: on the purchase it came from when found,
// else on the return itself.
func (im *run) match(ctx context.Context, tx Tx, rc *receipt, refundID string, lines []kopilka.PurchaseLine, got *Summary) error {
	if rc.customer == "" {
		return nil
	}
	memberID := MemberID(im.o.Source, rc.customer)
	refunds := map[string]*kopilka.RefundRecord{}
	var order []string
	for i := range lines {
		l := &lines[i]
		want := l.Quantity
		cands, err := tx.Returnable(ctx, im.o.PartnerID, memberID, l.SKU, rc.at, 20)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if want == 0 {
				break
			}
			n := min(want, c.Left)
			if err := tx.ReturnUnits(ctx, im.o.PartnerID, c.ReceiptID, c.Line, n); err != nil {
				return err
			}
			want -= n
			r := refunds[c.ReceiptID]
			if r == nil {
				r = &kopilka.RefundRecord{ReceiptID: c.ReceiptID, PartnerID: im.o.PartnerID, RefundID: refundID,
					RequestHash: "import:" + im.o.Source, CreatedAt: rc.at,
					Result: kopilka.RefundResult{RefundID: refundID, ReceiptID: c.ReceiptID, Status: kopilka.PurchaseConfirmed}}
				refunds[c.ReceiptID] = r
				order = append(order, c.ReceiptID)
			}
			r.Result.Lines = append(r.Result.Lines, kopilka.RefundResultLine{Line: c.Line, Quantity: n})
		}
		if want < l.Quantity {
			l.Refunded = l.Quantity - want
			got.ReturnedFound++
		}
	}
	for _, id := range order {
		if err := tx.InsertRefund(ctx, refunds[id]); err != nil {
			return err
		}
	}
	return nil
}

// postDeferred posts the batch's members' receipts with points, in the
// file's order, each through the purchase flow at its own time: a sale as
// a confirmation, a return as refunds of the purchases it is found on
// (each refund under the return's receipt id, so a second run replays the
// same ones) and then its own record. A receipt the flow refuses is refused
// as rows, with the flow's reason.
func (im *run) postDeferred(ctx context.Context, got *Summary) error {
	hash := "import:" + im.o.Source
	refuse := func(rc *receipt, err error) error {
		var ke *kopilka.Error
		if !errors.As(err, &ke) || ke.Code == kopilka.EINTERNAL {
			return err
		}
		field, reason := "receipt", ke.Message
		if len(ke.Fields) > 0 {
			field, reason = ke.Fields[0].Field, ke.Fields[0].Detail
		}
		for _, l := range rc.lines {
			got.Refused++
			got.Errors = append(got.Errors, RowError{Line: l.line, Field: field, Reason: reason})
		}
		return nil
	}
	for _, rc := range im.deferred {
		p := im.purchase(rc, im.s.Env.Time())
		if !rc.ret {
			r := kopilka.Receipt{ReceiptID: rc.id, StoreID: rc.store, MemberID: p.MemberID, OccurredAt: rc.at}
			for _, l := range p.Lines {
				r.Lines = append(r.Lines, l.Line)
			}
			q, err := im.s.Pricer.ConfirmHistoric(ctx, r, hash)
			if err != nil {
				if err := refuse(rc, err); err != nil {
					return err
				}
				continue
			}
			got.Receipts++
			got.Lines += int64(len(p.Lines))
			got.Turnover += p.Quote.Total
			got.Earned += q.Earned
			continue
		}
		// A return: the refunds a run before made under its id, else a plan.
		plan := map[string][]kopilka.RefundLine{}
		var order []string
		var perLine map[int]kopilka.Quantity // return line index → units found (a fresh plan)
		err := im.s.DB.View(ctx, func(tx Tx) error {
			prior, err := tx.RefundsWithID(ctx, im.o.PartnerID, rc.id)
			if err != nil {
				return err
			}
			for _, r := range prior {
				order = append(order, r.ReceiptID)
				for _, l := range r.Result.Lines {
					q := l.Quantity
					plan[r.ReceiptID] = append(plan[r.ReceiptID], kopilka.RefundLine{Line: l.Line, Quantity: &q})
				}
			}
			if len(prior) > 0 {
				return nil
			}
			taken := map[[2]string]kopilka.Quantity{}
			perLine = map[int]kopilka.Quantity{}
			for i := range p.Lines {
				l := &p.Lines[i]
				want := l.Quantity
				cands, err := tx.Returnable(ctx, im.o.PartnerID, p.MemberID, l.SKU, rc.at, 20)
				if err != nil {
					return err
				}
				for _, c := range cands {
					k := [2]string{c.ReceiptID, strconv.Itoa(c.Line)}
					n := min(want, c.Left-taken[k])
					if n <= 0 {
						continue
					}
					taken[k] += n
					perLine[i] += n
					want -= n
					if _, ok := plan[c.ReceiptID]; !ok {
						order = append(order, c.ReceiptID)
					}
					plan[c.ReceiptID] = addRefundLine(plan[c.ReceiptID], c.Line, n)
					if want == 0 {
						break
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		found := map[int]kopilka.Quantity{} // the return's units found, by SKU's line order
		refused := false
		for _, orig := range order {
			res, err := im.s.Pricer.RefundHistoric(ctx, im.o.PartnerID, orig, kopilka.RefundRequest{RefundID: rc.id, Lines: plan[orig]}, rc.at)
			if err != nil {
				if err := refuse(rc, err); err != nil {
					return err
				}
				refused = true
				break
			}
			got.Earned -= res.EarnedReversed
			for _, l := range res.Lines {
				found[l.Line] += l.Quantity
			}
		}
		if refused {
			continue // refused as rows; a run after a fix goes on from the refunds made
		}
		// The return's own record: its lines' refunded are the units found
		// for each (replaying a run's refunds, which do not say which line
		// of the return they were for: spread over its lines in order).
		var total kopilka.Quantity
		for _, q := range found {
			total += q
		}
		for i := range p.Lines {
			n := min(total, p.Lines[i].Quantity)
			if perLine != nil {
				n = min(perLine[i], p.Lines[i].Quantity)
			}
			p.Lines[i].Refunded = n
			total -= n
			if n > 0 {
				got.ReturnedFound++
			}
		}
		err = im.s.DB.Update(ctx, func(tx Tx) error {
			if st, err := tx.StoredReceipts(ctx, im.o.PartnerID, []string{rc.id}); err != nil || st[rc.id] != nil {
				return err
			}
			return tx.InsertPurchases(ctx, []*kopilka.Purchase{p})
		})
		if err != nil {
			return err
		}
		got.Returns++
		got.Lines += int64(len(p.Lines))
		got.Turnover -= p.Quote.Total
	}
	return nil
}

// addRefundLine adds n units of a line to a refund request's lines, one
// entry a line.
func addRefundLine(lines []kopilka.RefundLine, line int, n kopilka.Quantity) []kopilka.RefundLine {
	for i := range lines {
		if lines[i].Line == line {
			sum := *lines[i].Quantity + n
			lines[i].Quantity = &sum
			return lines
		}
	}
	return append(lines, kopilka.RefundLine{Line: line, Quantity: &n})
}
