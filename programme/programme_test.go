package programme_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
	"github.com/kopilka/kopilka/programme"
)

// These tests run the programme's use cases against a fake of
// programme.Tx, with no database.

type state struct {
	prog  kopilka.Programme
	audit []kopilka.AuditEntry
}

func clone(s state) state {
	p := s.prog
	p.Rules = slices.Clone(p.Rules)
	return state{prog: p, audit: slices.Clone(s.audit)}
}

type fakeTx struct {
	programme.Tx // the rest of the port panics if called
	s            *state
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) Programme(context.Context) (kopilka.Programme, error) { return t.s.prog, nil }
func (t fakeTx) SetProgramme(_ context.Context, p kopilka.Programme) error {
	t.s.prog = p
	return nil
}

func newService() (*programme.Service, *fakedb.DB[state, programme.Tx]) {
	db := &fakedb.DB[state, programme.Tx]{State: state{prog: kopilka.DefaultProgramme()}, Clone: clone,
		Tx: func(s *state) programme.Tx { return fakeTx{s: s} }}
	return &programme.Service{DB: db, Env: kopilka.NewEnv(), TTL: time.Minute}, db
}

func as(role string) context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", ID: "k", Name: "k", Role: role})
}

func TestPutRule_TheRuleAndItsEntryCommitTogether(t *testing.T) {
	svc, db := newService()
	rule := kopilka.Rule{ID: "coffee", Kind: kopilka.RulePercent, Percent: 10 * kopilka.PercentScale, Categories: []string{"coffee"}}
	if _, err := svc.PutRule(as(kopilka.RoleMarketing), rule); err != nil {
		t.Fatal(err)
	}
	if len(db.State.prog.Rules) != 1 || len(db.State.audit) != 1 || db.State.audit[0].Target != "coffee" || db.Updates != 1 {
		t.Fatalf("rules %+v, audit %+v, %d transactions", db.State.prog.Rules, db.State.audit, db.Updates)
	}
	// The live engine is the new programme at once, without a read.
	views := db.Views
	e, err := svc.Engine(context.Background())
	if err != nil || len(e.Programme.Rules) != 1 || db.Views != views {
		t.Fatalf("engine after the change: %v, %d reads", err, db.Views-views)
	}
}

func TestPutRule_AConditionThatDoesNotCompileChangesNothing(t *testing.T) {
	svc, db := newService()
	bad := kopilka.Rule{ID: "bad", Kind: kopilka.RulePercent, Percent: kopilka.PercentScale, Condition: "line.categroy == 'x'"}
	if _, err := svc.PutRule(as(kopilka.RoleMarketing), bad); kopilka.ErrorCode(err) != kopilka.EINVALID {
		t.Fatalf("bad condition: %v", err)
	}
	if len(db.State.prog.Rules) != 0 || len(db.State.audit) != 1 || db.State.audit[0].Before != nil {
		t.Fatalf("after the refusal: rules %+v, audit %+v", db.State.prog.Rules, db.State.audit)
	}
}

func TestProgramme_ATillMayNotReadOrChangeIt(t *testing.T) {
	svc, db := newService()
	if _, err := svc.Programme(as(kopilka.RolePOS)); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till read the programme: %v", err)
	}
	if _, err := svc.UpdateProgramme(as(kopilka.RolePOS), func(p *kopilka.Programme) error { p.PendingDays = 1; return nil }); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till changed the programme: %v", err)
	}
	if err := svc.Check(as(kopilka.RolePOS), kopilka.DefaultProgramme()); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till checked an import: %v", err)
	}
	if db.State.prog.PendingDays == 1 || len(db.State.audit) != 1 {
		t.Fatalf("after the refusals: %+v, %d entries (only the refused write is one)", db.State.prog, len(db.State.audit))
	}
}
