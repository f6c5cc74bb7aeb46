// Package pricing is where a receipt is priced: the programme compiled into
// an Engine (rules in evaluation order, CEL conditions type-checked and
// compiled once, times read in the programme's zone), which quotes what
// each line earns and what points may pay, and the tier arithmetic of
// qualifying windows, upgrades and reviews. It changes nothing itself: caps
// and budgets are asked of a Limits the caller supplies.
package pricing
