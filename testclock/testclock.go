// Package testclock lets an operator rehearse time on a server started for
// it: the programme's clock stands still at a stored time, and an admin
// sets it or moves it forward through the API, so that a year of expiries,
// birthday bonuses, tier reviews and settlements can be tried on a copy of
// the programme in minutes. Every instance (and `jobs run-once`) over the
// database follows the stored time. It is never on unless serve is started
// with it; then the start-up log and /readyz say so.
package testclock

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
)

// Tx is the storage the test clock needs.
type Tx interface {
	access.Auditor
	// TestClock returns the stored time, or ENOTFOUND while none was set.
	TestClock(ctx context.Context) (time.Time, error)
	// SetTestClock stores the time (at: when, by the real clock).
	SetTestClock(ctx context.Context, now, at time.Time) error
}

// Clock is the test clock as the API shows it.
type Clock struct {
	// Enabled: this server runs on the test clock.
	Enabled bool `json:"enabled"`
	// Now is the programme's time (the real time when not enabled).
	Now time.Time `json:"now"`
}

// Set is a request to move the clock: to a time (Now), or forward by a
// duration (Advance: Go's form, "720h", "90m"; or Days).
type Set struct {
	Now     *time.Time `json:"now,omitempty"`
	Advance string     `json:"advance,omitempty"`
	Days    int        `json:"days,omitempty"`
}

// Service is the test clock over the database. While Enabled, Start makes
// Env's clock stand at the stored time.
type Service struct {
	DB      kopilka.Transactor[Tx]
	Env     *kopilka.Env
	Enabled bool

	mu  sync.Mutex
	now time.Time // the time Env stands at
}

// ErrOff is the answer to moving a clock that is not enabled: a conflict
// with how the server was started, not a question of the caller's role.
var ErrOff = kopilka.Errorf(kopilka.ECONFLICT, "the test clock is off on this server: start serve with KOPILKA_TEST_CLOCK=1 on a copy of the programme to rehearse time")

// Start makes the Env's clock stand at the stored time, storing the real
// time first if none is stored. Nothing happens unless Enabled.
func (s *Service) Start(ctx context.Context) error {
	if !s.Enabled {
		return nil
	}
	wall := time.Now().UTC().Truncate(time.Microsecond)
	var now time.Time
	err := s.DB.Update(ctx, func(tx Tx) error {
		var err error
		now, err = tx.TestClock(ctx)
		if kopilka.ErrorCode(err) == kopilka.ENOTFOUND {
			now = wall
			return tx.SetTestClock(ctx, now, wall)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.stand(now)
	return nil
}

// Sync reads the stored time again, for instances other than the one that
// moved it; a serve calls it every second.
func (s *Service) Sync(ctx context.Context) error {
	if !s.Enabled {
		return nil
	}
	var now time.Time
	err := s.DB.View(ctx, func(tx Tx) (err error) { now, err = tx.TestClock(ctx); return err })
	if err == nil {
		s.stand(now)
	}
	return err
}

func (s *Service) stand(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.now) {
		return // time only moves forward
	}
	s.now = now
	s.Env.SetNow(func() time.Time { return now })
}

// Get returns the clock (admin only).
func (s *Service) Get(ctx context.Context) (Clock, error) {
	if err := access.Allow(ctx, access.ClockRead); err != nil {
		return Clock{}, err
	}
	return Clock{Enabled: s.Enabled, Now: s.Env.Time()}, nil
}

// Move sets the clock to a later time or moves it forward (admin only):
// exactly one of the request's fields. A time before the clock's is
// EINVALID: time only moves forward. ErrOff when not enabled.
func (s *Service) Move(ctx context.Context, in Set) (c Clock, err error) {
	a := access.Begin(ctx, s.Env, access.ClockWrite, "test-clock")
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return Clock{}, err
	}
	if !s.Enabled {
		return Clock{}, ErrOff
	}
	given := 0
	for _, b := range []bool{in.Now != nil, in.Advance != "", in.Days != 0} {
		if b {
			given++
		}
	}
	if given != 1 {
		return Clock{}, kopilka.Invalid("now", "give one of now (a time), advance (a duration such as \"720h\") or days")
	}
	wall := time.Now().UTC().Truncate(time.Microsecond)
	var next time.Time
	err = s.DB.Update(ctx, func(tx Tx) error {
		cur, err := tx.TestClock(ctx) // locked: two moves at once do not lose one
		if err != nil {
			return err
		}
		switch {
		case in.Now != nil:
			next = in.Now.UTC().Truncate(time.Microsecond)
		case in.Advance != "":
			d, err := time.ParseDuration(in.Advance)
			if err != nil || d <= 0 || d > 10*366*24*time.Hour {
				return kopilka.Invalid("advance", "must be a positive duration of at most ten years, such as \"720h\" or \"90m\"")
			}
			next = cur.Add(d)
		default:
			if in.Days < 1 || in.Days > 3660 {
				return kopilka.Invalid("days", "must be between 1 and 3660")
			}
			next = cur.AddDate(0, 0, in.Days)
		}
		if next.Before(cur) {
			return kopilka.Invalid("now", fmt.Sprintf("is before the clock's %s: time only moves forward", cur.Format(time.RFC3339)))
		}
		if next.Year() > 2999 {
			return kopilka.Invalid("now", "must be before the year 3000")
		}
		if err := tx.SetTestClock(ctx, next, wall); err != nil {
			return err
		}
		return a.Record(ctx, tx, Clock{Enabled: true, Now: cur}, Clock{Enabled: true, Now: next})
	})
	if err != nil {
		return Clock{}, err
	}
	s.stand(next)
	return Clock{Enabled: true, Now: next}, nil
}
