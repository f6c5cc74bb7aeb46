package main

import (
	"context"
	"errors"
)

// bench is filled in by the load generator.
func bench(ctx context.Context, args []string) error { return errors.New("bench: not built yet") }
