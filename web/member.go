package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/coalition"
	"github.com/kopilka/kopilka/surveys"
)

// The member app: sign-in by one-time code, the card to show at the till,
// the balance and the history.

func (s *Site) memberSignInPage(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(memberCookie); err == nil {
		if p, err := s.App.Access.Authenticate(r.Context(), c.Value); err == nil && p.Kind == "member" {
			http.Redirect(w, r, "/app/", http.StatusSeeOther)
			return nil
		}
	}
	s.render(w, r, http.StatusOK, "app-signin", Member, reqOf(r).T("Sign in"), map[string]any{})
	return nil
}

// contact reads the form's phone or e-mail: one field, whichever it looks like.
func contact(r *http.Request) (phone, email string) {
	c := strings.TrimSpace(r.PostForm.Get("contact"))
	if strings.Contains(c, "@") {
		return "", c
	}
	return c, ""
}

func (s *Site) memberSendCode(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	phone, email := contact(r)
	if err := s.App.Access.SendCode(r.Context(), phone, email); err != nil {
		msg := ""
		switch kopilka.ErrorCode(err) {
		case kopilka.EINVALID:
			msg = q.T("Enter a phone number (+7 916 123-45-67) or an e-mail address.")
		case kopilka.ERATELIMIT:
			msg = q.T("A code was sent a moment ago, or too many were asked for: wait a minute and try again.")
		case kopilka.EUNAVAILABLE:
			msg = q.T("Sign-in by code is not set up on this server yet.")
		default:
			return err
		}
		s.render(w, r, s.StatusOf(err), "app-signin", Member, q.T("Sign in"), map[string]any{"Contact": r.PostForm.Get("contact"), "Error": msg})
		return nil
	}
	s.render(w, r, http.StatusOK, "app-code", Member, q.T("Enter the code"), map[string]any{"Contact": r.PostForm.Get("contact")})
	return nil
}

func (s *Site) memberVerify(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	phone, email := contact(r)
	sess, err := s.App.Access.VerifyCode(r.Context(), phone, email, strings.TrimSpace(r.PostForm.Get("code")))
	if err != nil {
		switch kopilka.ErrorCode(err) {
		case kopilka.EUNAUTHORIZED, kopilka.EINVALID, kopilka.ERATELIMIT, kopilka.ELOCKED:
		default:
			return err
		}
		s.render(w, r, s.StatusOf(err), "app-code", Member, q.T("Enter the code"), map[string]any{"Contact": r.PostForm.Get("contact"),
			"Error": q.T("The code is wrong or has expired. Check it, or ask for a new one.")})
		return nil
	}
	setCookie(w, memberCookie, sess.Token, sess.ExpiresAt)
	http.Redirect(w, r, "/app/", http.StatusSeeOther)
	return nil
}

// activeCard is the card the member shows at the till: the newest active one.
func activeCard(m kopilka.Member) (kopilka.Card, bool) {
	var best kopilka.Card
	found := false
	for _, c := range m.Cards {
		if c.Status == kopilka.StatusActive && (!found || c.CreatedAt.After(best.CreatedAt)) {
			best, found = c, true
		}
	}
	return best, found
}

func (s *Site) memberHome(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	b, err := s.App.Ledger.MyBalance(r.Context())
	if err != nil {
		return err
	}
	card, ok := activeCard(m)
	s.render(w, r, http.StatusOK, "app-home", Member, q.T("My card"), map[string]any{"M": m, "Card": card, "HasCard": ok, "Balance": b})
	return nil
}

func (s *Site) memberHistory(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	items, _, err := s.App.Ledger.MyHistory(r.Context(), nil, 100)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "app-history", Member, q.T("History"), map[string]any{"Items": items})
	return nil
}

// cardImage draws the member's card number as a QR code (qr.png) or a
// Code 128 barcode (barcode.png) for the till's scanner.
func (s *Site) cardImage(w http.ResponseWriter, r *http.Request) error {
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	card, ok := activeCard(m)
	if !ok {
		return kopilka.Errorf(kopilka.ENOTFOUND, "the member has no active card")
	}
	var png []byte
	switch r.PathValue("kind") {
	case "qr.png":
		png, err = qrPNG(card.Number)
	case "barcode.png":
		png, err = barcodePNG(card.Number)
	default:
		return kopilka.Errorf(kopilka.ENOTFOUND, "no such picture")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	_, err = w.Write(png)
	return err
}

// memberStores lists the stores nearest the member: where the phone says
// it is (the page's script asks, and comes back with lat and lon), or
// nowhere yet; with distances, open now or not, and on a map when tiles
// are configured.
func (s *Site) memberStores(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	data := map[string]any{}
	v := r.URL.Query()
	if v.Get("lat") != "" || v.Get("lon") != "" {
		lat, err1 := strconv.ParseFloat(v.Get("lat"), 64)
		lon, err2 := strconv.ParseFloat(v.Get("lon"), 64)
		if err1 != nil || err2 != nil {
			return kopilka.Invalid("lat", "the place must be two numbers, latitude and longitude")
		}
		near, err := s.App.Coalition.Nearby(r.Context(), coalition.NearbyQuery{Lat: lat, Lon: lon, RadiusM: 50_000, Limit: 20})
		if err != nil {
			return err
		}
		stores := make([]kopilka.Store, len(near))
		for i, n := range near {
			stores[i] = n.Store
		}
		m := storeMap(s.TileURL, stores)
		if m != nil {
			for i := range m.Markers {
				m.Markers[i].URL = "" // a member has no store page
			}
		}
		data["Near"], data["Map"], data["Searched"] = near, m, true
	}
	s.render(w, r, http.StatusOK, "app-stores", Member, q.T("Stores nearby"), data)
	return nil
}

// memberTier shows the member's tier and the way to the next one.
func (s *Site) memberTier(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	t, err := s.App.Programme.MyTier(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "app-tier", Member, q.T("My tier"), map[string]any{"Tier": t})
	return nil
}

func (s *Site) memberCategories(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	eng, err := s.App.Programme.Engine(r.Context())
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, c := range m.Categories {
		chosen[c] = true
	}
	s.render(w, r, http.StatusOK, "app-categories", Member, q.T("Favourite categories"), map[string]any{"P": eng.Programme.Personal,
		"Chosen": chosen, "Done": r.URL.Query().Get("done") != ""})
	return nil
}

func (s *Site) chooseCategories(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.App.Programme.MyCategories(r.Context(), r.PostForm["category"]); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/categories?done=1", http.StatusSeeOther)
	return nil
}

func (s *Site) memberProfile(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	m, err := s.App.Members.Me(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "app-profile", Member, q.T("Profile"), map[string]any{"M": m, "Done": r.URL.Query().Get("done") != ""})
	return nil
}

func (s *Site) saveProfile(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	name := f.Get("name")
	consents := kopilka.Consents{SMS: f.Get("sms") != "", Email: f.Get("email") != "", Push: f.Get("push") != ""}
	if _, err := s.App.Members.UpdateMe(r.Context(), kopilka.MemberPatch{Name: &name, Consents: &consents}); err != nil {
		return err
	}
	http.Redirect(w, r, "/app/profile?done=1", http.StatusSeeOther)
	return nil
}

// surveyForm is an open invitation as its form shows it: the scores to
// choose from, per attribute for CSI.
type surveyForm struct {
	surveys.Invitation
	Choices []int
	Rows    []string // the attributes, or one row for the question
}

// memberSurveys lists the member's open survey invitations with a form
// each, and the ones answered.
func (s *Site) memberSurveys(w http.ResponseWriter, r *http.Request) error {
	q := reqOf(r)
	mine, err := s.App.Surveys.Mine(r.Context())
	if err != nil {
		return err
	}
	now := s.App.Env.Time()
	var open []surveyForm
	var answered []surveys.Invitation
	for _, inv := range mine {
		switch {
		case inv.AnsweredAt != nil:
			answered = append(answered, inv)
		case now.Before(inv.ExpiresAt):
			lo, hi := surveys.Scale(inv.Kind)
			f := surveyForm{Invitation: inv}
			for v := lo; v <= hi; v++ {
				f.Choices = append(f.Choices, v)
			}
			f.Rows = inv.Attributes
			if inv.Kind != surveys.CSI {
				f.Rows = []string{""}
			}
			open = append(open, f)
		}
	}
	s.render(w, r, http.StatusOK, "app-surveys", Member, q.T("Surveys"), map[string]any{"Open": open, "Answered": answered,
		"Done": r.URL.Query().Get("done")})
	return nil
}

// answerSurvey sends the member's answer: a score per row (score0, …).
func (s *Site) answerSurvey(w http.ResponseWriter, r *http.Request) error {
	var ans surveys.Answer
	for i := 0; i < 10; i++ {
		v := r.PostForm.Get(fmt.Sprintf("score%d", i))
		if v == "" {
			break
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return kopilka.Invalid("scores", "choose a score")
		}
		ans.Scores = append(ans.Scores, n)
	}
	ans.Comment = r.PostForm.Get("comment")
	inv, err := s.App.Surveys.Answer(r.Context(), r.PathValue("id"), ans)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/surveys?done="+strconv.FormatInt(inv.Bonus, 10), http.StatusSeeOther)
	return nil
}
