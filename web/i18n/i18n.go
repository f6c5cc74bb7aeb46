// Package i18n speaks to the people who use Kopilka's pages in Russian or
// English: the plural forms of nouns after a number (1 балл, 2 балла, 5
// баллов), money in roubles with each language's separators, and dates and
// times in the programme's time zone. The pages (issue 13) draw on it; it
// holds no page and no HTTP.
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lang is a language the pages speak.
type Lang string

// The languages.
const (
	RU Lang = "ru"
	EN Lang = "en"
)

// Parse reads a language tag ("ru", "ru-RU", "en-GB", an Accept-Language
// header's first choice): Russian or English, English when it is neither.
func Parse(tag string) Lang {
	tag = strings.ToLower(strings.TrimSpace(tag))
	for _, part := range strings.Split(tag, ",") {
		part, _, _ = strings.Cut(strings.TrimSpace(part), ";")
		switch {
		case strings.HasPrefix(part, "ru"):
			return RU
		case strings.HasPrefix(part, "en"):
			return EN
		}
	}
	return EN
}

// Forms are a noun's forms after a number. English uses One and Other;
// Russian One (1, 21, 101 …), Few (2–4, 22–24 …) and Many (5–20, 25–30,
// 11–14 …). Fractions take Other in English and Few in Russian ("1,5
// балла"): callers pass whole numbers of points.
type Forms struct {
	One, Few, Many, Other string
}

// Plural picks the form of a noun after n, by the CLDR plural rules of the
// language (https://cldr.unicode.org/index/cldr-spec/plural-rules): in
// Russian "one" when n mod 10 = 1 and n mod 100 ≠ 11, "few" when n mod 10
// is 2 to 4 and n mod 100 is not 12 to 14, else "many".
func Plural(l Lang, n int64, f Forms) string {
	if n < 0 {
		n = -n
	}
	if l != RU {
		if n == 1 {
			return f.One
		}
		return f.Other
	}
	switch d, h := n%10, n%100; {
	case d == 1 && h != 11:
		return f.One
	case d >= 2 && d <= 4 && (h < 12 || h > 14):
		return f.Few
	default:
		return f.Many
	}
}

// Points says a number of points with its noun: "1 балл", "2 балла",
// "5 баллов", "11 баллов", "21 балл", "1 point", "2 points" (the number
// grouped as Number does).
func Points(l Lang, n int64) string {
	if l == RU {
		return Number(l, n) + "\u00a0" + Plural(l, n, Forms{One: "балл", Few: "балла", Many: "баллов"})
	}
	return Number(l, n) + " " + Plural(l, n, Forms{One: "point", Other: "points"})
}

// Number writes a whole number with the language's group separator: a
// narrow no-break space in Russian (1 234 567), a comma in English
// (1,234,567).
func Number(l Lang, n int64) string {
	sep := ","
	if l == RU {
		sep = "\u202f"
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// Money writes an amount in kopecks (minor units) as roubles: "1 234,50 ₽"
// in Russian, "₽1,234.50" in English; whole roubles keep their kopecks
// ("12,00 ₽"), so that columns of amounts line up.
func Money(l Lang, kopecks int64) string {
	neg := kopecks < 0
	if neg {
		kopecks = -kopecks
	}
	whole, frac := Number(l, kopecks/100), fmt.Sprintf("%02d", kopecks%100)
	sign := ""
	if neg {
		sign = "−"
	}
	if l == RU {
		return sign + whole + "," + frac + "\u00a0₽"
	}
	return sign + "₽" + whole + "." + frac
}

var monthsRU = [...]string{"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"}

// Date writes a day in loc: "29 ноября 2026" or "29 November 2026".
func Date(l Lang, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	if l == RU {
		return fmt.Sprintf("%d %s %d", t.Day(), monthsRU[t.Month()-1], t.Year())
	}
	return t.Format("2 January 2006")
}

// DateTime writes a moment in loc, to the minute: "29 ноября 2026, 14:05"
// or "29 November 2026, 14:05".
func DateTime(l Lang, t time.Time, loc *time.Location) string {
	return Date(l, t, loc) + ", " + t.In(loc).Format("15:04")
}
