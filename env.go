package kopilka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"time"
)

// Env is the clock and the randomness every use case draws on, injected so
// that tests can run a year of expiries in a millisecond and replay a seed.
// One Env is shared by all the services of an application.
type Env struct {
	// Now is the clock; tests set it to move through days and months.
	// Set it before the services run; SetNow changes it while they do.
	Now func() time.Time
	// Random supplies identifiers and card numbers; tests may make it repeatable.
	Random io.Reader

	mu sync.RWMutex // guards Now against SetNow
}

// SetNow replaces the clock while the services run (a test moving time
// under a server whose background work reads the clock).
func (e *Env) SetNow(now func() time.Time) {
	e.mu.Lock()
	e.Now = now
	e.mu.Unlock()
}

// NewEnv returns the real clock and the system's randomness.
func NewEnv() *Env { return &Env{Now: time.Now, Random: rand.Reader} }

// Time is the clock's time in UTC, cut to microseconds (what both
// databases store), so that every row a transaction writes agrees.
func (e *Env) Time() time.Time {
	e.mu.RLock()
	now := e.Now
	e.mu.RUnlock()
	return now().UTC().Truncate(time.Microsecond)
}

// NewID returns a random 128-bit identifier in UUID (version 4) form.
// Random keys spread writes over a distributed database's ranges.
func (e *Env) NewID() string {
	var b [16]byte
	if _, err := io.ReadFull(e.Random, b[:]); err != nil {
		panic(fmt.Sprintf("kopilka: randomness failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// Transactor runs functions against the database: Update in one
// read-write transaction (run again on a serialization failure or a
// deadlock, so fn must have no effect outside it), View outside a
// transaction, for reads. T is the narrow port through which fn sees the
// tables: each use-case package declares its own. Implemented by
// storage.For.
type Transactor[T any] interface {
	Update(ctx context.Context, fn func(T) error) error
	View(ctx context.Context, fn func(T) error) error
}
