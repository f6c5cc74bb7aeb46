package purchases_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
	"github.com/kopilka/kopilka/pricing"
	"github.com/kopilka/kopilka/purchases"
)

// These tests run the purchase flow's guards against a fake of
// purchases.Tx, with no database; the flow itself is tested on both
// databases in the root package's tests.

type state struct {
	purchases map[string]*kopilka.Purchase
	audit     []kopilka.AuditEntry
}

func clone(s state) state {
	out := state{purchases: map[string]*kopilka.Purchase{}, audit: slices.Clone(s.audit)}
	for k, p := range s.purchases {
		c := *p
		out.purchases[k] = &c
	}
	return out
}

type fakeTx struct {
	purchases.Tx // the rest of the port panics if called
	s            *state
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) Purchase(_ context.Context, partner, id string) (*kopilka.Purchase, error) {
	p, ok := t.s.purchases[partner+"/"+id]
	if !ok {
		return nil, kopilka.Errorf(kopilka.ENOTFOUND, "purchase %s not found", id)
	}
	return p, nil
}
func (t fakeTx) PurchasePartners(_ context.Context, id string, limit int) ([]string, error) {
	var out []string
	for _, p := range t.s.purchases {
		if p.ReceiptID == id {
			out = append(out, p.PartnerID)
		}
	}
	slices.Sort(out)
	return out[:min(limit, len(out))], nil
}

type live struct{ e *pricing.Engine }

func (l live) Engine(context.Context) (*pricing.Engine, error) { return l.e, nil }

type sites map[string]kopilka.Site

func (s sites) Site(_ context.Context, id string) (kopilka.Site, error) {
	site, ok := s[id]
	if !ok {
		return site, kopilka.Errorf(kopilka.ENOTFOUND, "store not found")
	}
	return site, nil
}
func (s sites) SiteFor(ctx context.Context, r *kopilka.Receipt, _ time.Time) (kopilka.Site, error) {
	return s.Site(ctx, r.StoreID)
}

func newService(t *testing.T) (*purchases.Service, *fakedb.DB[state, purchases.Tx]) {
	t.Helper()
	e, err := pricing.Compile(kopilka.DefaultProgramme())
	if err != nil {
		t.Fatal(err)
	}
	db := &fakedb.DB[state, purchases.Tx]{
		State: state{purchases: map[string]*kopilka.Purchase{
			"b/r-b":  {ReceiptID: "r-b", MemberID: "m", StoreID: "b1", PartnerID: "b", Status: kopilka.PurchaseConfirmed},
			"b/0001": {ReceiptID: "0001", MemberID: "m", StoreID: "b1", PartnerID: "b", Status: kopilka.PurchaseConfirmed},
			"a/0001": {ReceiptID: "0001", MemberID: "m", StoreID: "a1", PartnerID: "a", Status: kopilka.PurchaseRefunded},
		}},
		Clone: clone,
		Tx:    func(s *state) purchases.Tx { return fakeTx{s: s} },
	}
	ss := sites{
		"a1": {Store: kopilka.Store{ID: "a1", PartnerID: "a"}, Partner: kopilka.Partner{ID: "a"}},
		"b1": {Store: kopilka.Store{ID: "b1", PartnerID: "b"}, Partner: kopilka.Partner{ID: "b"}},
	}
	return &purchases.Service{DB: db, Env: kopilka.NewEnv(), Live: live{e}, Sites: ss}, db
}

func till(partner string) context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(),
		kopilka.Principal{Kind: "key", ID: "till", Name: "till", Role: kopilka.RolePOS, PartnerID: partner})
}

func TestPurchase_AnotherPartnersReceiptReadsLikeAMissingOne(t *testing.T) {
	svc, db := newService(t)
	_, other := svc.Purchase(till("a"), "", "r-b")
	_, missing := svc.Purchase(till("a"), "", "nope")
	if kopilka.ErrorCode(other) != kopilka.ENOTFOUND || other.Error() != missing.Error() {
		t.Fatalf("another partner's receipt: %v; a missing one: %v", other, missing)
	}
	if q, err := svc.Purchase(till("b"), "", "r-b"); err != nil || q.Status != kopilka.PurchaseConfirmed {
		t.Fatalf("own receipt: %+v %v", q, err)
	}
	// Naming the other partner does not help a scoped till.
	if _, err := svc.Purchase(till("a"), "b", "r-b"); err == nil || err.Error() != missing.Error() {
		t.Fatalf("a till naming another partner's receipt: %v", err)
	}
	if len(db.State.audit) != 0 {
		t.Fatal("a read wrote an audit entry")
	}
}

// A receipt id is unique within its partner: each till finds its own
// "0001"; an operator names the partner when several have the id, and need
// not when one has.
func TestPurchase_AReceiptIDIsFoundWithinItsPartner(t *testing.T) {
	svc, _ := newService(t)
	for partner, status := range map[string]string{"a": kopilka.PurchaseRefunded, "b": kopilka.PurchaseConfirmed} {
		if q, err := svc.Purchase(till(partner), "", "0001"); err != nil || q.Status != status || q.PartnerID != partner {
			t.Fatalf("partner %s's till reading its 0001: %+v %v", partner, q, err)
		}
	}
	admin := kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "operator", ID: "o", Role: kopilka.RoleAdmin})
	_, err := svc.Purchase(admin, "", "0001")
	var pe *kopilka.Error
	if !errors.As(err, &pe) || pe.Code != kopilka.EINVALID || pe.Fields[0].Field != "partner_id" {
		t.Fatalf("an operator naming no partner for a receipt id two partners use: %v", err)
	}
	if q, err := svc.Purchase(admin, "a", "0001"); err != nil || q.PartnerID != "a" {
		t.Fatalf("an operator naming partner a: %+v %v", q, err)
	}
	if q, err := svc.Purchase(admin, "", "r-b"); err != nil || q.PartnerID != "b" {
		t.Fatalf("an operator reading a receipt id only one partner uses: %+v %v", q, err)
	}
	if _, err := svc.Purchase(admin, "c", "0001"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("an operator naming a partner without the receipt: %v", err)
	}
}

func TestRefundAndCancel_AnotherPartnersTillChangesNothing(t *testing.T) {
	svc, db := newService(t)
	_, err := svc.Refund(till("a"), "", "r-b", kopilka.RefundRequest{RefundID: "x"})
	if kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("refund by another partner's till: %v", err)
	}
	if _, err := svc.Cancel(till("a"), "", "r-b"); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("cancel by another partner's till: %v", err)
	}
	if db.State.purchases["b/r-b"].Status != kopilka.PurchaseConfirmed {
		t.Fatal("another partner's till changed the purchase")
	}
	// Both attempts are on record as failures, none as a write.
	for _, e := range db.State.audit {
		if len(e.Before) != 0 || !slices.Contains([]string{"purchases.refund", "purchases.cancel"}, e.Action) {
			t.Fatalf("entry %+v", e)
		}
	}
	if len(db.State.audit) != 2 {
		t.Fatalf("%d entries, want the two refusals", len(db.State.audit))
	}
}

func TestCalculateAndConfirm_AReceiptAtAnotherPartnersStoreIsNotFound(t *testing.T) {
	svc, db := newService(t)
	r := kopilka.Receipt{ReceiptID: "r1", StoreID: "b1", MemberID: "m",
		Lines: []kopilka.Line{{Line: 1, SKU: "x", Quantity: kopilka.QuantityScale, Price: 100, Amount: 100}}}
	_, quote := svc.Calculate(till("a"), r)
	_, confirm := svc.Confirm(till("a"), r)
	for _, err := range []error{quote, confirm} {
		if kopilka.ErrorCode(err) != kopilka.ENOTFOUND || !strings.HasSuffix(err.Error(), "no store has this id") {
			t.Fatalf("receipt at another partner's store: %v", err)
		}
	}
	if n := len(db.State.audit); n != 1 || db.State.audit[0].Action != "purchases.confirm" {
		t.Fatalf("audit after a refused quote and confirmation: %+v", db.State.audit)
	}
	if _, err := svc.Calculate(kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", ID: "m", Role: kopilka.RoleMarketing}), r); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("marketing quoted a receipt: %v", err)
	}
}
