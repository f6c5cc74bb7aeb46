// Package fakedb is an in-memory kopilka.Transactor for the use-case
// packages' tests, which run against a fake of their narrow port instead
// of a database.
package fakedb

import "context"

// DB keeps a state S that each use-case package's fake transaction T reads
// and writes. Update runs fn on a copy of the state and keeps the copy only
// when fn succeeds, as a database keeps a committed transaction and
// forgets a rolled-back one; View runs fn on a copy it throws away.
type DB[S, T any] struct {
	State S
	// Clone copies a state deeply enough that writes to the copy leave
	// the original alone.
	Clone func(S) S
	// Tx is the fake transaction over a state.
	Tx func(*S) T
	// Updates and Views count the transactions run.
	Updates, Views int
}

// Update runs fn in a transaction of its own.
func (d *DB[S, T]) Update(ctx context.Context, fn func(T) error) error {
	d.Updates++
	s := d.Clone(d.State)
	if err := fn(d.Tx(&s)); err != nil {
		return err
	}
	d.State = s
	return nil
}

// View runs fn over a copy of the state.
func (d *DB[S, T]) View(ctx context.Context, fn func(T) error) error {
	d.Views++
	s := d.Clone(d.State)
	return fn(d.Tx(&s))
}
