package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/kopilka/kopilka"
	"github.com/kopilka/kopilka/app"
	khttp "github.com/kopilka/kopilka/http"
	"github.com/kopilka/kopilka/storage/storagetest"
)

// The browser tests drive headless Chromium (Debian's chromium package)
// through the journeys of the people who use the pages, against a real
// server on SQLite. Without Chromium they are skipped, unless
// KOPILKA_BROWSER_TESTS=1 (CI sets it) makes that a failure. Screenshots
// of each page go to KOPILKA_ARTIFACTS (default: a kopilka-screenshots
// folder in the system's temporary directory).

// site is a running server with its services, for a browser test.
type site struct {
	url  string
	svc  *app.App
	sent *outbox
	srv  *khttp.Server
	// stop stops the server, as if the phone had lost its network.
	stop func()
}

// outbox keeps the messages the server sends (one-time codes, notices).
type outbox struct {
	mu    sync.Mutex
	sent  map[string]string // to → the last text
	flush func()
}

func (o *outbox) Send(ctx context.Context, channel, to, text string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent[to] = text
	return nil
}

// code delivers what is due and returns the last code sent to the address.
func (o *outbox) code(to string) string {
	o.flush()
	o.mu.Lock()
	defer o.mu.Unlock()
	return regexp.MustCompile(`\b[0-9]{6}\b`).FindString(o.sent[to])
}

func sysCtx() context.Context {
	return kopilka.NewContextWithPrincipal(context.Background(), kopilka.System("test"))
}

// newSite starts the server on a fresh database of the dialect.
func newSite(t *testing.T, dialect string) *site {
	t.Helper()
	db := storagetest.Open(t, dialect)
	svc := app.New(db)
	box := &outbox{sent: map[string]string{}}
	box.flush = func() { _, _ = svc.Notify.Flush(sysCtx()) }
	svc.SetSender(box)
	api := khttp.NewServer(svc, slog.New(slog.DiscardHandler), "test")
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &site{url: srv.URL, svc: svc, sent: box, srv: api, stop: srv.Close}
}

// browser is a headless Chromium tab.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot string // the folder screenshots go to
	// asked counts the "are you sure?" dialogs answered.
	asked atomic.Int32
}

// newBrowser opens a tab on the site, or skips the test without Chromium.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("KOPILKA_BROWSER_TESTS") == "1" {
			t.Fatal("KOPILKA_BROWSER_TESTS=1 but no Chromium is installed (apt-get install -y chromium)")
		}
		t.Skip("no Chromium: apt-get install -y chromium to run the browser tests")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900), chromedp.Flag("lang", "en-GB"))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	dir := os.Getenv("KOPILKA_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "kopilka-screenshots")
	}
	dir = filepath.Join(dir, strings.NewReplacer("/", "-").Replace(t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, ctx: ctx, base: base, shot: dir}
	b.run(chromedp.Navigate(base + "/healthz"))
	// Forms that ask "are you sure?" are answered yes, as the person would
	// (the listener may not call the browser itself).
	dialogs := make(chan struct{}, 16)
	if err := chromedp.Listen(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				b.asked.Add(1)
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}
		}
	}()
	return b
}

func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

func (b *browser) location() string {
	u, _ := chromedp.Run(b.ctx, chromedp.Location())
	return u
}

// path is the page's path.
func (b *browser) path() string {
	u, err := url.Parse(b.location())
	if err != nil {
		return ""
	}
	return u.Path
}

// open goes to a path of the site.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

// fill types text into the field (emptied first).
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	c := chromedp.CSS(sel)
	b.run(chromedp.WaitVisible(c))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).value = "") === ""`, sel))); err != nil {
		b.t.Fatalf("browser: empty %s: %v", sel, err)
	}
	b.run(chromedp.SendKeys(c, text))
}

// runSelect chooses the option of a select.
func (b *browser) runSelect(sel, value string) {
	b.t.Helper()
	b.run(chromedp.SetValue(chromedp.CSS(sel), value))
}

// click clicks the element and waits until the page's address matches want
// (a regular expression over the path and query).
func (b *browser) click(sel, want string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
	b.waitPath(want)
}

// waitPath waits until the page's address matches want, and the page is loaded.
func (b *browser) waitPath(want string) {
	b.t.Helper()
	re := regexp.MustCompile(want)
	deadline := time.Now().Add(20 * time.Second)
	for {
		u, _ := url.Parse(b.location())
		if u != nil && re.MatchString(u.RequestURI()) {
			if state, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState`)); err == nil && state == "complete" {
				return
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page is %s, want %s", b.location(), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitTrue waits until the expression (a promise of a boolean) is true.
func (b *browser) waitTrue(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr, awaitPromise))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("still not true after 10 s: %s (%v)", expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitText waits until the element's text holds want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s says %q, want it to hold %q", sel, got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the element's visible text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	wctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		main, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		b.t.Fatalf("browser: no %s on %s: %v; the page says: %.600s", sel, b.location(), err, main)
	}
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v (at %s)", sel, err, b.location())
	}
	return strings.TrimSpace(s)
}

// has reports whether the page has an element matching sel now.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return n > 0
}

// axeSource is axe-core, vendored (testdata/axe/README.md).
var axeSource = sync.OnceValues(func() ([]byte, error) { return os.ReadFile("testdata/axe/axe.min.js") })

// awaitPromise makes Evaluate wait for the promise the expression gives.
func awaitPromise(p *runtime.EvaluateParams) { p.AwaitPromise = ptr(true) }

// violation is one failed axe rule.
type violation struct {
	ID, Impact, Help string
	Nodes            []struct{ Target []string }
}

// accessible runs axe-core on the page and fails the test on a violation
// of a WCAG 2.x A or AA rule whose impact is serious or critical (contrast,
// labels, names of links and buttons, the page's language and the like).
func (b *browser) accessible(name string) {
	b.t.Helper()
	for _, v := range b.violations(name) {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, strings.Join(n.Target, " "))
		}
		b.t.Errorf("page %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, where)
	}
}

// violations are the serious and critical ones axe-core finds on the page.
func (b *browser) violations(name string) []violation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		b.t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(src)+";true")); err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]violation](
		`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, resultTypes: ["violations"]}).then(r => r.violations)`, awaitPromise))
	if err != nil {
		b.t.Fatalf("axe-core on %s: %v", name, err)
	}
	var bad []violation
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		}
	}
	return bad
}

// light fails the test when the page and what it loaded weigh 100 KB or
// more: the page's first load, as the issue asks (from the browser's own
// resource timing, so the CSS, script, icon and pictures count).
func (b *browser) light(name string) {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource")).reduce((s, e) => s + (e.decodedBodySize || 0), 0)`))
	if err != nil {
		b.t.Fatalf("page weight of %s: %v", name, err)
	}
	if n >= 100_000 {
		b.t.Errorf("page %s and its assets weigh %d bytes, want under 100 KB", name, n)
	}
	b.t.Logf("page %s: %d bytes with its assets", name, n)
}

// screenshot keeps the page as an artefact named name.png, after checking
// that it is accessible and light.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.accessible(name)
	b.light(name)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err = os.WriteFile(filepath.Join(b.shot, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// contains fails the test unless the element's text holds every want.
func (b *browser) contains(sel string, want ...string) {
	b.t.Helper()
	got := b.text(sel)
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s says %q, want it to hold %q (page %s)", sel, got, w, b.location())
		}
	}
}
