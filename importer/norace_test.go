//go:build !race

package importer_test

const raceOn = false
