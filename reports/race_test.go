//go:build race

package reports_test

// raceOn: the race detector slows the whole-file imports tenfold; they
// run without it.
const raceOn = true
