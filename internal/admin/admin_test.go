package admin_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/admin"
)

const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func TestNoSessionGoesToLogin(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	for _, path := range []string{
		"/admin/", "/admin/dashboard/", "/admin/django_health_check_job/", recordsPath, recordsPath + "?status__exact=0&o=-1",
		recordsPath + "export.csv", recordsPath + "export.json", recordsPath + "3/", recordsPath + "3/change/",
		recordsPath + "3/history/", recordsPath + "3/delete/", "/admin/nowhere/",
	} {
		res := ts.get(t, c, path)
		want := "/admin/login/?next=" + url.QueryEscape(path)
		if res.code != http.StatusSeeOther || res.header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, res.code, res.header.Get("Location"), want)
		}
	}
	for _, path := range []string{recordsPath, recordsPath + "3/delete/"} {
		res := ts.post(t, c, path, url.Values{"action": {"delete_selected"}, "_selected_action": {"3"}, "post": {"yes"}})
		if res.code != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/admin/login/?next=") {
			t.Errorf("POST %s: %d to %q, want 303 to the login", path, res.code, res.header.Get("Location"))
		}
	}
	if n := len(ts.where(func(seeded) bool { return true })); n != 454 {
		t.Fatalf("seeded %d", n)
	}
	res := ts.get(t, ts.login(t, superuser, superPassword), recordsPath+"3/change/")
	if res.code != http.StatusOK {
		t.Errorf("record 3 after login: %d; the POSTs without a session deleted it?", res.code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	for _, path := range []string{"/admin/login/", recordsPath, "/admin/dashboard/", recordsPath + "3/change/", "/admin/nowhere/"} {
		res := ts.get(t, c, path)
		for k, want := range map[string]string{"Content-Security-Policy": csp, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
			if got := res.header.Get(k); got != want {
				t.Errorf("%s: %s: %q, want %q", path, k, got, want)
			}
		}
		if strings.Contains(res.body, "<script>") || strings.Contains(res.body, " style=") || strings.Contains(res.body, "<style") {
			t.Errorf("%s: inline script or style, which the policy blocks", path)
		}
	}
}

func TestLogin(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	res := ts.get(t, c, "/admin/login/?next="+url.QueryEscape(recordsPath+"?q=redis"))
	if res.code != http.StatusOK || !strings.Contains(res.body, `<input type="hidden" name="next" value="/admin/django_health_check_job/heathcheckjob/?q=redis">`) {
		t.Fatalf("login form: %d\n%s", res.code, res.body)
	}
	const wrong = "Please enter the correct user name and password. Both are case-sensitive."
	for _, creds := range [][2]string{{superuser, "wrong horse"}, {"nobody", superPassword}, {"ADA", superPassword}} {
		res := ts.post(t, c, "/admin/login/", url.Values{"username": {creds[0]}, "password": {creds[1]}})
		if res.code != http.StatusUnauthorized || !strings.Contains(res.body, wrong) || res.header.Get("Set-Cookie") != "" {
			t.Errorf("login %q/%q: %d, cookie %q, want 401 and %q", creds[0], creds[1], res.code, res.header.Get("Set-Cookie"), wrong)
		}
	}
	res = ts.post(t, c, "/admin/login/", url.Values{"username": {superuser}, "password": {superPassword}, "next": {recordsPath + "?q=redis"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != recordsPath+"?q=redis" {
		t.Fatalf("login: %d to %q", res.code, res.header.Get("Location"))
	}
	cookie := parseCookie(t, res.header.Get("Set-Cookie"))
	if cookie.Name != "healthjob_session" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Secure ||
		cookie.Path != "/admin/" || cookie.MaxAge != 12*60*60 {
		t.Errorf("session cookie %s", res.header.Get("Set-Cookie"))
	}
	if res := ts.get(t, c, "/admin/login/"); res.code != http.StatusSeeOther || res.header.Get("Location") != "/admin/" {
		t.Errorf("login form when logged in: %d to %q, want 303 to /admin/", res.code, res.header.Get("Location"))
	}
	if res := ts.get(t, c, "/admin/"); res.code != http.StatusFound || res.header.Get("Location") != recordsPath {
		t.Errorf("/admin/: %d to %q, want the records", res.code, res.header.Get("Location"))
	}
	if res := ts.get(t, c, recordsPath); res.code != http.StatusOK || !strings.Contains(res.body, `<span title="superuser">ada</span>`) {
		t.Errorf("records: %d", res.code)
	}

	// The target after the login stays in the admin.
	for next, want := range map[string]string{
		"https://evil.example/admin/": "/admin/", "//evil.example/admin/": "/admin/", "/elsewhere": "/admin/",
		`/admin/\evil`: "/admin/", "/admin/dashboard/": "/admin/dashboard/", "/admin/login/": "/admin/",
	} {
		res := ts.post(t, ts.client(t), "/admin/login/", url.Values{"username": {reader}, "password": {readerPassword}, "next": {next}})
		if res.code != http.StatusSeeOther || res.header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want %q", next, res.code, res.header.Get("Location"), want)
		}
	}
}

func parseCookie(t *testing.T, header string) *http.Cookie {
	t.Helper()
	c, err := http.ParseSetCookie(header)
	if err != nil {
		t.Fatalf("Set-Cookie %q: %v", header, err)
	}
	return c
}

func TestSecureCookies(t *testing.T) {
	for _, tc := range []struct {
		mode   string
		header []string
		secure bool
	}{
		{"auto", nil, false},
		{"auto", []string{"X-Forwarded-Proto", "https"}, true}, // the test client is 127.0.0.1, a trusted proxy
		{"false", []string{"X-Forwarded-Proto", "https"}, false},
		{"true", nil, true},
	} {
		ts := newServer(t, func(c *admin.Config) { c.SecureCookies = tc.mode })
		res := ts.post(t, ts.client(t), "/admin/login/", url.Values{"username": {reader}, "password": {readerPassword}}, tc.header...)
		if c := parseCookie(t, res.header.Get("Set-Cookie")); c.Secure != tc.secure {
			t.Errorf("%s %v: Secure %v, want %v", tc.mode, tc.header, c.Secure, tc.secure)
		}
	}
	// Behind a proxy the server does not trust, X-Forwarded-Proto is not believed.
	ts := newServer(t, func(c *admin.Config) { c.TrustedProxies = nil })
	res := ts.post(t, ts.client(t), "/admin/login/", url.Values{"username": {reader}, "password": {readerPassword}}, "X-Forwarded-Proto", "https")
	if parseCookie(t, res.header.Get("Set-Cookie")).Secure {
		t.Error("untrusted X-Forwarded-Proto made the cookie Secure")
	}
}

func TestLoginRateLimit(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	login := func(name, password string, header ...string) response {
		return ts.post(t, c, "/admin/login/", url.Values{"username": {name}, "password": {password}}, header...)
	}
	for i := range 5 {
		if res := login(superuser, "wrong horse"); res.code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.code)
		}
	}
	// The account is locked, even for the right password; the wait is said.
	res := login(superuser, superPassword)
	if res.code != http.StatusTooManyRequests || res.header.Get("Retry-After") != "900" ||
		!strings.Contains(res.body, "Too many failed logins. Try again in 16 min.") {
		t.Errorf("sixth login: %d, Retry-After %q\n%s", res.code, res.header.Get("Retry-After"), res.body)
	}
	if res := login("ADA", superPassword); res.code != http.StatusTooManyRequests {
		t.Errorf("the account in capitals: %d, want 429", res.code)
	}
	// Another account from the same address is not locked yet.
	if res := login(reader, readerPassword); res.code != http.StatusSeeOther {
		t.Errorf("bob: %d, want 303", res.code)
	}
	ts.clock.Add(15 * time.Minute)
	if res := login(superuser, superPassword); res.code != http.StatusSeeOther {
		t.Errorf("after the window: %d, want 303", res.code)
	}

	// Twenty failures from one address lock it for every account.
	for i := range 20 {
		if res := login(fmt.Sprintf("user%d", i), "wrong horse", "X-Forwarded-For", "192.0.2.7"); res.code != http.StatusUnauthorized {
			t.Fatalf("address failure %d: %d", i+1, res.code)
		}
	}
	if res := login(reader, readerPassword, "X-Forwarded-For", "192.0.2.7"); res.code != http.StatusTooManyRequests {
		t.Errorf("locked address: %d, want 429", res.code)
	}
	// 192.0.2.8, through the trusted proxy, is another client.
	if res := login(reader, readerPassword, "X-Forwarded-For", "192.0.2.7, 192.0.2.8"); res.code != http.StatusSeeOther {
		t.Errorf("another address: %d, want 303", res.code)
	}
}

func TestSessionEnds(t *testing.T) {
	ts := newServer(t, func(c *admin.Config) { c.SessionTTL = time.Hour })
	c := ts.login(t, superuser, superPassword)
	if res := ts.get(t, c, recordsPath); res.code != http.StatusOK {
		t.Fatalf("records: %d", res.code)
	}
	ts.clock.Add(time.Hour)
	res := ts.get(t, c, recordsPath)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/admin/login/?next="+url.QueryEscape(recordsPath) {
		t.Errorf("after the TTL: %d to %q, want the login", res.code, res.header.Get("Location"))
	}
}

func TestLogout(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	u, _ := url.Parse(ts.URL + "/admin/")
	token := c.Jar.Cookies(u)[0]
	res := ts.post(t, c, "/admin/logout/", nil)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != "/admin/login/" {
		t.Fatalf("logout: %d to %q", res.code, res.header.Get("Location"))
	}
	if res := ts.get(t, c, "/admin/login/"); res.code != http.StatusOK || !strings.Contains(res.body, `<p class="flash" role="status">You are logged out.</p>`) {
		t.Errorf("login page after logout: %d\n%s", res.code, res.body)
	}
	// The old cookie, replayed, opens nothing.
	replay := ts.client(t)
	replay.Jar.SetCookies(u, []*http.Cookie{token})
	if res := ts.get(t, replay, recordsPath); res.code != http.StatusSeeOther {
		t.Errorf("replayed session: %d, want 303 to the login", res.code)
	}
}

func TestCrossSiteRequestsRefused(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	for _, header := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site"},
		{"Origin", "http://evil.example"},
	} {
		for _, path := range []string{recordsPath, recordsPath + "3/delete/", "/admin/logout/", "/admin/login/"} {
			res := ts.post(t, c, path, url.Values{"action": {"delete_selected"}, "_selected_action": {"3"}, "post": {"yes"},
				"username": {superuser}, "password": {superPassword}}, header...)
			if res.code != http.StatusForbidden || !strings.Contains(res.body, "This request came from another site, so it was refused.") {
				t.Errorf("POST %s with %v: %d, want 403", path, header, res.code)
			}
		}
	}
	if res := ts.get(t, c, recordsPath+"3/change/"); res.code != http.StatusOK {
		t.Errorf("record 3: %d: a cross-site request deleted it, or logged out", res.code)
	}
	// The same form from the admin's own pages passes.
	res := ts.post(t, c, recordsPath+"3/delete/", nil, "Sec-Fetch-Site", "same-origin", "Origin", ts.URL)
	if res.code != http.StatusSeeOther {
		t.Errorf("same-origin delete: %d, want 303", res.code)
	}
}

// TestCountBudget: a count that takes longer than the budget is not
// waited for; the page says what it knows.
func TestCountBudget(t *testing.T) {
	ts := newServer(t, func(c *admin.Config) { c.CountBudget = time.Nanosecond })
	c := ts.login(t, superuser, superPassword)
	res := ts.get(t, c, recordsPath+"?q=diskus")
	if want := `<p class="count" id="count">more than 100 matching records</p>`; res.code != http.StatusOK || !strings.Contains(res.body, want) {
		t.Errorf("?q=diskus: %d, no %s", res.code, want)
	}
}

func TestListSortsAndFilters(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	all := func(seeded) bool { return true }
	byNameAsc := func(keep func(seeded) bool) []int64 {
		var recs []seeded
		for _, r := range ts.records {
			if keep(r) {
				recs = append(recs, r)
			}
		}
		slices.SortStableFunc(recs, func(a, b seeded) int {
			if a.name != b.name {
				return strings.Compare(a.name, b.name)
			}
			return a.created.Compare(b.created) // ties in the same direction, then id
		})
		var out []int64
		for _, r := range recs {
			out = append(out, r.id)
		}
		return out
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	in := func(t, from, to time.Time) bool { return !t.Before(from) && t.Before(to) }
	ordered := func(from, to int64) []int64 {
		var out []int64
		for id := from; id != to; id += cmpSign(to - from) {
			out = append(out, id)
		}
		return out
	}
	tests := []struct {
		query string
		want  []int64
	}{
		{"", ts.where(all)},
		{"o=1", ordered(1, 455)},
		{"o=-1", ordered(454, 0)},
		{"o=2", byNameAsc(all)},
		{"o=2.-5", byNameAsc(all)}, // Django's several columns: the first sorts
		{"o=-5", ts.where(all)},
		{"status__exact=0", ts.where(func(r seeded) bool { return r.status == 0 })},
		{"status__exact=1&name__exact=RedisHealthCheck", ts.where(func(r seeded) bool { return r.status == 1 && r.name == "RedisHealthCheck" })},
		{"message__exact=" + url.QueryEscape("unavailable: Connection refused"), ts.where(func(r seeded) bool { return r.message == "unavailable: Connection refused" })},
		{"q=REFUSED", ts.where(func(r seeded) bool { return strings.Contains(r.message, "refused") })},
		{"q=diskus", ts.where(func(r seeded) bool { return r.name == "DiskUsage" })},
		{"q=%25", ts.where(func(r seeded) bool { return strings.Contains(r.message, "%") })}, // a literal %, not a wildcard
		{"q=91.2%25", ts.where(func(r seeded) bool { return strings.Contains(r.message, "91.2%") })},
		{"created_at__gte=2024-05-01+00%3A00%3A00%2B00%3A00&created_at__lt=2024-06-01+00%3A00%3A00%2B00%3A00",
			ts.where(func(r seeded) bool { return in(r.created, day(2024, 5, 1), day(2024, 6, 1)) })},
		{"created_at__gte=2024-05-01+00:00:00+00:00&created_at__lt=2024-05-02", []int64{2}}, // a + left unescaped is a space
		{"created_at__date__gte=2024-04-01&created_at__date__lte=2024-05-01", []int64{2, 1}},
		{"created_at__lte=2024-05-01T10:00:00Z", []int64{2, 1}},
		{"created_at__lt=2024-05-01T10:00:00Z", []int64{1}},
		{"updated_at__gte=" + url.QueryEscape(now.Add(-5*time.Minute+time.Second).Format(time.RFC3339)),
			ts.where(func(r seeded) bool { return !r.updated.Before(now.Add(-5*time.Minute + time.Second)) })},
		{"name__exact=DiskUsage&created_at__gte=" + url.QueryEscape(first.Add(diskWarnFrom*time.Minute).Format("2006-01-02 15:04:05")) +
			"&created_at__lt=" + url.QueryEscape(first.Add(diskWarnTo*time.Minute).Format("2006-01-02 15:04:05")),
			ts.where(func(r seeded) bool { return r.name == "DiskUsage" && r.level == "warning" })},
	}
	for _, tc := range tests {
		res := ts.get(t, c, recordsPath+"?"+tc.query)
		if res.code != http.StatusOK {
			t.Errorf("?%s: %d\n%s", tc.query, res.code, res.body)
			continue
		}
		equalIDs(t, "?"+tc.query, ids(t, res.body), firstN(tc.want, 100))
		count := fmt.Sprintf("%d matching records", len(tc.want))
		switch {
		case tc.query == "" || strings.HasPrefix(tc.query, "o="):
			count = "454 records"
		case len(tc.want) == 1:
			count = "1 matching record"
		}
		if !strings.Contains(res.body, `<p class="count" id="count">`+count+`</p>`) {
			t.Errorf("?%s: count is not %q", tc.query, count)
		}
	}
	if n := len(ts.where(func(r seeded) bool { return r.status == 0 })); n != 21 {
		t.Errorf("%d failures seeded, want 21", n)
	}
}

func cmpSign(n int64) int64 {
	if n < 0 {
		return -1
	}
	return 1
}

func TestListLinks(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	res := ts.get(t, c, recordsPath+"?status__exact=0&q=refused&o=-2")
	for _, want := range []string{
		// The sort headers keep the filters; the sorted one flips.
		`<th scope="col" class="col-name" aria-sort="descending"><a href="/admin/django_health_check_job/heathcheckjob/?o=2&amp;q=refused&amp;status__exact=0">Name<span class="arrow" aria-hidden="true">▼</span></a></th>`,
		`<th scope="col" class="col-id"><a href="/admin/django_health_check_job/heathcheckjob/?o=1&amp;q=refused&amp;status__exact=0">ID</a></th>`,
		// The chips remove one filter each.
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?o=-2&amp;q=refused" title="Remove this filter">Status: 0 · failed<span aria-hidden="true"> ×</span>`,
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?o=-2&amp;status__exact=0" title="Remove this filter">Search: refused<span aria-hidden="true"> ×</span>`,
		// The sidebar: values with counts, the chosen one marked.
		`<li class="selected"><a href="/admin/django_health_check_job/heathcheckjob/?o=-2&amp;q=refused&amp;status__exact=0" aria-current="true"><span class="label">0 · failed</span><span class="n">21</span></a></li>`,
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?name__exact=RedisHealthCheck&amp;o=-2&amp;q=refused&amp;status__exact=0"><span class="label">RedisHealthCheck</span><span class="n">150</span></a></li>`,
		// Django's date filter links.
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?created_at__gte=2024-05-15&#43;00%3A00%3A00%2B00%3A00&amp;created_at__lt=2024-05-16&#43;00%3A00%3A00%2B00%3A00&amp;o=-2&amp;q=refused&amp;status__exact=0"><span class="label">Today</span></a></li>`,
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?created_at__gte=2024-05-08&#43;00%3A00%3A00%2B00%3A00&amp;created_at__lt=2024-05-16&#43;00%3A00%3A00%2B00%3A00&amp;o=-2&amp;q=refused&amp;status__exact=0"><span class="label">Past 7 days</span></a></li>`,
		`<li><a href="/admin/django_health_check_job/heathcheckjob/?created_at__gte=2024-05-01&#43;00%3A00%3A00%2B00%3A00&amp;created_at__lt=2024-06-01&#43;00%3A00%3A00%2B00%3A00&amp;o=-2&amp;q=refused&amp;status__exact=0"><span class="label">This month</span></a></li>`,
		// The exports take the same filters.
		`<a class="button" href="/admin/django_health_check_job/heathcheckjob/export.csv?o=-2&amp;q=refused&amp;status__exact=0" download>Export CSV</a>`,
		// The search form keeps the other filters.
		`<input type="hidden" name="status__exact" value="0">`,
		// A record's link keeps the list, for the way back.
		`<a href="/admin/django_health_check_job/heathcheckjob/` + strconv.FormatInt(ts.where(func(r seeded) bool { return r.status == 0 && r.name == "RedisHealthCheck" })[0], 10) +
			`/change/?_changelist_filters=o%3D-2%26q%3Drefused%26status__exact%3D0">`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("list lacks\n%s", want)
		}
	}
	// A chosen date filter is marked, and its chip says the range.
	res = ts.get(t, c, recordsPath+"?created_at__gte=2024-05-01+00%3A00%3A00%2B00%3A00&created_at__lt=2024-06-01+00%3A00%3A00%2B00%3A00")
	for _, want := range []string{
		`aria-current="true"><span class="label">This month</span></a></li>`,
		`title="Remove this filter">Created from 2024-05-01 to before 2024-06-01<span aria-hidden="true"> ×</span>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("date-filtered list lacks\n%s", want)
		}
	}
}

func TestListBadParameters(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	for query, msg := range map[string]string{
		"status__exact=passed":      `Status filter &#34;passed&#34;: want 0 (failed) or 1 (passed).`,
		"o=9":                       `Sorting o=9: want a column number from 1 to 6, negative for descending, such as o=-5.`,
		"created_at__gte=yesterday": `Date filter created_at__gte=yesterday: want a date such as 2024-05-01 or a time such as 2024-05-01 12:00:00&#43;00:00.`,
		"level__exact=ok":           `Unknown filter &#34;level__exact&#34;: left out.`,
		"after=bm9wZQ":              `That page link is out of date: here is the first page.`,
	} {
		res := ts.get(t, c, recordsPath+"?"+query)
		if res.code != http.StatusBadRequest || !strings.Contains(res.body, `<p class="error" role="alert">`+msg+`</p>`) {
			t.Errorf("?%s: %d, want 400 saying %s", query, res.code, msg)
		}
		equalIDs(t, "?"+query, ids(t, res.body), firstN(ts.where(func(seeded) bool { return true }), 100))
	}
}

func TestSearchLikeSQL(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	sqlRecord := ts.where(func(r seeded) bool { return r.message == sqlMessage })
	for _, q := range []string{`x' OR '1'='1`, `'1'='1; DROP TABLE`, `DROP TABLE django_health_check_job_heathcheckjob; --`} {
		res := ts.get(t, c, recordsPath+"?q="+url.QueryEscape(q))
		if res.code != http.StatusOK {
			t.Errorf("q=%s: %d", q, res.code)
		}
		equalIDs(t, "q="+q, ids(t, res.body), sqlRecord)
	}
	for _, q := range []string{`"`, `' OR 1=1 --`, `");--`, `\`, `_`, `*`, `NEAR(a b)`, `working" OR "x`, `%' --`} {
		res := ts.get(t, c, recordsPath+"?q="+url.QueryEscape(q))
		if res.code != http.StatusOK {
			t.Errorf("q=%s: %d\n%s", q, res.code, res.body)
		}
		want := ts.where(func(r seeded) bool {
			return strings.Contains(strings.ToLower(r.name), strings.ToLower(q)) || strings.Contains(strings.ToLower(r.message), strings.ToLower(q))
		})
		equalIDs(t, "q="+q, ids(t, res.body), firstN(want, 100))
	}
	if res := ts.get(t, c, recordsPath); len(ids(t, res.body)) != 100 {
		t.Error("the table is gone")
	}
}

func TestScriptInMessageIsText(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	id := ts.where(func(r seeded) bool { return r.message == scriptMessage })[0]
	escaped := `unexpected result: &lt;script&gt;document.title=&#34;owned&#34;&lt;/script&gt;`
	for _, path := range []string{recordsPath, recordsPath + "?q=script", recordsPath + strconv.FormatInt(id, 10) + "/change/",
		recordsPath + strconv.FormatInt(id, 10) + "/history/", "/admin/dashboard/"} {
		res := ts.get(t, c, path)
		if res.code != http.StatusOK || !strings.Contains(res.body, escaped) || strings.Contains(res.body, "<script>document") {
			t.Errorf("%s: %d; the message is not shown as text", path, res.code)
		}
	}
}

func TestPagination(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	for _, query := range []string{"", "o=2", "o=-4&q=e", "status__exact=1&o=6"} {
		var got []int64
		path := recordsPath + "?" + query
		pages := 0
		for path != "" {
			res := ts.get(t, c, path)
			if res.code != http.StatusOK {
				t.Fatalf("%s: %d", path, res.code)
			}
			page := ids(t, res.body)
			if len(page) > 100 || (len(page) < 100 && next(res.body) != "") {
				t.Fatalf("%s: %d rows and a next page", path, len(page))
			}
			if pages > 0 && !strings.Contains(res.body, "« First page</a>") {
				t.Errorf("%s: no link to the first page", path)
			}
			got = append(got, page...)
			path = next(res.body)
			pages++
		}
		// Every record once, in the order of the first page's sort.
		res := ts.get(t, c, recordsPath+"export.json?"+query)
		var want []struct{ ID int64 }
		if err := json.Unmarshal([]byte(res.body), &want); err != nil {
			t.Fatal(err)
		}
		var wantIDs []int64
		for _, w := range want {
			wantIDs = append(wantIDs, w.ID)
		}
		equalIDs(t, "pages of ?"+query, got, wantIDs)
		sorted := slices.Clone(got)
		slices.Sort(sorted)
		if len(slices.Compact(sorted)) != len(got) {
			t.Errorf("?%s: a record on two pages", query)
		}
	}
}

func TestRecordAndHistory(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	down := ts.where(func(r seeded) bool { return r.name == "RedisHealthCheck" && r.status == 0 })
	id := strconv.FormatInt(down[0], 10) // the last failure, at minute 119
	res := ts.get(t, c, recordsPath+id+"/change/?_changelist_filters="+url.QueryEscape("status__exact=0"))
	for _, want := range []string{
		`<h1>Record ` + id + ` <span class="pill failed">failed</span></h1>`,
		`<dt>Name</dt><dd><a href="/admin/django_health_check_job/heathcheckjob/?name__exact=RedisHealthCheck" title="Every record of this check">RedisHealthCheck</a></dd>`,
		`<dt>Status</dt><dd>0 <span class="muted">(failed)</span></dd>`,
		`<dt>Message</dt><dd><pre class="message-full">unavailable: Connection refused</pre></dd>`,
		`<dt>Created at</dt><dd><time datetime="2024-05-15T11:29:00Z">2024-05-15 11:29:00 UTC</time></dd>`,
		`<dt>Updated at</dt><dd><time datetime="2024-05-15T11:29:01Z">2024-05-15 11:29:01 UTC</time></dd>`,
		`<dt>Duration</dt><dd>1 ms</dd>`,
		`<dt>Critical</dt><dd>yes: a failure fails the run</dd>`,
		`<a href="/admin/django_health_check_job/heathcheckjob/?status__exact=0">‹ Back to the records</a>`,
		`<a class="button" href="/admin/django_health_check_job/heathcheckjob/` + id + `/history/?_changelist_filters=status__exact%3D0">History</a>`,
		`<a class="button danger" href="/admin/django_health_check_job/heathcheckjob/` + id + `/delete/?_changelist_filters=status__exact%3D0">Delete</a>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("record page lacks\n%s", want)
		}
	}
	if res := ts.get(t, c, recordsPath+id+"/"); res.code != http.StatusFound || res.header.Get("Location") != recordsPath+id+"/change/" {
		t.Errorf("%s/: %d to %q", id, res.code, res.header.Get("Location"))
	}
	for _, bad := range []string{"99999", "x"} {
		res := ts.get(t, c, recordsPath+bad+"/change/")
		if res.code != http.StatusNotFound || !strings.Contains(res.body, `There is no health check record with ID &#34;`+bad+`&#34;. Perhaps it was deleted?`) {
			t.Errorf("record %s: %d", bad, res.code)
		}
	}

	res = ts.get(t, c, recordsPath+id+"/history/") // 24 hours
	at := func(m int) string { return first.Add(time.Duration(m) * time.Minute).Format("2006-01-02 15:04:05") }
	for _, want := range []string{
		`<h1>History of RedisHealthCheck</h1>`,
		`Status changes over the last 24 hours: uptime <strong>86.7%</strong> of 150 runs, 20 failed.`,
		`<a href="/admin/django_health_check_job/heathcheckjob/` + id + `/history/?range=24h" aria-current="true">24 hours</a>`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("history lacks\n%s", want)
		}
	}
	changes := re(`<li class="(\w+)">\s*<span class="pill \w+">\w+</span>\s*<div>\s*<p class="when">(.*?) <a href="[^"]*"><time datetime="[^"]*">([^<]*) UTC</time></a>\s*· ([^<]*)</p>`).FindAllStringSubmatch(res.body, -1)
	var got []string
	for _, m := range changes {
		got = append(got, m[1]+"|"+m[2]+"|"+m[3]+"|"+strings.Join(strings.Fields(m[4]), " "))
	}
	want := []string{
		"passed|Changed|" + at(redisUpAt) + "|for 30 min so far",
		"failed|Changed|" + at(redisDownAt) + "|for 20 min",
		"passed|At the start of the range|" + at(0) + "|for 1 h 40 min",
	}
	if !slices.Equal(got, want) {
		t.Errorf("history:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestExport(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, superuser, superPassword)
	res := ts.get(t, c, recordsPath+"export.csv?status__exact=0&o=1")
	if res.code != http.StatusOK || res.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.header.Get("Content-Disposition") != `attachment; filename="healthjob-records-20240515T120000Z.csv"` {
		t.Fatalf("csv: %d %v", res.code, res.header)
	}
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "id,name,status,message,created_at,updated_at,run_uuid,duration_ms,app_id,level,critical" {
		t.Errorf("header %v", rows[0])
	}
	failed := ts.where(func(r seeded) bool { return r.status == 0 })
	slices.Reverse(failed)
	if len(rows) != len(failed)+1 {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(failed))
	}
	redis := rows[1]
	if redis[0] != strconv.FormatInt(failed[0], 10) || redis[1] != "RedisHealthCheck" || redis[2] != "0" || redis[3] != "unavailable: Connection refused" ||
		redis[4] != first.Add(redisDownAt*time.Minute).Format("2006-01-02T15:04:05.000000Z") || len(redis[6]) != 36 || redis[7] != "3" ||
		redis[8] != "" || redis[9] != "failure" || redis[10] != "true" {
		t.Errorf("first row %q", redis)
	}
	if last := rows[len(rows)-1]; last[1] != "ScriptCheck" || last[3] != scriptMessage {
		t.Errorf("last row %q", last)
	}

	res = ts.get(t, c, recordsPath+"export.json?q="+url.QueryEscape("DROP TABLE"))
	var got []map[string]any
	if err := json.Unmarshal([]byte(res.body), &got); err != nil || res.header.Get("Content-Type") != "application/json" {
		t.Fatalf("json: %v %q", err, res.body)
	}
	if len(got) != 1 || got[0]["name"] != "SQLCheck" || got[0]["message"] != sqlMessage || got[0]["status"] != 1.0 ||
		got[0]["created_at"] != "2024-05-15T11:59:30.000000Z" || got[0]["updated_at"] != "2024-05-15T11:59:31.000000Z" {
		t.Errorf("json %v", got)
	}
	if res := ts.get(t, c, recordsPath+"export.json?name__exact=Nothing"); res.body != "[]\n" {
		t.Errorf("empty json %q", res.body)
	}
	if res := ts.get(t, c, recordsPath+"export.csv?o=x"); res.code != http.StatusBadRequest {
		t.Errorf("bad filter: %d", res.code)
	}
}

func TestDelete(t *testing.T) {
	ts := newServer(t)
	doomed := ts.where(func(r seeded) bool { return r.name == "ScriptCheck" || r.name == "SQLCheck" })
	form := url.Values{"action": {"delete_selected"}, "_selected_action": {strconv.FormatInt(doomed[0], 10), strconv.FormatInt(doomed[1], 10)}}
	list := recordsPath + "?q=check"

	// A user who is no superuser reads, but does not delete.
	bob := ts.login(t, reader, readerPassword)
	if res := ts.get(t, bob, recordsPath); strings.Contains(res.body, "delete_selected") || strings.Contains(res.body, "_selected_action") {
		t.Error("bob is offered to delete")
	}
	for _, path := range []string{list, recordsPath + "453/delete/"} {
		if res := ts.post(t, bob, path, form); res.code != http.StatusForbidden || !strings.Contains(res.body, "Only a superuser may delete records.") {
			t.Errorf("bob posts %s: %d", path, res.code)
		}
	}

	ada := ts.login(t, superuser, superPassword)
	res := ts.post(t, ada, list, url.Values{"action": {"delete_selected"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != list {
		t.Errorf("nothing selected: %d to %q", res.code, res.header.Get("Location"))
	}
	if res := ts.get(t, ada, list); !strings.Contains(res.body, "Items must be selected in order to perform actions on them. No items have been changed.") {
		t.Error("no message when nothing is selected")
	}
	// First a confirmation, which deletes nothing.
	res = ts.post(t, ada, list, form)
	for _, want := range []string{
		"<h1>Are you sure?</h1>",
		`<form method="post" action="/admin/django_health_check_job/heathcheckjob/?q=check" class="buttons">`,
		`<input type="hidden" name="_selected_action" value="453">`, `<input type="hidden" name="_selected_action" value="454">`,
		`<input type="hidden" name="post" value="yes">`,
		`Record 453</a>: ScriptCheck <span class="pill failed">failed</span>`,
	} {
		if res.code != http.StatusOK || !strings.Contains(res.body, want) {
			t.Errorf("confirmation (%d) lacks %s", res.code, want)
		}
	}
	if res := ts.get(t, ada, recordsPath+"453/change/"); res.code != http.StatusOK {
		t.Fatalf("the confirmation deleted: %d", res.code)
	}
	form.Set("post", "yes")
	res = ts.post(t, ada, list, form)
	if res.code != http.StatusSeeOther || res.header.Get("Location") != list {
		t.Errorf("delete: %d to %q", res.code, res.header.Get("Location"))
	}
	res = ts.get(t, ada, list)
	if !strings.Contains(res.body, `<p class="flash" role="status">Successfully deleted 2 health check records.</p>`) {
		t.Error("no message after deleting")
	}
	for _, id := range doomed {
		if res := ts.get(t, ada, recordsPath+strconv.FormatInt(id, 10)+"/change/"); res.code != http.StatusNotFound {
			t.Errorf("record %d after its deletion: %d", id, res.code)
		}
	}

	// One record from its page.
	res = ts.get(t, ada, recordsPath+"5/delete/?_changelist_filters=o%3D1")
	if !strings.Contains(res.body, `<form method="post" action="/admin/django_health_check_job/heathcheckjob/5/delete/?_changelist_filters=o%3D1" class="buttons">`) {
		t.Errorf("delete page:\n%s", res.body)
	}
	res = ts.post(t, ada, recordsPath+"5/delete/?_changelist_filters=o%3D1", url.Values{"post": {"yes"}})
	if res.code != http.StatusSeeOther || res.header.Get("Location") != recordsPath+"?o=1" {
		t.Errorf("delete one: %d to %q", res.code, res.header.Get("Location"))
	}
	if got := ids(t, ts.get(t, ada, recordsPath+"?o=1").body)[:4]; !slices.Equal(got, []int64{1, 2, 3, 4}) || ts.get(t, ada, recordsPath+"5/change/").code != http.StatusNotFound {
		t.Errorf("after deleting 5: %v", got)
	}
}

func TestDashboard(t *testing.T) {
	ts := newServer(t)
	c := ts.login(t, reader, readerPassword)
	res := ts.get(t, c, "/admin/dashboard/")
	if res.code != http.StatusOK || !strings.Contains(res.body, `<meta http-equiv="refresh" content="30">`) {
		t.Fatalf("dashboard: %d\n%s", res.code, res.body)
	}
	rows := re(`<tr class="(\w+)">\s*<th scope="row" class="check-name"><a href="[^"]*">([^<]*)</a>[\s\S]*?<td data-label="Since"><time [^>]*>([^<]*)</time></td>\s*<td class="num" data-label="Uptime 24 h">([^<]*)</td>`).FindAllStringSubmatch(res.body, -1)
	var got []string
	for _, m := range rows {
		got = append(got, strings.Join(m[1:], "|"))
	}
	want := []string{
		"failed|ScriptCheck|30 s|0%", // failing first
		"passed|DatabaseBackend|25 d 2 h|100%",
		"passed|DiskUsage|1 h 40 min|100%", // since its warning ended
		"passed|RedisHealthCheck|30 min|86.7%",
		"passed|SQLCheck|30 s|100%",
	}
	if !slices.Equal(got, want) {
		t.Errorf("dashboard rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(res.body, `5 checks ·
      <strong class="bad">1 failing</strong>
      · last run 30 s ago`) {
		t.Error("summary")
	}
	// The status bar of Redis: 48 runs, the last 30 passed after 18 failed.
	redisBar := re(`aria-label="History of RedisHealthCheck: last 48 runs: 30 passed, 0 with a warning, 18 failed"`)
	if !redisBar.MatchString(res.body) {
		t.Error("Redis's status bar")
	}
	res = ts.get(t, c, "/admin/dashboard/?refresh=off")
	if strings.Contains(res.body, `http-equiv="refresh"`) || !strings.Contains(res.body, `<a class="button" href="/admin/dashboard/">Refresh every 30 s</a>`) {
		t.Error("refresh=off still refreshes")
	}
}

func TestStaticFiles(t *testing.T) {
	ts := newServer(t)
	c := ts.client(t)
	login := ts.get(t, c, "/admin/login/").body
	css := re(`href="(/admin/static/[0-9a-f]{12}/admin.css)"`).FindStringSubmatch(login)
	if css == nil {
		t.Fatal("no stylesheet link")
	}
	res := ts.get(t, c, css[1])
	if res.code != http.StatusOK || res.header.Get("Content-Type") != "text/css; charset=utf-8" ||
		res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(res.body, "prefers-color-scheme: dark") {
		t.Errorf("%s: %d %v", css[1], res.code, res.header)
	}
	if res := ts.get(t, c, "/admin/static/000000000000/admin.css"); res.code != http.StatusNotFound {
		t.Errorf("stale hash: %d, want 404", res.code)
	}
}

func TestOff(t *testing.T) {
	srv := httptest.NewServer(admin.Off("PERSIST_HEALTH_CHECK_DATA is off, so there are no records to show."))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+recordsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := do(t, http.DefaultClient, req)
	if res.code != http.StatusServiceUnavailable || res.header.Get("Content-Security-Policy") != csp ||
		!strings.Contains(res.body, "<h1>The admin is off</h1>\n  <p>PERSIST_HEALTH_CHECK_DATA is off, so there are no records to show.</p>") {
		t.Errorf("off: %d\n%s", res.code, res.body)
	}
	css := re(`href="(/admin/static/[0-9a-f]{12}/admin.css)"`).FindStringSubmatch(res.body)
	if css == nil {
		t.Fatal("no stylesheet")
	}
	req, err = http.NewRequest(http.MethodGet, srv.URL+css[1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if res := do(t, http.DefaultClient, req); res.code != http.StatusOK || res.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("the stylesheet of the off page: %d %s", res.code, res.header.Get("Content-Type"))
	}
}
