package web_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/web"
)

// Every text a template or a handler asks for has its Russian.
func TestMessages_EveryTextHasItsRussian(t *testing.T) {
	asked := regexp.MustCompile(`(?:\.T|q\.T\()\s*"((?:[^"\\]|\\.)+)"`)
	files, _ := filepath.Glob("templates/*.html")
	gofiles, _ := filepath.Glob("*.go")
	n := 0
	for _, f := range append(files, gofiles...) {
		if strings.HasSuffix(f, "_test.go") || f == "messages.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range asked.FindAllStringSubmatch(string(b), -1) {
			n++
			if ru := web.Russian(m[1]); ru == "" {
				t.Errorf("%s asks for %q, which has no Russian in messages.go", f, m[1])
			}
		}
	}
	for _, s := range web.DynamicTexts() {
		if web.Russian(s) == "" {
			t.Errorf("dynamic text %q has no Russian", s)
		}
	}
	if n < 50 {
		t.Fatalf("found only %d texts: the pattern no longer matches the templates", n)
	}
}

// client is an HTTP client that keeps cookies and does not follow redirects.
func client(t *testing.T) *http.Client {
	jar := &memJar{m: map[string][]*http.Cookie{}}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// memJar keeps cookies whatever their Secure flag (the test server is plain HTTP).
type memJar struct{ m map[string][]*http.Cookie }

func (j *memJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		kept := j.m[u.Host][:0]
		for _, o := range j.m[u.Host] {
			if o.Name != c.Name {
				kept = append(kept, o)
			}
		}
		if c.MaxAge >= 0 && c.Value != "" {
			kept = append(kept, c)
		}
		j.m[u.Host] = kept
	}
}
func (j *memJar) Cookies(u *url.URL) []*http.Cookie { return j.m[u.Host] }

func post(t *testing.T, c *http.Client, u string, form url.Values, headers ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfIn = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// The pages' guards: security headers, the session cookie's flags, forms
// refused without their token or from another site, no redirect off the
// site, and no page cached.
func TestSite_SessionsCookiesAndForms(t *testing.T) {
	s := newSite(t, "sqlite")
	addOperator(t, s, "anna@example.com", kopilka.RoleAdmin, "")
	m, err := s.svc.Members.CreateMember(sysCtx(), kopilka.Member{Phone: "+79160000001"})
	if err != nil {
		t.Fatal(err)
	}
	c := client(t)

	resp, body := get(t, c, s.url+"/office/signin")
	for h, want := range map[string]string{"Content-Security-Policy": "default-src 'none'; script-src 'self'", "X-Frame-Options": "DENY",
		"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if !strings.Contains(resp.Header.Get(h), want) {
			t.Errorf("%s: %q, want %q", h, resp.Header.Get(h), want)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "http://") || strings.Contains(body, "https://") {
		t.Errorf("the page has inline script or style, or an outside address: %s", body)
	}

	// A sign-in posted from another site is refused, and sets no cookie.
	form := url.Values{"email": {"anna@example.com"}, "password": {"correct horse battery"}, "next": {"https://evil.example/"}}
	r := post(t, c, s.url+"/office/signin", form, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
		t.Fatalf("a cross-site sign-in: %d %v", r.StatusCode, r.Cookies())
	}
	// From the site itself it works; next never leaves the site.
	r = post(t, c, s.url+"/office/signin", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/office/" {
		t.Fatalf("sign-in: %d to %q", r.StatusCode, r.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, ck := range r.Cookies() {
		if ck.Name == "__Host-kopilka-office" {
			sess = ck
		}
	}
	if sess == nil || !sess.HttpOnly || !sess.Secure || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Domain != "" {
		t.Fatalf("session cookie %+v", sess)
	}

	_, page := get(t, c, s.url+"/office/members/"+m.ID)
	tok := csrfIn.FindStringSubmatch(page)
	if tok == nil {
		t.Fatalf("the member page has no CSRF token: %s", page)
	}
	if strings.Contains(page, sess.Value) {
		t.Fatal("the page shows the session's secret")
	}
	// Without the token, or with another, a change is refused and nothing changes.
	for _, bad := range []string{"", "x" + tok[1]} {
		r = post(t, c, s.url+"/office/members/"+m.ID+"/block", url.Values{"csrf": {bad}})
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("block with CSRF token %q: %d", bad, r.StatusCode)
		}
	}
	if got, _ := s.svc.Members.Member(sysCtx(), m.ID); got.Status != kopilka.StatusActive {
		t.Fatalf("the member was blocked by a form without its token")
	}
	r = post(t, c, s.url+"/office/members/"+m.ID+"/block", url.Values{"csrf": {tok[1]}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("block with the token: %d", r.StatusCode)
	}
	if got, _ := s.svc.Members.Member(sysCtx(), m.ID); got.Status != kopilka.StatusBlocked {
		t.Fatalf("the member is %s after blocking", got.Status)
	}

	// The language switch goes back to a page of the site only.
	r, _ = get(t, c, s.url+"/lang/ru?next=//evil.example/")
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("lang switch to %q", r.Header.Get("Location"))
	}
	_, page = get(t, c, s.url+"/office/members/"+m.ID)
	if !strings.Contains(page, `lang="ru"`) || !strings.Contains(page, "Заблокировать") && !strings.Contains(page, "Разблокировать") {
		t.Fatalf("after choosing Russian the page is not in Russian")
	}

	// Signing out ends the session for good: the old cookie opens nothing.
	r = post(t, c, s.url+"/office/signout", url.Values{"csrf": {tok[1]}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	old := &http.Client{CheckRedirect: c.CheckRedirect}
	req, _ := http.NewRequest("GET", s.url+"/office/members/"+m.ID, nil)
	req.AddCookie(&http.Cookie{Name: sess.Name, Value: sess.Value})
	r2, err := old.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r2.Header.Get("Location"), "/office/signin") {
		t.Fatalf("the signed-out cookie: %d %q", r2.StatusCode, r2.Header.Get("Location"))
	}
	// A member's session opens no back-office page, and an operator's no member page.
	req, _ = http.NewRequest("GET", s.url+"/app/", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-kopilka-member", Value: sess.Value})
	r2, _ = old.Do(req)
	r2.Body.Close()
	if r2.StatusCode != http.StatusSeeOther {
		t.Fatalf("an operator's token as a member's cookie: %d", r2.StatusCode)
	}
}

// The accessibility check finds what it is there to find: a page with an
// unlabelled field, a link without a name and grey on grey fails it.
func TestAxe_FindsViolations(t *testing.T) {
	b := newBrowser(t, "about:blank")
	b.run(chromedp.Navigate(`data:text/html,<html><body><input type="text"><a href="/x"></a><p style="color:%23aaa;background:%23bbb">faint</p></body></html>`))
	got := map[string]bool{}
	for _, v := range b.violations("bad page") {
		got[v.ID] = true
	}
	for _, want := range []string{"label", "link-name", "color-contrast", "html-has-lang"} {
		if !got[want] {
			t.Errorf("axe-core did not report %s on a page that breaks it: %v", want, got)
		}
	}
}
