package notify_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	"github.com/kopilka/kopilka/notify"
	"github.com/kopilka/kopilka/storage"
	"github.com/kopilka/kopilka/storage/storagetest"
)

// gateway is a sender that keeps what it was given and, when gate is set,
// waits for it before answering, as a slow SMS gateway does.
type gateway struct {
	mu     sync.Mutex
	sent   []string // "channel to text"
	calls  atomic.Int32
	gate   chan struct{}
	called chan struct{}
	fail   bool
}

func (g *gateway) Send(ctx context.Context, channel, to, text string) error {
	g.calls.Add(1)
	if g.called != nil {
		select {
		case g.called <- struct{}{}:
		default:
		}
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if g.fail {
		return errors.New("gateway down")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, channel+" "+to+" "+text)
	return nil
}

func (g *gateway) messages() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.sent...)
}

var codeIn = regexp.MustCompile(`\b[0-9]{6}\b`)

func setup(t *testing.T, d string) (*app.App, *storage.DB, context.Context) {
	t.Helper()
	db := storagetest.Open(t, d)
	a := app.New(db)
	a.Access.CodesPerSource, a.Access.CodesPerSecond = 1e6, 1e6 // many codes at once is the point here
	ctx := kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("test"))
	if _, err := a.Members.CreateMember(ctx, kopilka.Member{Phone: "+79161110000", Name: "Ivan"}); err != nil {
		t.Fatal(err)
	}
	return a, db, ctx
}

func outboxRows(t *testing.T, db *storage.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The answer to a code request never waits for the gateway: with a gateway
// that has not answered at all, the request is already answered, and the
// code goes out from the outbox after it (issue 11, item 10).
func TestSendCode_TheAnswerNeverWaitsForTheGateway(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a, _, ctx := setup(t, d)
			g := &gateway{gate: make(chan struct{}), called: make(chan struct{}, 1)}
			a.SetSender(g)
			run, stop := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { a.Notify.Run(run, time.Hour); close(done) }()
			defer func() { stop(); <-done }()
			answered := make(chan error, 1)
			go func() { answered <- a.Access.SendCode(ctx, "+79161110000", "") }()
			select {
			case err := <-answered:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				close(g.gate)
				t.Fatal("the code request waited for the gateway")
			}
			select {
			case <-g.called: // the dispatcher, woken by the commit, is at the gateway now
			case <-time.After(20 * time.Second):
				t.Fatal("the dispatcher did not send the code")
			}
			close(g.gate)
			deadline := time.Now().Add(20 * time.Second)
			for len(g.messages()) == 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if m := g.messages(); len(m) != 1 || !codeIn.MatchString(m[0]) {
				t.Fatalf("sent %v", m)
			}
		})
	}
}

// A code written to the outbox survives a restart: a new process over the
// same database sends it; a member's request and a stranger's write the
// same rows; the stranger's is dropped unsent; a code that expired before
// the gateway took it is dropped, not sent late.
func TestOutbox_DurableTheSameForStrangersAndNeverLate(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a, db, ctx := setup(t, d)
			a.SetSender(&gateway{}) // codes are on; no dispatcher runs
			if err := a.Access.SendCode(ctx, "+79161110000", ""); err != nil {
				t.Fatal(err)
			}
			if n := outboxRows(t, db); n != 1 {
				t.Fatalf("%d outbox rows after a member's request, want 1", n)
			}
			if err := a.Access.SendCode(ctx, "+79169990000", ""); err != nil {
				t.Fatal(err)
			}
			if n := outboxRows(t, db); n != 2 {
				t.Fatalf("%d outbox rows after a stranger's request too, want 2", n)
			}
			// "Restart": a new App over the database, with nothing in memory.
			b := app.New(db)
			g := &gateway{}
			b.SetSender(g)
			if n, err := b.Notify.Flush(ctx); n != 1 || err != nil {
				t.Fatalf("flush after the restart sent %d, %v; want the member's code", n, err)
			}
			if m := g.messages(); len(m) != 1 || !regexp.MustCompile(`^sms \+79161110000 .*\b[0-9]{6}\b`).MatchString(m[0]) {
				t.Fatalf("sent %v", m)
			}
			code := codeIn.FindString(g.messages()[0])
			if _, err := b.Access.VerifyCode(ctx, "+79161110000", "", code); err != nil {
				t.Fatalf("the code sent after the restart: %v", err)
			}
			if n := outboxRows(t, db); n != 0 {
				t.Fatalf("%d outbox rows left after sending, want 0", n)
			}
			// A code whose gateway stays down until it expires is never sent.
			now := time.Now().Add(time.Hour)
			b.Env.SetNow(func() time.Time { return now })
			down := &gateway{fail: true}
			b.SetSender(down)
			if err := b.Access.SendCode(ctx, "+79161110000", ""); err != nil {
				t.Fatal(err)
			}
			if n, _ := b.Notify.Flush(ctx); n != 0 || down.calls.Load() != 1 {
				t.Fatalf("a down gateway: sent %d after %d calls", n, down.calls.Load())
			}
			now = now.Add(6 * time.Minute)
			b.SetSender(g)
			if n, err := b.Notify.Flush(ctx); n != 0 || err != nil || len(g.messages()) != 1 {
				t.Fatalf("an expired code was sent late: %d %v %v", n, err, g.messages())
			}
			if n := outboxRows(t, db); n != 0 {
				t.Fatalf("%d outbox rows left after the expired code was dropped", n)
			}
		})
	}
}

// Two instances flushing one outbox at once send each message once.
func TestOutbox_TwoDispatchersSendEachMessageOnce(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			a, db, ctx := setup(t, d)
			a.SetSender(&gateway{})
			for i := range 40 {
				phone := fmt.Sprintf("+79162220%03d", i)
				if _, err := a.Members.CreateMember(ctx, kopilka.Member{Phone: phone}); err != nil {
					t.Fatal(err)
				}
				if err := a.Access.SendCode(ctx, phone, ""); err != nil {
					t.Fatal(err)
				}
			}
			g := &gateway{}
			one, two := app.New(db), app.New(db)
			one.SetSender(g)
			two.SetSender(g)
			var wg sync.WaitGroup
			var total atomic.Int32
			for _, x := range []*app.App{one, two} {
				wg.Go(func() {
					n, err := x.Notify.Flush(ctx)
					if err != nil {
						t.Error(err)
					}
					total.Add(int32(n))
				})
			}
			wg.Wait()
			if total.Load() != 40 || len(g.messages()) != 40 || g.calls.Load() != 40 {
				t.Fatalf("two dispatchers sent %d (%d messages, %d calls), want each of 40 once", total.Load(), len(g.messages()), g.calls.Load())
			}
		})
	}
}

// Without a sender, messages wait, and those no longer worth sending go,
// so that the outbox does not only grow (a hostile review found card
// notices kept forever on a server with no sender); the webhook's errors
// never name its path or query, which may hold a token.
func TestOutbox_WithoutASenderLateMessagesGo(t *testing.T) {
	a, db, ctx := setup(t, "sqlite")
	m, err := a.Members.FindMember(ctx, "phone", "+79161110000")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Members.ReplaceCard(ctx, m.Cards[0].Number, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Notify.Flush(ctx); n != 0 || err != nil || outboxRows(t, db) != 1 {
		t.Fatalf("no sender: sent %d (%v), %d rows; want the notice kept", n, err, outboxRows(t, db))
	}
	later := time.Now().Add(8 * 24 * time.Hour)
	a.Env.SetNow(func() time.Time { return later })
	if _, err := a.Notify.Flush(ctx); err != nil || outboxRows(t, db) != 0 {
		t.Fatalf("a week later with no sender: %v, %d rows left", err, outboxRows(t, db))
	}
	err = notify.Webhook{URL: "http://127.0.0.1:1/hook?token=s3cret"}.Send(ctx, "sms", "+7", "x")
	if err == nil || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "/hook") {
		t.Fatalf("the webhook's error: %v", err)
	}
}
