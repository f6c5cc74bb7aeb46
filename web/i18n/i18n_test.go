package i18n_test

import (
	"testing"
	"time"

	"github.com/kopilka/kopilka/web/i18n"
)

func TestPoints_RussianPluralsAndEnglish(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 баллов", 1: "1 балл", 2: "2 балла", 4: "4 балла", 5: "5 баллов", 11: "11 баллов", 12: "12 баллов",
		14: "14 баллов", 21: "21 балл", 22: "22 балла", 25: "25 баллов", 101: "101 балл", 111: "111 баллов",
		112: "112 баллов", 1001: "1\u202f001 балл", 1234: "1\u202f234 балла", -1: "−1 балл",
	} {
		want = replaceSpace(want)
		if got := i18n.Points(i18n.RU, n); got != want {
			t.Errorf("Points(ru, %d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0 points", 1: "1 point", 2: "2 points", 1234567: "1,234,567 points"} {
		if got := i18n.Points(i18n.EN, n); got != want {
			t.Errorf("Points(en, %d) = %q, want %q", n, got, want)
		}
	}
}

// replaceSpace puts the no-break space Points writes between a number and
// its Russian noun.
func replaceSpace(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ' ' {
			return s[:i] + "\u00a0" + s[i+1:]
		}
	}
	return s
}

func TestMoneyAndDates(t *testing.T) {
	for _, c := range []struct {
		l       i18n.Lang
		kopecks int64
		want    string
	}{
		{i18n.RU, 123450, "1\u202f234,50\u00a0₽"},
		{i18n.RU, 1200, "12,00\u00a0₽"},
		{i18n.RU, 5, "0,05\u00a0₽"},
		{i18n.RU, -99999, "−999,99\u00a0₽"},
		{i18n.EN, 123450, "₽1,234.50"},
		{i18n.EN, 100000000, "₽1,000,000.00"},
	} {
		if got := i18n.Money(c.l, c.kopecks); got != c.want {
			t.Errorf("Money(%s, %d) = %q, want %q", c.l, c.kopecks, got, c.want)
		}
	}
	moscow, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		t.Skip("no time zone data")
	}
	at := time.Date(2026, 11, 29, 21, 5, 0, 0, time.UTC) // 00:05 on 30 November in Moscow
	if got := i18n.DateTime(i18n.RU, at, moscow); got != "30 ноября 2026, 00:05" {
		t.Errorf("DateTime(ru) = %q", got)
	}
	if got := i18n.Date(i18n.EN, at, time.UTC); got != "29 November 2026" {
		t.Errorf("Date(en) = %q", got)
	}
	for tag, want := range map[string]i18n.Lang{"ru-RU,ru;q=0.9,en;q=0.8": i18n.RU, "en-GB": i18n.EN, "de": i18n.EN, "": i18n.EN, "RU": i18n.RU} {
		if got := i18n.Parse(tag); got != want {
			t.Errorf("Parse(%q) = %s, want %s", tag, got, want)
		}
	}
}
