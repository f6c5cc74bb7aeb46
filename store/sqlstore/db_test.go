package sqlstore

import "testing"

func TestShift_RenumbersEveryPlaceholder(t *testing.T) {
	for _, c := range []struct {
		in     string
		offset int
		want   string
	}{
		{"VALUES ($1, $2), ($3, $10)", 4, "VALUES ($5, $6), ($7, $14)"},
		{"WHERE a = $1 AND b = $1", 9, "WHERE a = $10 AND b = $10"},
		{"SELECT $", 3, "SELECT $"},
		{"x = $2", 0, "x = $2"},
	} {
		if got := shift(c.in, c.offset); got != c.want {
			t.Errorf("shift(%q, %d) = %q, want %q", c.in, c.offset, got, c.want)
		}
	}
}
