package access_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/internal/fakedb"
)

// These tests run the access use cases and the audit machinery against a
// fake of access.Tx, with no database.

type state struct {
	keys  []kopilka.APIKey
	audit []kopilka.AuditEntry
}

func clone(s state) state { return state{keys: slices.Clone(s.keys), audit: slices.Clone(s.audit)} }

type fakeTx struct {
	access.Tx // the rest of the port panics if called
	s         *state
	failKeys  bool
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) InsertKey(_ context.Context, k kopilka.APIKey) error {
	if t.failKeys {
		return errors.New("disk full")
	}
	t.s.keys = append(t.s.keys, k)
	return nil
}
func (t fakeTx) Keys(context.Context) ([]kopilka.APIKey, error) { return t.s.keys, nil }

func newService(failKeys bool) (*access.Service, *fakedb.DB[state, access.Tx]) {
	db := &fakedb.DB[state, access.Tx]{Clone: clone, Tx: func(s *state) access.Tx { return fakeTx{s: s, failKeys: failKeys} }}
	return &access.Service{DB: db, Env: kopilka.NewEnv()}, db
}

func as(role string) context.Context {
	ctx := kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", ID: "k", Name: "k", Role: role})
	return kopilka.NewContextWithCall(ctx, &kopilka.Call{Route: "POST /v1/keys", Status: 201,
		Request: []byte(`{"name": "till", "role": "pos", "secret": "do-not-keep"}`),
		StatusOf: func(err error) int {
			if kopilka.ErrorCode(err) == kopilka.EFORBIDDEN {
				return 403
			}
			return 500
		}})
}

func TestCreateKey_TheEntryIsInTheKeysTransactionWithoutTheSecret(t *testing.T) {
	svc, db := newService(false)
	k, err := svc.CreateKey(as(kopilka.RoleAdmin), kopilka.APIKey{Name: "till", Role: kopilka.RolePOS}, "")
	if err != nil || !strings.HasPrefix(k.Secret, kopilka.KeyPrefix) {
		t.Fatal(k, err)
	}
	if len(db.State.keys) != 1 || len(db.State.audit) != 1 || db.Updates != 1 {
		t.Fatalf("%d keys, %d entries, %d transactions", len(db.State.keys), len(db.State.audit), db.Updates)
	}
	e := db.State.audit[0]
	for _, part := range [][]byte{e.Request, e.After} {
		if strings.Contains(string(part), k.Secret) || strings.Contains(string(part), "do-not-keep") || !strings.Contains(string(part), "(removed)") {
			t.Fatalf("the entry keeps a secret: %s", part)
		}
	}
	if e.Status != 201 || e.Action != "POST /v1/keys" || e.Target != k.ID {
		t.Fatalf("entry %+v", e)
	}
}

func TestCreateKey_AFailedWriteLeavesOnlyTheRecordOfItsFailure(t *testing.T) {
	svc, db := newService(true)
	if _, err := svc.CreateKey(as(kopilka.RoleAdmin), kopilka.APIKey{Name: "till", Role: kopilka.RolePOS}, ""); err == nil {
		t.Fatal("the failing write succeeded")
	}
	if len(db.State.keys) != 0 || len(db.State.audit) != 1 || db.State.audit[0].Status != 500 {
		t.Fatalf("%d keys and entries %+v", len(db.State.keys), db.State.audit)
	}
}

func TestAllow_EveryActionHasARuleAndTheRolesAreKnown(t *testing.T) {
	known := append(slices.Clone(kopilka.KeyRoles), kopilka.RoleMember)
	for act, rule := range access.Policy {
		if rule.What == "" {
			t.Errorf("%s: no words for a refusal", act)
		}
		for _, r := range rule.Roles {
			if !slices.Contains(known, r) {
				t.Errorf("%s: unknown role %q", act, r)
			}
		}
	}
	if err := access.Allow(as(kopilka.RoleAdmin), "made.up"); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("an action outside the policy: %v", err)
	}
	if err := access.Allow(context.Background(), access.KeysList); kopilka.ErrorCode(err) != kopilka.EUNAUTHORIZED {
		t.Fatalf("nobody listed keys: %v", err)
	}
	if err := access.Allow(context.Background(), access.AuthLogin); err != nil {
		t.Fatalf("a public action: %v", err)
	}
	if err := access.Allow(kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("cli")), access.JobsRun); err != nil {
		t.Fatalf("the command line may run the jobs: %v", err)
	}
}

func TestReaches_APrincipalOfOnePartnerSeesOnlyItsOwn(t *testing.T) {
	at := func(partner string, stores ...string) context.Context {
		return kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", Role: kopilka.RolePOS, PartnerID: partner, StoreIDs: stores})
	}
	for _, c := range []struct {
		ctx            context.Context
		partner, store string
		want           bool
	}{
		{context.Background(), "a", "a1", true},
		{at("a"), "a", "a1", true},
		{at("a"), "b", "b1", false},
		{at("a", "a1"), "a", "a1", true},
		{at("a", "a1"), "a", "a2", false},
		{at("a", "a1"), "a", "", true},
	} {
		if got := access.Reaches(c.ctx, c.partner, c.store); got != c.want {
			t.Errorf("Reaches(%+v, %s, %s) = %v", kopilka.PrincipalFrom(c.ctx), c.partner, c.store, got)
		}
	}
}
