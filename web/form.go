package web

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
)

// Reading the values of the pages' forms.

// commaList is a comma-separated field as its trimmed, non-empty items
// (nil for none).
func commaList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// decimal is a number as a person types it, trimmed, a decimal comma read
// as a point ("2,5" is 2.5).
func decimal(v string) string { return strings.TrimSpace(strings.Replace(v, ",", ".", 1)) }

// storePlace reads a store form's lat and lon (in degrees; an empty one is
// left nil), naming the field that is not a number.
func storePlace(f url.Values, st *kopilka.Store) error {
	for _, c := range []struct {
		name string
		dst  **float64
	}{{"lat", &st.Lat}, {"lon", &st.Lon}} {
		v := decimal(f.Get(c.name))
		if v == "" {
			continue
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return kopilka.Invalid(c.name, "must be a number of degrees, such as 55.7558")
		}
		*c.dst = &x
	}
	return nil
}

// pageToken writes where a page of a list ended, for the next page's
// address ("before"); pageCursor reads it back (nil for none), naming the
// parameter when it is not one this site gave.
func pageToken(c *kopilka.Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func pageCursor(v string) (*kopilka.Cursor, error) {
	if v == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	var c kopilka.Cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" {
		return nil, kopilka.Invalid("before", "is not a page this site gave")
	}
	return &c, nil
}
