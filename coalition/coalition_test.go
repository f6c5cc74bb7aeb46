package coalition_test

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/coalition"
	"github.com/kopilka/kopilka/internal/fakedb"
)

// These tests run the coalition's use cases against a fake of
// coalition.Tx, with no database.

type state struct {
	partners map[string]kopilka.Partner
	stores   map[string]kopilka.Store
	audit    []kopilka.AuditEntry
}

func clone(s state) state {
	return state{partners: maps.Clone(s.partners), stores: maps.Clone(s.stores), audit: slices.Clone(s.audit)}
}

// fakeTx implements what these tests use of coalition.Tx; the rest of the
// port panics if called.
type fakeTx struct {
	coalition.Tx
	s *state
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) Partner(_ context.Context, id string) (kopilka.Partner, error) {
	p, ok := t.s.partners[id]
	if !ok {
		return p, kopilka.Errorf(kopilka.ENOTFOUND, "partner %s not found", id)
	}
	return p, nil
}
func (t fakeTx) Partners(context.Context) ([]kopilka.Partner, error) {
	return slices.SortedFunc(maps.Values(t.s.partners), func(a, b kopilka.Partner) int { return compare(a.ID, b.ID) }), nil
}
func (t fakeTx) Store(_ context.Context, id string) (kopilka.Store, error) {
	o, ok := t.s.stores[id]
	if !ok {
		return o, kopilka.Errorf(kopilka.ENOTFOUND, "store %s not found", id)
	}
	return o, nil
}
func (t fakeTx) PutStore(_ context.Context, o kopilka.Store) error { t.s.stores[o.ID] = o; return nil }

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func newService() (*coalition.Service, *fakedb.DB[state, coalition.Tx]) {
	db := &fakedb.DB[state, coalition.Tx]{
		State: state{
			partners: map[string]kopilka.Partner{"a": {ID: "a", Name: "A", Status: kopilka.PartnerActive}, "b": {ID: "b", Name: "B", Status: kopilka.PartnerActive}},
			stores: map[string]kopilka.Store{"a1": {ID: "a1", PartnerID: "a", Name: "A1", Status: kopilka.StoreOpen},
				"b1": {ID: "b1", PartnerID: "b", Name: "B1", Status: kopilka.StoreOpen}},
		},
		Clone: clone,
		Tx:    func(s *state) coalition.Tx { return fakeTx{s: s} },
	}
	return &coalition.Service{DB: db, Env: kopilka.NewEnv()}, db
}

func scoped(role, partner string, stores ...string) context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(),
		kopilka.Principal{Kind: "key", ID: "k", Name: "k", Role: role, PartnerID: partner, StoreIDs: stores})
}

func TestPartnerAndStore_AnotherPartnersReadAsMissingOnes(t *testing.T) {
	svc, db := newService()
	ctx := scoped(kopilka.RolePartnerAdmin, "a")
	if _, err := svc.Partner(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	_, other := svc.Partner(ctx, "b")
	_, missing := svc.Partner(ctx, "zzz")
	if kopilka.ErrorCode(other) != kopilka.ENOTFOUND || other.Error() != missing.Error() {
		t.Fatalf("another partner: %v; a missing one: %v", other, missing)
	}
	_, other = svc.Store(ctx, "b1")
	_, missing = svc.Store(ctx, "zzz")
	if kopilka.ErrorCode(other) != kopilka.ENOTFOUND || other.Error() != missing.Error() {
		t.Fatalf("another partner's store: %v; a missing one: %v", other, missing)
	}
	ps, err := svc.Partners(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != "a" {
		t.Fatalf("partners seen by a: %+v %v", ps, err)
	}
	if len(db.State.audit) != 0 {
		t.Fatalf("reads wrote %d audit entries", len(db.State.audit))
	}
}

func TestPutStore_APartnersKeyChangesOnlyItsOwnStores(t *testing.T) {
	svc, db := newService()
	ctx := scoped(kopilka.RolePartnerAdmin, "a")
	if _, err := svc.PutStore(ctx, kopilka.Store{ID: "b1", PartnerID: "a", Name: "Mine now"}); kopilka.ErrorCode(err) != kopilka.ENOTFOUND {
		t.Fatalf("took another partner's store: %v", err)
	}
	if _, err := svc.PutStore(ctx, kopilka.Store{ID: "new", PartnerID: "b", Name: "For b"}); kopilka.ErrorCode(err) != kopilka.EINVALID {
		t.Fatalf("made a store for another partner: %v", err)
	}
	if db.State.stores["b1"].PartnerID != "b" || db.State.stores["new"].ID != "" {
		t.Fatalf("stores changed: %+v", db.State.stores)
	}
	o, err := svc.PutStore(ctx, kopilka.Store{ID: "a2", PartnerID: "a", Name: "A2"})
	if err != nil || db.State.stores["a2"].Name != "A2" {
		t.Fatalf("own store: %+v %v", o, err)
	}
	// Two refusals and one write, each on record; the write's in its transaction.
	if n := len(db.State.audit); n != 3 || db.State.audit[2].Target != "a2" || db.State.audit[2].Before != nil {
		t.Fatalf("audit %+v", db.State.audit)
	}
}

func TestPutStore_ATillMayNotChangeStores(t *testing.T) {
	svc, db := newService()
	if _, err := svc.PutStore(scoped(kopilka.RolePOS, "a"), kopilka.Store{ID: "a1", PartnerID: "a", Name: "X"}); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till changed a store: %v", err)
	}
	if db.State.stores["a1"].Name != "A1" || len(db.State.audit) != 1 {
		t.Fatalf("after the refusal: %+v, %d entries", db.State.stores["a1"], len(db.State.audit))
	}
}
