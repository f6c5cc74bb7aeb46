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
	srv := httptest.NewServer(khttp.NewServer(svc, slog.New(slog.DiscardHandler), "test"))
	t.Cleanup(srv.Close)
	return &site{url: srv.URL, svc: svc, sent: box}
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

// open goes to a path of the site.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base + path))
}

// fill types text into the field (emptied first).
func (b *browser) fill(sel, text string) {
	b.t.Helper()
	c := chromedp.CSS(sel)
	b.run(chromedp.WaitVisible(c), chromedp.Clear(c), chromedp.SendKeys(c, text))
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

// text is the element's visible text.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)))
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

// screenshot keeps the page as an artefact named name.png.
func (b *browser) screenshot(name string) {
	b.t.Helper()
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
