package web

import (
	"time"

	"github.com/kopilka/kopilka"

	"github.com/kopilka/kopilka/web/i18n"
)

// What templates call on the request to speak the person's language.

// T is text in the person's language: the English text itself, or its
// Russian from the catalogue (messages.go); a test checks that every text
// a template asks for has its Russian.
func (q *request) T(en string) string {
	if q.lang == i18n.RU {
		if ru, ok := russian[en]; ok {
			return ru
		}
	}
	return en
}

// Signed reports whether somebody is signed in.
func (q *request) Signed() bool { return q.session != "" }

// Who is the signed-in person.
func (q *request) Who() kopilka.Principal { return q.who }

// CSRF is the token the page's forms carry.
func (q *request) CSRF() string { return q.csrf }

// Lang is the page's language tag.
func (q *request) Lang() string { return string(q.lang) }

// Other is the other language, for the switch.
func (q *request) Other() string {
	if q.lang == i18n.RU {
		return "en"
	}
	return "ru"
}

// Points says n points with the right noun ("5 баллов").
func (q *request) Points(n int64) string { return i18n.Points(q.lang, n) }

// Number groups n's digits.
func (q *request) Number(n int64) string { return i18n.Number(q.lang, n) }

// Money writes kopecks as roubles.
func (q *request) Money(kopecks int64) string { return i18n.Money(q.lang, kopecks) }

// Date and DateTime write a moment in the programme's time zone.
func (q *request) Date(t time.Time) string { return i18n.Date(q.lang, t, q.zone()) }

// DateTime writes a moment to the minute in the programme's time zone.
func (q *request) DateTime(t time.Time) string { return i18n.DateTime(q.lang, t, q.zone()) }

// DatePtr is Date of a moment that may be missing ("" then).
func (q *request) DatePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return q.Date(*t)
}

func (q *request) zone() *time.Location {
	if q.loc == nil {
		return time.UTC
	}
	return q.loc
}
