//go:build !race

package reports_test

const raceOn = false
