package admin_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/healthjob/healthjob/healthjobtest"
)

// docs is where the browser tests leave their screenshots.
const docs = "../../docs"

// page drives one tab of a real Chromium against a test server.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// newPage starts Chromium, headless, on a fresh profile; without it the
// test is skipped (failed under HEALTHJOB_REQUIRE_SERVICES=1).
func newPage(t *testing.T, base string) *page {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		healthjobtest.Missing(t, "chromium is not installed: run .ci/setup.d/chromium.sh")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	p := &page{t: t, ctx: ctx, base: base}
	p.do(chromedp.EmulateViewport(1440, 900))
	return p
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatal(err)
	}
}

// follow runs steps that load another page and waits for it; it returns
// the status of the page loaded.
func (p *page) follow(steps ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	res, err := chromedp.RunResponse(p.ctx, steps...)
	if err != nil {
		p.t.Fatal(err)
	}
	return res.Status
}

func (p *page) open(path string) int64 {
	p.t.Helper()
	return p.follow(chromedp.Navigate(p.base + path))
}

func (p *page) click(css string) int64 {
	p.t.Helper()
	return p.follow(chromedp.Click(chromedp.CSS(css)))
}

func eval[T any](p *page, js string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		p.t.Fatalf("%s: %v", js, err)
	}
	return v
}

// here is the path and query of the page shown.
func (p *page) here() string {
	return strings.TrimPrefix(eval[string](p, `location.href`), p.base)
}

func (p *page) text(css string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", css, err)
	}
	return strings.TrimSpace(s)
}

func (p *page) ids() []int64 {
	return eval[[]int64](p, `Array.from(document.querySelectorAll("tbody th.col-id a"), a => Number(a.textContent))`)
}

func (p *page) column(css string) []string {
	return eval[[]string](p, `Array.from(document.querySelectorAll("tbody `+css+`"), e => e.textContent.trim())`)
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.MkdirAll(docs, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(docs, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// login fills the login form and sends it; it returns the status of the
// page that answers.
func (p *page) login(name, password string) int64 {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.ID("username"), name), chromedp.SendKeys(chromedp.ID("password"), password))
	return p.click(`button[type=submit]`)
}

// TestBrowser goes through the admin as a person does, in Chromium.
func TestBrowser(t *testing.T) {
	ts := newServer(t)
	p := newPage(t, ts.URL)

	// Every page leads to the login first, then back to itself.
	if status := p.open(recordsPath + "?status__exact=1"); status != http.StatusOK || !strings.HasPrefix(p.here(), "/admin/login/?next=") {
		t.Fatalf("without a session: %d at %s", status, p.here())
	}
	if status := p.login(superuser, "wrong horse"); status != http.StatusUnauthorized ||
		p.text("#login-error") != "Please enter the correct user name and password. Both are case-sensitive." {
		t.Errorf("wrong password: %d", status)
	}
	p.do(chromedp.Clear(chromedp.ID("username")))
	if status := p.login(superuser, superPassword); status != http.StatusOK || p.here() != recordsPath+"?status__exact=1" {
		t.Fatalf("after the login: %s", p.here())
	}

	// The whole list, newest first; the filter sidebar chooses failures.
	p.open(recordsPath)
	all := ts.where(func(seeded) bool { return true })
	equalIDs(t, "list", p.ids(), all[:100])
	p.click(`aside a[href*="status__exact=0"]`)
	failed := ts.where(func(r seeded) bool { return r.status == 0 })
	if p.here() != recordsPath+"?status__exact=0" || !slices.Equal(p.ids(), failed) || p.text("#count") != "21 matching records" {
		t.Errorf("status filter: %s %v", p.here(), p.ids())
	}
	for _, s := range p.column(".col-status") {
		if s != "failed" {
			t.Errorf("a %q record among the failures", s)
		}
	}

	// Search, within the filter.
	p.do(chromedp.SendKeys(chromedp.ID("q"), "refused"))
	p.follow(chromedp.Submit(chromedp.ID("q")))
	refused := ts.where(func(r seeded) bool { return strings.Contains(r.message, "refused") })
	if p.here() != recordsPath+"?q=refused&status__exact=0" || !slices.Equal(p.ids(), refused) {
		t.Errorf("search: %s %v", p.here(), p.ids())
	}

	// Sort by name, then the other way.
	lastMinute := "created_at__gte=2024-05-15+11%3A59%3A00"
	p.open(recordsPath + "?" + lastMinute)
	p.click(`th.col-name a`)
	names := []string{"DatabaseBackend", "DiskUsage", "RedisHealthCheck", "SQLCheck", "ScriptCheck"}
	if got := p.column(".col-name"); p.here() != recordsPath+"?"+lastMinute+"&o=2" || !slices.Equal(got, names) ||
		eval[string](p, `document.querySelector("th[aria-sort=ascending]").className`) != "col-name" {
		t.Errorf("sort by name: %s %v", p.here(), got)
	}
	p.click(`th.col-name a`)
	slices.Reverse(names)
	if got := p.column(".col-name"); p.here() != recordsPath+"?"+lastMinute+"&o=-2" || !slices.Equal(got, names) {
		t.Errorf("sort by name, descending: %s %v", p.here(), got)
	}

	// A custom range of days.
	p.open(recordsPath)
	p.do(chromedp.SetValue(chromedp.ID("created_at-from"), "2024-04-01"), chromedp.SetValue(chromedp.ID("created_at-to"), "2024-05-01"))
	p.click(`#created_at-to + button`)
	if p.here() != recordsPath+"?created_at__date__gte=2024-04-01&created_at__date__lte=2024-05-01" || !slices.Equal(p.ids(), []int64{2, 1}) {
		t.Errorf("date range: %s %v", p.here(), p.ids())
	}
	if chip := strings.Join(strings.Fields(p.text(".chips li:first-child a")), " "); chip != "Created from 2024-04-01 to before 2024-05-02 × (remove)" {
		t.Errorf("date chip %q", chip)
	}
	p.click(`aside a[href*="created_at__gte=2024-05-15"]`) // Today
	today := "?created_at__gte=2024-05-15+00%3A00%3A00%2B00%3A00&created_at__lt=2024-05-16+00%3A00%3A00%2B00%3A00"
	if got := p.ids(); p.here() != recordsPath+today || !slices.Equal(got, all[:100]) {
		t.Errorf("today: %s %v", p.here(), got)
	}

	// Pages, by keyset, and back to the first.
	p.open(recordsPath)
	var seen []int64
	for range 5 {
		seen = append(seen, p.ids()...)
		if eval[bool](p, `document.querySelector("a[rel=next]") === null`) {
			break
		}
		p.click(`a[rel=next]`)
	}
	if !slices.Equal(seen, all) {
		t.Errorf("the pages hold %d records, want the %d in order", len(seen), len(all))
	}
	p.click(`.pager a:not([rel])`)
	equalIDs(t, "first page", p.ids(), all[:100])

	// A record, its history, and back to the list it came from.
	p.open(recordsPath + "?name__exact=RedisHealthCheck&status__exact=0")
	down := ts.where(func(r seeded) bool { return r.name == "RedisHealthCheck" && r.status == 0 })
	p.click(`tbody tr:first-child th a`)
	if got := p.text("h1"); got != fmt.Sprintf("Record %d failed", down[0]) {
		t.Errorf("record page: %q", got)
	}
	p.click(`a.button[href*="/history/"]`)
	if got := p.text("h1"); got != "History of RedisHealthCheck" || eval[int](p, `document.querySelectorAll("figure.timeline rect.failed").length`) != 1 {
		t.Errorf("history: %q", got)
	}
	p.click(`.segmented a:first-child`) // 24 hours
	if changes := eval[[]string](p, `Array.from(document.querySelectorAll(".changes .when"), e => e.textContent)`); len(changes) != 3 {
		t.Errorf("changes %q", changes)
	}
	p.click(`.crumbs li:nth-child(2) a`)
	if p.here() != recordsPath+"?name__exact=RedisHealthCheck&status__exact=0" {
		t.Errorf("back to the list: %s", p.here())
	}

	// Export what the list shows, as CSV.
	dir := t.TempDir()
	progress := chromedp.Events(p.ctx, browser.DownloadProgress)
	p.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
		})
		return err
	}), chromedp.Click(chromedp.CSS(`a[href*="export.csv"]`)))
	for ev, err := range progress {
		if err != nil {
			t.Fatal(err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			f, err := os.Open(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil || len(rows) != len(down)+1 || rows[1][1] != "RedisHealthCheck" || rows[1][3] != "unavailable: Connection refused" {
				t.Errorf("CSV: %v %q", err, rows)
			}
			break
		}
	}

	// A message with a script is text, and runs nothing.
	p.open(recordsPath + "?q=ScriptCheck")
	if title := eval[string](p, `document.title`); title != "Health check records · healthjob admin" {
		t.Errorf("the stored script ran: the title is %q", title)
	}
	if msg := p.text("tbody .col-message"); msg != scriptMessage {
		t.Errorf("message shown as %q", msg)
	}

	// Delete two records, after a confirmation.
	lastRun := "?created_at__gte=2024-05-15+11%3A59%3A30"
	p.open(recordsPath + lastRun)
	p.do(chromedp.Click(chromedp.ID("select-all")), chromedp.SetValue(chromedp.ID("action"), "delete_selected"))
	if got := p.text("#selected-count"); got != "2 of 2 selected" {
		t.Errorf("selection: %q", got)
	}
	p.click(`.actions button`)
	if got := p.text("h1"); got != "Are you sure?" {
		t.Fatalf("confirmation: %q", got)
	}
	p.click(`.confirm button.danger`)
	if p.here() != recordsPath+lastRun || p.text(".flash") != "Successfully deleted 2 health check records." || len(p.ids()) != 0 {
		t.Errorf("after deleting: %s %q %v", p.here(), p.text(".flash"), p.ids())
	}

	// A form on another site cannot make the admin act.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form method="post" action="%s/admin/logout/"><button id="go">Win a prize</button></form>`, ts.URL)
	}))
	defer evil.Close()
	p.follow(chromedp.Navigate(evil.URL))
	if status := p.click("#go"); status != http.StatusForbidden || p.text("main p") != "This request came from another site, so it was refused. Open the admin and try again from its own pages." {
		t.Errorf("cross-site form: %d", status)
	}
	if p.open(recordsPath); p.here() != recordsPath {
		t.Errorf("the other site logged the user out: %s", p.here())
	}

	// Log out.
	p.click(`.who button`)
	if p.here() != "/admin/login/" || p.text(".flash") != "You are logged out." {
		t.Errorf("logout: %s", p.here())
	}
	if p.open(recordsPath); !strings.HasPrefix(p.here(), "/admin/login/?next=") {
		t.Errorf("after logout: %s", p.here())
	}
}

// TestScreenshots shows the admin over a month of a realistic service and
// saves its pages under docs/, in the light and dark themes and on a phone.
func TestScreenshots(t *testing.T) {
	ts := newShowcase(t)
	p := newPage(t, ts.URL)
	p.open("/admin/dashboard/")
	p.screenshot("admin-login.png")
	if status := p.login(superuser, superPassword); status != http.StatusOK {
		t.Fatalf("login: %d", status)
	}
	p.screenshot("admin-dashboard.png")
	if rows := p.column("th.check-name a"); len(rows) != 9 || rows[0] != "RedisHealthCheck" || rows[1] != "CeleryHealthCheckdefault" {
		t.Errorf("dashboard rows %q", rows)
	}
	p.open(recordsPath + "?status__exact=0")
	p.open(recordsPath)
	p.screenshot("admin-list.png")
	id := ts.where(func(r seeded) bool { return r.name == "RedisHealthCheck" })[0]
	p.open(fmt.Sprintf("%s%d/history/?range=30d", recordsPath, id))
	p.screenshot("admin-history.png")

	dark := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	})
	p.do(dark)
	p.open("/admin/dashboard/?refresh=off")
	p.screenshot("admin-dashboard-dark.png")
	if bg := eval[string](p, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(14, 19, 24)" {
		t.Errorf("dark background %s", bg)
	}

	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	p.open(recordsPath + "?" + url.Values{"name__exact": {"RedisHealthCheck"}}.Encode())
	p.screenshot("admin-list-phone.png")
	if width := eval[int](p, `document.documentElement.scrollWidth`); width > 390 {
		t.Errorf("the phone list scrolls sideways: %d px wide", width)
	}
}
