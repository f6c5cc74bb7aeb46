package reports

import (
	"fmt"
	"time"

	"github.com/kopilka/kopilka"
)

// Bucket is the length of a time series' step: "day", "week" (Monday to
// Sunday) or "month", calendar steps in the programme's time zone.
type Bucket string

// The steps of a time series.
const (
	Day   Bucket = "day"
	Week  Bucket = "week"
	Month Bucket = "month"
)

// MaxBuckets bounds a series: 400 steps (a year and more of days, 33
// years of months), so that no request asks for an unbounded answer.
const MaxBuckets = 400

// Bounds returns the starts of the steps that cover [from, to) in loc,
// and the end of the last: len(steps)+1 times, the first the start of
// from's step. A span of no step or of more than MaxBuckets is EINVALID
// naming field.
func Bounds(from, to time.Time, b Bucket, loc *time.Location, field string) ([]time.Time, error) {
	if !to.After(from) {
		return nil, kopilka.FieldErr(kopilka.EINVALID, field, "the period ends before it starts")
	}
	f := from.In(loc)
	var start time.Time
	var next func(time.Time) time.Time
	switch b {
	case Day:
		start = time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case Week:
		d := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
		start = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case Month:
		start = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, loc)
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	default:
		return nil, kopilka.FieldErr(kopilka.EINVALID, "bucket", `bucket is "day", "week" or "month"`)
	}
	out := []time.Time{start}
	for t := start; t.Before(to); {
		t = next(t)
		out = append(out, t)
		if len(out) > MaxBuckets+1 {
			return nil, kopilka.FieldErr(kopilka.EINVALID, field, fmt.Sprintf("the period holds more than %d %ss", MaxBuckets, b))
		}
	}
	return out, nil
}
