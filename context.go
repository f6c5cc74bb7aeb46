package kopilka

import (
	"context"
	"encoding/json"
)

// Who acts and on whose behalf travels in the context: the edge that
// authenticates a caller (the HTTP server, the command line, a job) puts
// its Principal there, and every use case reads it to ask the policy and
// to name the actor in the audit log.

type principalKey struct{}
type callKey struct{}

// NewContextWithPrincipal returns ctx carrying p.
func NewContextWithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal ctx carries (zero: nobody, a caller
// of a public route).
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

// KindSystem is the principal kind of the command line and background jobs.
const KindSystem = "system"

// System is the principal of the command line or a background job named
// name: it may do what an admin may.
func System(name string) Principal {
	return Principal{Kind: KindSystem, ID: name, Name: name, Role: RoleAdmin}
}

// Call describes the request a use case runs for, so that its audit entry
// can say where it came from. The HTTP server sets it; a caller without one
// (the command line) is recorded by its principal and action alone.
type Call struct {
	// Route is the route's method and pattern ("POST /v1/cards/{number}/block"),
	// Path the path asked.
	Route, Path string
	RequestID   string
	Source      string // the client's address
	// Request is the body sent, as received (secrets are removed when it is recorded).
	Request json.RawMessage
	// Status is the status the route answers on success; StatusOf gives
	// the status an error is answered with.
	Status   int
	StatusOf func(error) int
}

// NewContextWithCall returns ctx carrying c.
func NewContextWithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the call ctx carries, or nil.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}
