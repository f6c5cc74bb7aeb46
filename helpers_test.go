package kopilka_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/storage/storagetest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *clock) AddDate(y, m, d int) {
	c.mu.Lock()
	c.t = c.t.AddDate(y, m, d)
	c.mu.Unlock()
}

// env is a service over a fresh database with a test clock.
type env struct {
	t     testing.TB
	ctx   context.Context
	svc   *app.App
	clock *clock
}

// newEnv opens a fresh store of the dialect with the programme p.
func newEnv(t testing.TB, dialect string, p kopilka.Programme) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc := app.New(storagetest.Open(t, dialect))
	svc.Env.Now = c.Now
	svc.SetTTL(0)
	e := &env{t: t, ctx: kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("test")), svc: svc, clock: c}
	if _, err := svc.Programme.SetProgramme(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	e.partner("main", "store-1", "store-2")
	return e
}

// partner registers a partner with its stores, open at all hours.
func (e *env) partner(id string, stores ...string) {
	e.t.Helper()
	if _, err := e.svc.Coalition.PutPartner(e.ctx, kopilka.Partner{ID: id, Name: "Partner " + id}); err != nil {
		e.t.Fatalf("partner: %v", err)
	}
	for _, s := range stores {
		if _, err := e.svc.Coalition.PutStore(e.ctx, kopilka.Store{ID: s, PartnerID: id, Name: "Store " + s}); err != nil {
			e.t.Fatalf("store: %v", err)
		}
	}
}

// eachDialect runs fn as a subtest per database.
func eachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// testProgramme returns the default programme with the given changes.
func testProgramme(change func(p *kopilka.Programme)) kopilka.Programme {
	p := kopilka.DefaultProgramme()
	if change != nil {
		change(&p)
	}
	return p
}

func (e *env) member(phone string) kopilka.Member {
	e.t.Helper()
	m, err := e.svc.Members.CreateMember(e.ctx, kopilka.Member{Phone: phone, Name: "Test"})
	if err != nil {
		e.t.Fatalf("create member: %v", err)
	}
	return m
}

func (e *env) credit(memberID string, points int64) {
	e.t.Helper()
	if _, err := e.svc.Ledger.Adjust(e.ctx, memberID, kopilka.Adjustment{Points: points, Reason: "test credit"}, ""); err != nil {
		e.t.Fatalf("credit: %v", err)
	}
}

func (e *env) balance(memberID string) kopilka.Balance {
	e.t.Helper()
	b, err := e.svc.Ledger.Balance(e.ctx, memberID)
	if err != nil {
		e.t.Fatalf("balance: %v", err)
	}
	return kopilka.Balance{Available: b.Available, Pending: b.Pending}
}

// verify fails the test on any ledger invariant breach.
func (e *env) verify() {
	e.t.Helper()
	breaches, err := e.svc.Verify(e.ctx)
	if err != nil {
		e.t.Fatalf("verify: %v", err)
	}
	for _, b := range breaches {
		e.t.Errorf("ledger breach: %s: %s", b.Invariant, b.Detail)
	}
	if len(breaches) > 0 {
		e.t.FailNow()
	}
}

// receipt builds a receipt of lines given as amounts (quantity 1 each).
func receipt(id, memberID string, spend int64, amounts ...int64) kopilka.Receipt {
	r := kopilka.Receipt{ReceiptID: id, StoreID: "store-1", MemberID: memberID, SpendPoints: spend}
	for i, a := range amounts {
		r.Lines = append(r.Lines, kopilka.Line{Line: i + 1, SKU: fmt.Sprintf("sku-%d", i+1), Category: "food",
			Quantity: kopilka.QuantityScale, Price: a, Amount: a})
	}
	return r
}

// randomReceipt makes a receipt of 1 to 5 lines with random quantities.
func randomReceipt(rng *rand.Rand, id, memberID string, spend int64) kopilka.Receipt {
	r := kopilka.Receipt{ReceiptID: id, StoreID: "store-1", MemberID: memberID, SpendPoints: spend}
	for i := range 1 + rng.IntN(5) {
		qty := kopilka.Quantity(1+rng.IntN(5)) * kopilka.QuantityScale
		if rng.IntN(3) == 0 {
			qty = kopilka.Quantity(1 + rng.IntN(2500)) // weighed goods
		}
		price := int64(1 + rng.IntN(500_00))
		full := (int64(qty)*price + kopilka.QuantityScale/2) / kopilka.QuantityScale
		r.Lines = append(r.Lines, kopilka.Line{Line: i + 1, SKU: fmt.Sprintf("sku-%d", rng.IntN(50)), Category: "c",
			Quantity: qty, Price: price, Amount: full - rng.Int64N(full/10+1)})
	}
	return r
}
