package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/admin"
	"github.com/healthjob/healthjob/internal/store"
	"golang.org/x/crypto/bcrypt"

	_ "modernc.org/sqlite"
)

func TestMain(m *testing.M) {
	store.PasswordCost = bcrypt.MinCost // logins in every test: keep them fast
	os.Exit(m.Run())
}

const recordsPath = "/admin/django_health_check_job/heathcheckjob/"

// The users every test server has.
const (
	superuser, superPassword = "ada", "correct horse"
	reader, readerPassword   = "bob", "battery staple"
)

// now is the test servers' time: seeded records end just before it.
var now = time.Date(2024, 5, 15, 12, 0, 0, 0, time.UTC)

// clock is a settable time shared by the store and the admin.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// seeded is a record as the test wrote it, to compute expected lists.
type seeded struct {
	id               int64
	name, message    string
	status           int
	level            string
	created, updated time.Time
}

// testServer is an admin on a real HTTP server over a SQLite store holding
// the records of seed.
type testServer struct {
	*httptest.Server
	db      *store.DB
	clock   *clock
	records []seeded
}

func newServer(t *testing.T, configure ...func(*admin.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "healthjob.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: now}
	db.Now = c.Now
	ts := &testServer{db: db, clock: c}
	ts.seed(t)
	for _, u := range []struct {
		name, password string
		super          bool
	}{{superuser, superPassword, true}, {reader, readerPassword, false}} {
		if _, err := db.CreateUser(ctx, u.name, u.password, u.super); err != nil {
			t.Fatal(err)
		}
	}
	cfg := admin.Config{Store: db, Now: c.Now, Logger: slog.New(slog.DiscardHandler), TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		CountBudget: time.Minute} // counts are exact however slow the machine; TestCountBudget tests the bound

	for _, f := range configure {
		f(&cfg)
	}
	h, err := admin.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// Failure windows of the seeded checks, in minutes from the first run.
const (
	runs         = 150
	redisDownAt  = 100
	redisUpAt    = 120
	diskWarnFrom = 40
	diskWarnTo   = 50
)

// first is the time of the first of the regular runs: one a minute, the
// last a minute before now.
var first = now.Add(-runs * time.Minute)

const (
	scriptMessage = `unexpected result: <script>document.title="owned"</script>`
	sqlMessage    = `working: x' OR '1'='1; DROP TABLE django_health_check_job_heathcheckjob; --`
)

// seed writes 454 records: two old ones (April and the start of May), then
// DatabaseBackend, DiskUsage and RedisHealthCheck once a minute for 150
// minutes (Redis down from minute 100 to 120, the disk warning from 40 to
// 50), then two records with a script and SQL in their message.
func (ts *testServer) seed(t *testing.T) {
	t.Helper()
	save := func(at time.Time, checks ...healthjob.Result) {
		run := &healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: at}, Checks: checks}
		ts.clock.mu.Lock()
		ts.clock.t = at.Add(time.Second) // updated_at: a second after the run
		ts.clock.mu.Unlock()
		if err := ts.db.SaveRun(context.Background(), run); err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			ts.records = append(ts.records, seeded{id: int64(len(ts.records) + 1), name: c.Name, message: c.Message,
				status: c.Status, level: string(c.Level), created: at, updated: at.Add(time.Second)})
		}
	}
	ok := func(name string) healthjob.Result {
		return healthjob.Result{Name: name, Status: 1, Message: "working", Level: healthjob.LevelOK, Critical: true, Duration: 2 * time.Millisecond}
	}
	save(time.Date(2024, 4, 20, 10, 0, 0, 0, time.UTC), ok("DatabaseBackend"))
	save(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), ok("DatabaseBackend"))
	for m := range runs {
		disk, redis := ok("DiskUsage"), ok("RedisHealthCheck")
		if m >= diskWarnFrom && m < diskWarnTo {
			disk.Level, disk.Message = healthjob.LevelWarning, "warning: 91.2% of / is used"
		}
		if m >= redisDownAt && m < redisUpAt {
			redis.Status, redis.Level, redis.Message = 0, healthjob.LevelFailure, "unavailable: Connection refused"
		}
		redis.Duration = time.Duration(1+m%7) * time.Millisecond
		save(first.Add(time.Duration(m)*time.Minute), ok("DatabaseBackend"), disk, redis)
	}
	save(now.Add(-30*time.Second),
		healthjob.Result{Name: "ScriptCheck", Status: 0, Message: scriptMessage, Level: healthjob.LevelFailure, Critical: true},
		healthjob.Result{Name: "SQLCheck", Status: 1, Message: sqlMessage, Level: healthjob.LevelOK, Critical: true})
	ts.clock.mu.Lock()
	ts.clock.t = now
	ts.clock.mu.Unlock()
}

// where returns the ids of the seeded records keep selects, newest first
// (created_at, then id, descending: the list's default order).
func (ts *testServer) where(keep func(seeded) bool) []int64 {
	var out []int64
	for i := len(ts.records) - 1; i >= 0; i-- {
		if keep(ts.records[i]) {
			out = append(out, ts.records[i].id)
		}
	}
	return out
}

// client is a browser-like client of the test server: it keeps cookies and
// does not follow redirects, so that tests see them.
func (ts *testServer) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// login returns a client logged in as name.
func (ts *testServer) login(t *testing.T, name, password string) *http.Client {
	t.Helper()
	c := ts.client(t)
	res := ts.post(t, c, "/admin/login/", url.Values{"username": {name}, "password": {password}, "next": {recordsPath}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != recordsPath {
		t.Fatalf("login as %s: %d to %q, want 303 to the records:\n%s", name, res.code, res.header.Get("Location"), res.body)
	}
	return c
}

// response is what an answer held.
type response struct {
	code   int
	header http.Header
	body   string
}

func (ts *testServer) get(t *testing.T, c *http.Client, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func (ts *testServer) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(body)}
}

var rowID = regexp.MustCompile(`<th scope="row" class="col-id"><a href="[^"]*">(\d+)</a>`)

// ids are the record ids of a list page, in order.
func ids(t *testing.T, body string) []int64 {
	t.Helper()
	var out []int64
	for _, m := range rowID.FindAllStringSubmatch(body, -1) {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

var nextLink = regexp.MustCompile(`<a class="button" href="([^"]*)" rel="next">`)

// next is the Next page link of a list page, "" on the last.
func next(body string) string {
	m := nextLink.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func firstN(ids []int64, n int) []int64 { return ids[:min(n, len(ids))] }

func equalIDs(t *testing.T, what string, got, want []int64) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: ids %v, want %v", what, got, want)
	}
}
