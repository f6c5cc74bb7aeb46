// Package kopilka is the vocabulary of a loyalty programme: members and
// their cards, receipts and quotes, the programme with its rules, tiers and
// campaigns, ledger transactions and lots, partners and their stores, keys,
// operators and the audit log; the one Error type with its codes; and the
// fixed-point Quantity and Percent with checked arithmetic.
//
// It runs no use case and imports neither HTTP nor a database driver. The
// behaviour lives in packages named for the domain: pricing (where a receipt
// is priced), ledger (where points are posted), purchases (the till's flow),
// programme, members, coalition, access and jobs. Each declares the narrow
// storage port it needs (its Tx) and reaches the database through a
// Transactor; storage implements them all, app wires them together,
// and http and cmd/kopilka are the edges. docs/architecture.md has the map.
package kopilka
