// Package access decides who may act: API keys, operator accounts and
// their sessions, members' sign-in by one-time code, and the append-only
// audit log of what each of them did.
package access

import "github.com/kopilka/kopilka"

// Service runs the access use cases over the database.
type Service struct {
	DB  kopilka.Transactor[Tx]
	Env *kopilka.Env
	// Region reads national phone numbers ("RU": 8 916 … is +7 916 …).
	Region string
	// Sender delivers members' one-time login codes.
	Sender Sender
}
