package ledger_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/pricing"
)

// These tests run the ledger's use cases against a fake of ledger.Tx, with
// no database: one member's lots and balance in memory.

type state struct {
	bal    kopilka.Balance
	lots   []kopilka.Lot
	posted []*ledger.Entry
	audit  []kopilka.AuditEntry
}

func clone(s state) state {
	return state{bal: s.bal, lots: slices.Clone(s.lots), posted: slices.Clone(s.posted), audit: slices.Clone(s.audit)}
}

type fakeTx struct {
	ledger.Tx // the rest of the port panics if called
	s         *state
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) LockBalance(_ context.Context, id string) (kopilka.Balance, error) {
	if id != "m" {
		return kopilka.Balance{}, kopilka.Errorf(kopilka.ENOTFOUND, "member not found")
	}
	return t.s.bal, nil
}
func (t fakeTx) Member(_ context.Context, id string) (kopilka.Member, error) {
	return kopilka.Member{ID: id, Status: kopilka.StatusActive}, nil
}
func (t fakeTx) TransactionByKey(context.Context, string, string) (kopilka.Transaction, error) {
	return kopilka.Transaction{}, kopilka.Errorf(kopilka.ENOTFOUND, "not found")
}
func (t fakeTx) Lots(context.Context, string, string) ([]*kopilka.Lot, error) {
	out := make([]*kopilka.Lot, len(t.s.lots))
	for i := range t.s.lots {
		l := t.s.lots[i]
		out[i] = &l
	}
	return out, nil
}

// Post applies the entry as the store does: its lots, moves and balance.
func (t fakeTx) Post(_ context.Context, e *ledger.Entry) error {
	var sum int64
	for _, p := range e.Postings {
		sum += p.Amount
	}
	if sum != 0 {
		return kopilka.Errorf(kopilka.EINTERNAL, "unbalanced entry")
	}
	t.s.lots = append(t.s.lots, e.NewLots...)
	for i := range t.s.lots {
		if l, ok := e.Lots[t.s.lots[i].ID]; ok {
			t.s.lots[i] = *l
		}
	}
	t.s.bal.Available += e.Tx.Available
	t.s.bal.Pending += e.Tx.Pending
	if t.s.bal.Available < 0 {
		return kopilka.Errorf(kopilka.EINSUFFICIENT, "overdraft")
	}
	t.s.posted = append(t.s.posted, e)
	return nil
}

type live struct{ e *pricing.Engine }

func (l live) Engine(context.Context) (*pricing.Engine, error) { return l.e, nil }

func newService(t *testing.T) (*ledger.Service, *fakedb.DB[state, ledger.Tx]) {
	t.Helper()
	p := kopilka.DefaultProgramme()
	p.ExpiryMonths = 12
	e, err := pricing.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	db := &fakedb.DB[state, ledger.Tx]{Clone: clone, Tx: func(s *state) ledger.Tx { return fakeTx{s: s} }}
	env := kopilka.NewEnv()
	env.Now = func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	return &ledger.Service{DB: db, Env: env, Live: live{e}, SupportLimit: 1000}, db
}

func as(role string) context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "operator", ID: "o", Name: "o@example.com", Role: role})
}

func TestAdjust_ACreditIsALotThatExpiresAndItsEntryIsInItsTransaction(t *testing.T) {
	svc, db := newService(t)
	tr, err := svc.Adjust(as(kopilka.RoleOperator), "m", kopilka.Adjustment{Points: 400, Reason: "goodwill"}, "")
	if err != nil || tr.Available != 400 || tr.Actor != "operator:o (o@example.com)" {
		t.Fatalf("credit: %+v %v", tr, err)
	}
	st := db.State
	if st.bal.Available != 400 || len(st.lots) != 1 || !st.lots[0].ExpiresAt.Equal(time.Date(2027, 11, 29, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the credit: %+v %+v", st.bal, st.lots)
	}
	if len(st.audit) != 1 || string(st.audit[0].Before) != `{"available":0,"pending":0}` || st.audit[0].Target != "m" || db.Updates != 1 {
		t.Fatalf("audit %+v in %d transactions", st.audit, db.Updates)
	}
}

func TestAdjust_TheSupportRoleIsLimitedAndARefusalPostsNothing(t *testing.T) {
	svc, db := newService(t)
	if _, err := svc.Adjust(as(kopilka.RoleSupport), "m", kopilka.Adjustment{Points: 1001, Reason: "too much"}, ""); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("support credited 1001: %v", err)
	}
	if _, err := svc.Adjust(as(kopilka.RoleMarketing), "m", kopilka.Adjustment{Points: 1, Reason: "x"}, ""); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("marketing adjusted: %v", err)
	}
	if _, err := svc.Adjust(as(kopilka.RoleSupport), "m", kopilka.Adjustment{Points: -5, Reason: "more than there is"}, ""); kopilka.ErrorCode(err) != kopilka.EINSUFFICIENT {
		t.Fatalf("debit of an empty balance: %v", err)
	}
	if len(db.State.posted) != 0 || db.State.bal != (kopilka.Balance{}) || len(db.State.audit) != 3 {
		t.Fatalf("after three refusals: posted %d, balance %+v, %d entries", len(db.State.posted), db.State.bal, len(db.State.audit))
	}
}

func TestSettleDue_ExpiresWhatIsDueAndSpendsTheSoonestToExpireFirst(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	s := state{bal: kopilka.Balance{Available: 30}, lots: []kopilka.Lot{
		{ID: "late", Points: 10, Remaining: 10, State: kopilka.LotActive, ExpiresAt: now.AddDate(0, 2, 0), CreatedAt: now.AddDate(0, -3, 0)},
		{ID: "gone", Points: 10, Remaining: 10, State: kopilka.LotActive, ExpiresAt: now.Add(-time.Second), CreatedAt: now.AddDate(0, -5, 0)},
		{ID: "soon", Points: 10, Remaining: 10, State: kopilka.LotActive, ExpiresAt: now.AddDate(0, 1, 0), CreatedAt: now.AddDate(0, -1, 0)},
	}}
	d, err := ledger.SettleDue(context.Background(), fakeTx{s: &s}, kopilka.NewEnv(), "m", s.bal, now, true)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Expired || d.Balance.Available != 20 || s.bal.Available != 20 || len(d.Spendable) != 2 || d.Spendable[0].ID != "soon" {
		t.Fatalf("due %+v, balance %+v", d, s.bal)
	}
}
