package access

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/internal/fakedb"
)

// A sign-in's password is hashed outside any transaction (no till waits
// behind it), and at most HashSlots at once; more sign-ins at once are
// refused at once.
type loginTx struct {
	Tx // the rest of the port panics if called
	s  *loginState
}

type loginState struct {
	failures map[string]kopilka.LoginFailures
	audit    int
}

func (t loginTx) OperatorIDByEmail(context.Context, string) (string, error) {
	return "", kopilka.Errorf(kopilka.ENOTFOUND, "operator not found")
}
func (t loginTx) LockLoginFailures(_ context.Context, e string) (kopilka.LoginFailures, error) {
	f, ok := t.s.failures[e]
	if !ok {
		return f, kopilka.Errorf(kopilka.ENOTFOUND, "not found")
	}
	return f, nil
}
func (t loginTx) PutLoginFailures(_ context.Context, f kopilka.LoginFailures) error {
	t.s.failures[f.Email] = f
	return nil
}
func (t loginTx) InsertAudit(context.Context, ...kopilka.AuditEntry) error { t.s.audit++; return nil }

func TestLogin_PasswordsAreHashedOutsideTransactionsAndAFewAtOnce(t *testing.T) {
	var inTx atomic.Bool
	db := &fakedb.DB[loginState, Tx]{
		State: loginState{failures: map[string]kopilka.LoginFailures{}},
		Clone: func(s loginState) loginState {
			c := loginState{failures: map[string]kopilka.LoginFailures{}, audit: s.audit}
			for k, v := range s.failures {
				c.failures[k] = v
			}
			return c
		},
		Tx: func(s *loginState) Tx { return loginTx{s: s} },
	}
	var mu sync.Mutex // fakedb is not safe for concurrent use; the real one is
	locked := lockedDB{db: db, mu: &mu, inTx: &inTx}
	release := make(chan struct{})
	var hashing, most atomic.Int32
	s := &Service{DB: locked, Env: kopilka.NewEnv(), HashSlots: 2, FailedLoginRate: 1000,
		verifyFn: func(string, string) bool {
			if inTx.Load() {
				t.Error("a password was hashed inside a transaction")
			}
			n := hashing.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			hashing.Add(-1)
			return false
		}}
	var wg sync.WaitGroup
	var refused atomic.Int32
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.Login(context.Background(), "ghost"+string(rune('a'+i))+"@example.com", "guess")
			if kopilka.ErrorCode(err) == kopilka.ERATELIMIT {
				refused.Add(1)
			}
		}()
	}
	for refused.Load() < 4 {
		time.Sleep(time.Millisecond) // the four past the two slots are refused without waiting
	}
	close(release)
	wg.Wait()
	if most.Load() != 2 || refused.Load() != 4 {
		t.Fatalf("%d hashed at once at most, %d refused; want 2 and 4", most.Load(), refused.Load())
	}
}

// lockedDB runs the fake's transactions one at a time and marks when one runs.
type lockedDB struct {
	db   *fakedb.DB[loginState, Tx]
	mu   *sync.Mutex
	inTx *atomic.Bool
}

func (l lockedDB) Update(ctx context.Context, fn func(Tx) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inTx.Store(true)
	defer l.inTx.Store(false)
	return l.db.Update(ctx, fn)
}

func (l lockedDB) View(ctx context.Context, fn func(Tx) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.db.View(ctx, fn) // a read, not a write transaction: hashing after it is fine
}
