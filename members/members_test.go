package members_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
	"github.com/kopilka/kopilka/ledger"
	"github.com/kopilka/kopilka/members"
	"github.com/kopilka/kopilka/pricing"
)

// These tests run the member use cases against a fake of members.Tx, with
// no database: what they check is the use case's own logic, the policy
// and the audit entry's place in the transaction.

type state struct {
	members map[string]kopilka.Member
	cards   map[string]kopilka.Card
	audit   []kopilka.AuditEntry
	posted  []*ledger.Entry
	outbox  []kopilka.Message
}

func clone(s state) state {
	return state{members: maps.Clone(s.members), cards: maps.Clone(s.cards), audit: slices.Clone(s.audit), posted: slices.Clone(s.posted),
		outbox: slices.Clone(s.outbox)}
}

// fakeTx is members.Tx over the state; failCard makes UpdateCard fail.
type fakeTx struct {
	s        *state
	failCard error
}

func notFound(what string) error { return kopilka.Errorf(kopilka.ENOTFOUND, "%s not found", what) }

func (t fakeTx) SearchMembers(context.Context, kopilka.MemberQuery) ([]kopilka.Member, []string, error) {
	return nil, nil, nil
}

func (t fakeTx) InsertMessage(_ context.Context, m kopilka.Message) error {
	t.s.outbox = append(t.s.outbox, m)
	return nil
}

func (t fakeTx) InsertAudit(_ context.Context, es ...kopilka.AuditEntry) error {
	t.s.audit = append(t.s.audit, es...)
	return nil
}
func (t fakeTx) LockBalance(_ context.Context, id string) (kopilka.Balance, error) {
	if _, ok := t.s.members[id]; !ok {
		return kopilka.Balance{}, notFound("member")
	}
	return kopilka.Balance{}, nil
}
func (t fakeTx) TransactionByKey(context.Context, string, string) (kopilka.Transaction, error) {
	return kopilka.Transaction{}, notFound("transaction")
}
func (t fakeTx) Post(_ context.Context, e *ledger.Entry) error {
	t.s.posted = append(t.s.posted, e)
	return nil
}
func (t fakeTx) LastPurchase(context.Context, string) (time.Time, error) { return time.Time{}, nil }
func (t fakeTx) Card(_ context.Context, n string) (kopilka.Card, error) {
	c, ok := t.s.cards[n]
	if !ok {
		return c, notFound("card")
	}
	return c, nil
}
func (t fakeTx) InsertCard(_ context.Context, c kopilka.Card) error {
	t.s.cards[c.Number] = c
	return nil
}
func (t fakeTx) InsertMember(_ context.Context, m kopilka.Member) error {
	t.s.members[m.ID] = m
	return nil
}
func (t fakeTx) Member(_ context.Context, id string) (kopilka.Member, error) {
	m, ok := t.s.members[id]
	if !ok {
		return m, notFound("member")
	}
	for _, c := range t.s.cards {
		if c.MemberID == id {
			m.Cards = append(m.Cards, c)
		}
	}
	return m, nil
}
func (t fakeTx) MemberIDBy(context.Context, string, string) (string, error) {
	return "", notFound("member")
}
func (t fakeTx) RevokeSessions(context.Context, string, time.Time) error { return nil }
func (t fakeTx) UpdateCard(_ context.Context, c kopilka.Card) error {
	if t.failCard != nil {
		return t.failCard
	}
	t.s.cards[c.Number] = c
	return nil
}
func (t fakeTx) UpdateMember(_ context.Context, m kopilka.Member) error {
	m.Cards = nil
	t.s.members[m.ID] = m
	return nil
}

type live struct{ e *pricing.Engine }

func (l live) Engine(context.Context) (*pricing.Engine, error) { return l.e, nil }

type world struct {
	db  *fakedb.DB[state, members.Tx]
	svc *members.Service
	// failCard, when set, makes every card update fail.
	failCard error
}

func newWorld(t *testing.T, p kopilka.Programme) *world {
	t.Helper()
	e, err := pricing.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{}
	w.db = &fakedb.DB[state, members.Tx]{
		State: state{members: map[string]kopilka.Member{}, cards: map[string]kopilka.Card{}},
		Clone: clone,
		Tx:    func(s *state) members.Tx { return fakeTx{s: s, failCard: w.failCard} },
	}
	env := kopilka.NewEnv()
	env.Now = func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) }
	w.svc = &members.Service{DB: w.db, Env: env, Region: "RU", Live: live{e}}
	return w
}

// as is ctx for a principal of the role, in an API call that answers
// status on success and 422 or 500 on failure.
func as(role string) context.Context {
	ctx := kopilka.NewContextWithPrincipal(context.Background(), kopilka.Principal{Kind: "key", ID: "k-" + role, Name: role, Role: role})
	return kopilka.NewContextWithCall(ctx, &kopilka.Call{Route: "POST /test", Status: 200, StatusOf: func(err error) int {
		switch kopilka.ErrorCode(err) {
		case kopilka.EFORBIDDEN:
			return 403
		case kopilka.EINTERNAL:
			return 500
		}
		return 422
	}})
}

func statuses(es []kopilka.AuditEntry) []int {
	var out []int
	for _, e := range es {
		out = append(out, e.Status)
	}
	return out
}

func TestCreateMember_TheMemberItsCardItsWelcomeBonusAndItsEntryCommitTogether(t *testing.T) {
	p := kopilka.DefaultProgramme()
	p.Bonuses.Welcome.Points = 100
	w := newWorld(t, p)
	m, err := w.svc.CreateMember(as(kopilka.RoleOperator), kopilka.Member{Phone: "8 916 123-45-67", Name: "Anna"})
	if err != nil {
		t.Fatal(err)
	}
	st := w.db.State
	if len(st.members) != 1 || len(st.cards) != 1 || len(st.posted) != 1 || st.posted[0].Tx.Available != 100 {
		t.Fatalf("state after creation: %d members, %d cards, %d entries posted", len(st.members), len(st.cards), len(st.posted))
	}
	if len(st.audit) != 1 || st.audit[0].Target != m.ID || st.audit[0].Status != 200 || st.audit[0].Before != nil || len(st.audit[0].After) == 0 {
		t.Fatalf("audit %+v", st.audit)
	}
	if w.db.Updates != 1 {
		t.Fatalf("%d transactions, want the write and its entry in one", w.db.Updates)
	}
}

func TestBlockCard_TheChangeAndItsEntryCommitTogether(t *testing.T) {
	w := newWorld(t, kopilka.DefaultProgramme())
	m, err := w.svc.CreateMember(as(kopilka.RoleAdmin), kopilka.Member{Phone: "+79160000001"})
	if err != nil {
		t.Fatal(err)
	}
	number := m.Cards[0].Number
	c, err := w.svc.BlockCard(as(kopilka.RoleSupport), number)
	if err != nil || c.Status != kopilka.StatusBlocked || w.db.State.cards[number].Status != kopilka.StatusBlocked {
		t.Fatalf("block: %+v %v", c, err)
	}
	e := w.db.State.audit[len(w.db.State.audit)-1]
	if e.Target != number || e.Role != kopilka.RoleSupport || e.Status != 200 ||
		string(e.Before) == string(e.After) || !contains(e.Before, `"status":"active"`) || !contains(e.After, `"status":"blocked"`) {
		t.Fatalf("entry %+v before %s after %s", e, e.Before, e.After)
	}
}

func TestBlockCard_AWriteThatFailsLeavesNoEntryOfItsOwn(t *testing.T) {
	w := newWorld(t, kopilka.DefaultProgramme())
	m, err := w.svc.CreateMember(as(kopilka.RoleAdmin), kopilka.Member{Phone: "+79160000002"})
	if err != nil {
		t.Fatal(err)
	}
	number := m.Cards[0].Number
	w.failCard = errors.New("disk full")
	if _, err := w.svc.BlockCard(as(kopilka.RoleSupport), number); err == nil {
		t.Fatal("the failing write succeeded")
	}
	if w.db.State.cards[number].Status != kopilka.StatusActive {
		t.Fatal("the card changed although its write failed")
	}
	// The creation's entry, and the failure's: never one of success.
	if got := statuses(w.db.State.audit); !slices.Equal(got, []int{200, 500}) {
		t.Fatalf("entries with statuses %v, want [200 500]", got)
	}
}

func TestBlockCard_ARefusedWriteIsRecordedAndChangesNothing(t *testing.T) {
	w := newWorld(t, kopilka.DefaultProgramme())
	m, err := w.svc.CreateMember(as(kopilka.RoleAdmin), kopilka.Member{Phone: "+79160000003"})
	if err != nil {
		t.Fatal(err)
	}
	number := m.Cards[0].Number
	if _, err := w.svc.BlockCard(as(kopilka.RolePOS), number); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till blocked a card: %v", err)
	}
	if _, err := w.svc.BlockCard(context.Background(), number); kopilka.ErrorCode(err) != kopilka.EUNAUTHORIZED {
		t.Fatalf("nobody blocked a card: %v", err)
	}
	if w.db.State.cards[number].Status != kopilka.StatusActive {
		t.Fatal("a refused write changed the card")
	}
	last := w.db.State.audit[len(w.db.State.audit)-2:]
	if last[0].Status != 403 || last[0].Role != kopilka.RolePOS || last[1].ActorKind != "anonymous" {
		t.Fatalf("refusals recorded as %+v", last)
	}
}

func TestMember_AReadRecordsNothingAndAsksThePolicy(t *testing.T) {
	w := newWorld(t, kopilka.DefaultProgramme())
	m, err := w.svc.CreateMember(as(kopilka.RoleAdmin), kopilka.Member{Phone: "+79160000004"})
	if err != nil {
		t.Fatal(err)
	}
	n := len(w.db.State.audit)
	if _, err := w.svc.Member(as(kopilka.RoleSupport), m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Card(as(kopilka.RolePOS), m.Cards[0].Number); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Member(as(kopilka.RolePOS), m.ID); kopilka.ErrorCode(err) != kopilka.EFORBIDDEN {
		t.Fatalf("a till read a member's profile: %v", err)
	}
	if len(w.db.State.audit) != n {
		t.Fatalf("reads wrote %d entries", len(w.db.State.audit)-n)
	}
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
