package programme

import (
	"context"
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/access"
	"github.com/kopilka/kopilka/pricing"
)

// Programme returns the programme settings, reused for TTL.
func (s *Service) Programme(ctx context.Context) (kopilka.Programme, error) {
	if err := access.Allow(ctx, access.ProgrammeRead); err != nil {
		return kopilka.Programme{}, err
	}
	e, err := s.Engine(ctx)
	if err != nil {
		return kopilka.Programme{}, err
	}
	return e.Programme, nil
}

// Engine returns the programme compiled for pricing, reused for TTL and
// compiled again only when the programme changed. It is what the other use
// cases read the programme through, so it asks no policy.
func (s *Service) Engine(ctx context.Context) (*pricing.Engine, error) {
	s.mu.Lock()
	e, at := s.engine, s.loadedAt
	s.mu.Unlock()
	if e != nil && time.Since(at) < s.TTL {
		return e, nil
	}
	var p kopilka.Programme
	err := s.DB.View(ctx, func(tx Tx) (err error) {
		p, err = tx.Programme(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if e == nil || !e.Programme.UpdatedAt.Equal(p.UpdatedAt) {
		if e, err = pricing.Compile(p); err != nil {
			return nil, fmt.Errorf("stored programme: %w", err)
		}
	}
	s.mu.Lock()
	s.engine, s.loadedAt = e, time.Now()
	s.mu.Unlock()
	return e, nil
}

// UpdateProgramme changes the programme settings by change, read and
// written in one transaction so that concurrent changes do not undo each other.
func (s *Service) UpdateProgramme(ctx context.Context, change func(*kopilka.Programme) error) (kopilka.Programme, error) {
	return s.update(ctx, "", change)
}

// update is UpdateProgramme of a change to target (a rule's or a
// campaign's id; "": the programme's settings).
func (s *Service) update(ctx context.Context, target string, change func(*kopilka.Programme) error) (p kopilka.Programme, err error) {
	a := access.Begin(ctx, s.Env, access.ProgrammeWrite, target)
	defer func() { err = access.Finish(ctx, s.DB, a, err) }()
	if err := a.Err(); err != nil {
		return p, err
	}
	var e *pricing.Engine
	err = s.DB.Update(ctx, func(tx Tx) (err error) {
		if p, err = tx.Programme(ctx); err != nil {
			return err
		}
		before := p
		if err := change(&p); err != nil {
			return err
		}
		p.UpdatedAt = s.Env.Time()
		if e, err = pricing.Compile(p); err != nil {
			return err
		}
		if err := tx.SetProgramme(ctx, p); err != nil {
			return err
		}
		return a.Record(ctx, tx, before, p)
	})
	if err != nil {
		return kopilka.Programme{}, err
	}
	s.mu.Lock()
	s.engine, s.loadedAt = e, time.Now()
	s.mu.Unlock()
	return p, nil
}

// Check validates a programme as SetProgramme would, for a principal who
// may change it, and stores nothing (a dry run of an import).
func (s *Service) Check(ctx context.Context, p kopilka.Programme) error {
	if err := access.Allow(ctx, access.ProgrammeWrite); err != nil {
		return err
	}
	return pricing.Validate(p)
}

// SetProgramme validates and stores new programme settings in full.
func (s *Service) SetProgramme(ctx context.Context, p kopilka.Programme) (kopilka.Programme, error) {
	return s.UpdateProgramme(ctx, func(cur *kopilka.Programme) error { *cur = p; return nil })
}
