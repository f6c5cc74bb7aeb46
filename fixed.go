package kopilka

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Quantity is a decimal quantity in thousandths of a unit ("0.455" kg is 455).
// On the wire it is a decimal string; it is never a float.
type Quantity int64

// QuantityScale is how many Quantity units make one whole unit.
const QuantityScale = 1000

// Percent is a percentage in hundredths of a percent ("1.5" is 150).
type Percent int64

// PercentScale is how many Percent units make one percent.
const PercentScale = 100

// parseFixed parses a non-negative decimal string with at most digits
// fractional digits into an integer scaled by 10^digits.
func parseFixed(s string, digits int) (int64, error) {
	if s == "" {
		return 0, errors.New("is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") {
		return 0, errors.New("must be a decimal number such as \"2\" or \"0.455\"")
	}
	if len(frac) > digits {
		return 0, errors.New("has more than " + strconv.Itoa(digits) + " decimal places")
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, errors.New("must be a non-negative decimal number such as \"2\" or \"0.455\"")
			}
		}
	}
	if len(whole) > 12 {
		return 0, errors.New("is too large")
	}
	frac += strings.Repeat("0", digits-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, errors.New("is too large")
	}
	return n, nil
}

func formatFixed(n int64, digits int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	if len(s) <= digits {
		s = strings.Repeat("0", digits-len(s)+1) + s
	}
	whole, frac := s[:len(s)-digits], strings.TrimRight(s[len(s)-digits:], "0")
	if neg {
		whole = "-" + whole
	}
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}

// unmarshalFixed accepts a JSON string or a JSON number literal; the
// literal's text is parsed exactly, never through a float.
func unmarshalFixed(data []byte, digits int) (int64, error) {
	data = bytes.TrimSpace(data)
	var s string
	if len(data) > 0 && data[0] == '"' {
		if err := json.Unmarshal(data, &s); err != nil {
			return 0, err
		}
	} else {
		s = string(data)
	}
	return parseFixed(s, digits)
}

// DecimalError is a decimal field (Quantity, Percent) that does not read:
// what its UnmarshalJSON returns, so that a decoder can find the field and
// name it.
type DecimalError struct{ Detail string }

func (e *DecimalError) Error() string { return e.Detail }

// ParseQuantity parses "2" or "0.455".
func ParseQuantity(s string) (Quantity, error) {
	n, err := parseFixed(s, 3)
	return Quantity(n), err
}

func (q Quantity) String() string { return formatFixed(int64(q), 3) }

func (q Quantity) MarshalJSON() ([]byte, error) { return json.Marshal(q.String()) }

func (q *Quantity) UnmarshalJSON(data []byte) error {
	n, err := unmarshalFixed(data, 3)
	*q = Quantity(n)
	if err != nil {
		return &DecimalError{err.Error()}
	}
	return nil
}

// ParsePercent parses "5" or "1.25".
func ParsePercent(s string) (Percent, error) {
	n, err := parseFixed(s, 2)
	return Percent(n), err
}

func (p Percent) String() string { return formatFixed(int64(p), 2) }

func (p Percent) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

func (p *Percent) UnmarshalJSON(data []byte) error {
	n, err := unmarshalFixed(data, 2)
	*p = Percent(n)
	if err != nil {
		return &DecimalError{err.Error()}
	}
	return nil
}

// MulDiv returns a*b/c and the remainder, for non-negative a, b and positive
// c, computed in 128 bits so that no product overflows. ok is false when the
// quotient does not fit in an int64.
func MulDiv(a, b, c int64) (q, r int64, ok bool) {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, 0, false
	}
	uq, ur := bits.Div64(hi, lo, uint64(c))
	if uq > 1<<63-1 {
		return 0, 0, false
	}
	return int64(uq), int64(ur), true
}

// Add returns a+b and whether it fits in an int64. Points and money are
// added with it wherever the addends are not bounded by a cap already.
func Add(a, b int64) (int64, bool) {
	c := a + b
	return c, (c > a) == (b > 0)
}

// Mul returns a·b and whether it fits in an int64.
func Mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	return c, c/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}

// Rounding says how a fractional number of points becomes whole.
type Rounding string

// Rounding rules.
const (
	RoundDown   Rounding = "down"
	RoundHalfUp Rounding = "half_up"
	RoundUp     Rounding = "up"
)

// Valid reports whether r is a known rule.
func (r Rounding) Valid() bool { return r == RoundDown || r == RoundHalfUp || r == RoundUp }

// Div returns a*b/c rounded by r (a, b >= 0, c > 0).
func (r Rounding) Div(a, b, c int64) (int64, bool) {
	q, rem, ok := MulDiv(a, b, c)
	if !ok {
		return 0, false
	}
	switch {
	case rem == 0:
	case r == RoundUp:
		q++
	case r == RoundHalfUp && rem >= c-rem:
		q++
	}
	return q, true
}

// Allocate splits total over the weights in proportion (largest remainder,
// ties to the earlier index), never giving index i more than caps[i] (a nil
// caps means no caps). The parts sum to total provided total <= sum(caps).
func Allocate(total int64, weights, caps []int64) []int64 {
	parts := make([]int64, len(weights))
	capOf := func(i int) int64 {
		if caps == nil {
			return 1<<63 - 1
		}
		return caps[i]
	}
	open := make([]bool, len(weights))
	for i := range weights {
		open[i] = weights[i] > 0 && capOf(i) > 0
	}
	left := total
	for left > 0 {
		var sum int64
		for i, w := range weights {
			if open[i] {
				sum += w
			}
		}
		if sum == 0 {
			break
		}
		shares := make([]int64, len(weights))
		rems := make([]int64, len(weights))
		var given int64
		capped := false
		for i, w := range weights {
			if !open[i] {
				continue
			}
			q, r, _ := MulDiv(left, w, sum)
			shares[i], rems[i] = q, r
			if room := capOf(i) - parts[i]; q >= room {
				// This index is full: give it its room and share the rest anew.
				parts[i] += room
				open[i] = false
				left -= room
				capped = true
			}
		}
		if capped {
			continue
		}
		for i := range shares {
			parts[i] += shares[i]
			given += shares[i]
		}
		left -= given
		// Hand out the remainder one by one, largest remainders first.
		for left > 0 {
			best := -1
			for i := range rems {
				if open[i] && capOf(i) > parts[i] && (best < 0 || rems[i] > rems[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			parts[best]++
			rems[best] = -1
			left--
		}
		if left > 0 {
			// Every index with a remainder is full; loop to spread over the rest.
			for i := range open {
				if open[i] && capOf(i) <= parts[i] {
					open[i] = false
				}
			}
			continue
		}
	}
	return parts
}
