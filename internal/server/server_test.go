package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/server"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/internal/testdb"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// openStore returns a migrated store on a new database of engine.
func openStore(t testing.TB, engine string) *store.DB {
	t.Helper()
	url := "sqlite:" + filepath.Join(t.TempDir(), "serve.db")
	if engine == "postgres" {
		url = testdb.Postgres(t, testdb.PostgresURL, "healthjob_serve", "serve on PostgreSQL")
	}
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// newServer starts a server of cfg, closed after the test.
func newServer(t *testing.T, cfg server.Config) *server.Server {
	cfg.Logger = slogDiscard()
	srv := server.New(cfg)
	t.Cleanup(srv.Close)
	return srv
}

func eachEngine(t *testing.T, f func(t *testing.T, engine string)) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { f(t, engine) })
	}
}

type answer struct {
	code   int
	body   string
	header http.Header
}

// do sends a request with header pairs ("Name", "value", …).
func do(t *testing.T, method, url, body string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, string(b), resp.Header}
}

const jsonType = "application/json"

// body is a valid payload of app with one check per name, all working.
func body(uuid, app string, names ...string) string {
	var checks []string
	for _, n := range names {
		checks = append(checks, `{"name": "`+n+`", "status": 1, "message": "working"}`)
	}
	return `{"uuid": "` + uuid + `", "timestamp": "2023-11-20T12:00:00.000000", "sync_app_id": "` + app + `", "checks": [` + strings.Join(checks, ", ") + `]}`
}

func uuid(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func errorJSON(field, msg string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(map[string]string{"error": field + ": " + msg, "field": field})
	return b.String()
}

func countRecords(t *testing.T, db *store.DB) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + store.Table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestIngestHTTP: a new payload answers 202, a duplicate 200; every class
// of bad input answers its status with a JSON error naming the field, and
// stores nothing.
func TestIngestHTTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := openStore(t, engine)
		_, key, err := db.CreateAPIKey(ctx, "billing")
		if err != nil {
			t.Fatal(err)
		}
		revoked, revokedKey, err := db.CreateAPIKey(ctx, "billing")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.RevokeAPIKey(ctx, revoked.ID); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(newServer(t, server.Config{Store: db, OpenApps: []string{"legacy-billing"}}).Handler())
		defer ts.Close()
		metrics := ts.URL + "/v1/metrics"
		auth := "Bearer " + key

		if a := do(t, "POST", metrics, body(uuid(1), "billing", "DatabaseBackend", "DiskUsage"), "Content-Type", jsonType, "Authorization", auth); a.code != 202 ||
			a.body != `{"uuid":"`+uuid(1)+`","duplicate":false}`+"\n" || a.header.Get("Content-Type") != jsonType {
			t.Errorf("new payload: %d %s", a.code, a.body)
		}
		if a := do(t, "POST", metrics, body(uuid(1), "billing", "DatabaseBackend", "DiskUsage"), "Content-Type", "application/json; charset=utf-8", "Authorization", auth); a.code != 200 ||
			a.body != `{"uuid":"`+uuid(1)+`","duplicate":true}`+"\n" {
			t.Errorf("duplicate: %d %s", a.code, a.body)
		}
		if a := do(t, "POST", metrics, body(uuid(2), "legacy-billing", "DatabaseBackend"), "Content-Type", jsonType); a.code != 202 {
			t.Errorf("an open app without a key: %d %s", a.code, a.body)
		}

		for _, tt := range badInputs {
			if a := do(t, "POST", metrics, tt.body, "Content-Type", jsonType, "Authorization", auth); a.code != 400 || a.body != errorJSON(tt.field, tt.msg) {
				t.Errorf("%s: %d %s\nwant 400 %s", tt.name, a.code, a.body, errorJSON(tt.field, tt.msg))
			}
		}
		huge := body(uuid(3), "billing", "a") + strings.Repeat(" ", server.MaxBody)
		for _, tt := range []struct {
			name, body string
			header     []string
			code       int
			want       string
		}{
			{"body over 1 MiB", huge, []string{"Authorization", auth}, 413, errorJSON("body", fmt.Sprintf("want at most 1048576 bytes (1 MiB), got %d", len(huge)))},
			{"text/plain", body(uuid(3), "billing", "a"), []string{"Content-Type", "text/plain", "Authorization", auth}, 415, errorJSON("Content-Type", `want application/json, got "text/plain"`)},
			{"no content type", body(uuid(3), "billing", "a"), []string{"Content-Type", "", "Authorization", auth}, 415, errorJSON("Content-Type", `want application/json, got ""`)},
			{"no key", body(uuid(3), "billing", "a"), nil, 401, errorJSON("Authorization", "no API key; create one for \"billing\" with `healthjob apikey create`")},
			{"wrong key", body(uuid(3), "billing", "a"), []string{"Authorization", auth + "x"}, 401, errorJSON("Authorization", "unknown or revoked API key")},
			{"revoked key", body(uuid(3), "billing", "a"), []string{"Authorization", "Bearer " + revokedKey}, 401, errorJSON("Authorization", "unknown or revoked API key")},
			{"not a bearer", body(uuid(3), "billing", "a"), []string{"Authorization", "Basic YTpi"}, 401, errorJSON("Authorization", `want "Bearer <API key>"`)},
			{"another app's key", body(uuid(3), "payroll", "a"), []string{"Authorization", auth}, 403, errorJSON("sync_app_id", `the API key is for "billing", not "payroll"`)},
		} {
			header := append([]string{"Content-Type", jsonType}, tt.header...)
			if a := do(t, "POST", metrics, tt.body, header...); a.code != tt.code || a.body != tt.want {
				t.Errorf("%s: %d %s\nwant %d %s", tt.name, a.code, a.body, tt.code, tt.want)
			}
		}
		// A body that announces no length and runs past 1 MiB.
		req, _ := http.NewRequest("POST", metrics, io.MultiReader(strings.NewReader(huge), strings.NewReader("}")))
		req.ContentLength = -1
		req.Header.Set("Content-Type", jsonType)
		req.Header.Set("Authorization", auth)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := errorJSON("body", "want at most 1048576 bytes (1 MiB), got more"); resp.StatusCode != 413 || string(got) != want {
			t.Errorf("chunked body over 1 MiB: %d %s, want 413 %s", resp.StatusCode, got, want)
		}
		if a := do(t, "GET", metrics, ""); a.code != 405 {
			t.Errorf("GET /v1/metrics: %d", a.code)
		}
		if n := countRecords(t, db); n != 3 {
			t.Errorf("%d records, want 3: only the accepted payloads", n)
		}
	})
}

// TestHeartbeatHTTP: POST /v1/heartbeat stores a run with no checks, once
// by its uuid, under the key's rules; a payload with checks, or a bad
// field, is refused naming it, and no record is ever written.
func TestHeartbeatHTTP(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := openStore(t, engine)
		_, key, err := db.CreateAPIKey(ctx, "billing")
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(newServer(t, server.Config{Store: db}).Handler())
		defer ts.Close()
		heartbeat := ts.URL + "/v1/heartbeat"
		auth := "Bearer " + key
		beat := func(uuid, app, checks string) string {
			return `{"uuid": "` + uuid + `", "timestamp": "2023-11-20T12:00:00.000000", "sync_app_id": "` + app + `"` + checks + `}`
		}
		for _, tt := range []struct {
			name, body string
			header     []string
			code       int
			want       string
		}{
			{"empty checks", beat(uuid(1), "billing", `, "checks": []`), nil, 202, `{"uuid":"` + uuid(1) + `","duplicate":false}` + "\n"},
			{"again", beat(uuid(1), "billing", `, "checks": []`), nil, 200, `{"uuid":"` + uuid(1) + `","duplicate":true}` + "\n"},
			{"no checks field", beat(uuid(2), "billing", ""), nil, 202, `{"uuid":"` + uuid(2) + `","duplicate":false}` + "\n"},
			{"with checks", beat(uuid(3), "billing", `, "checks": [{"name": "a", "status": 1, "message": ""}]`), nil, 400,
				errorJSON("checks", "want none in a heartbeat, got an array; POST a run with checks to /v1/metrics")},
			{"checks null", beat(uuid(3), "billing", `, "checks": null`), nil, 400,
				errorJSON("checks", "want none in a heartbeat, got null; POST a run with checks to /v1/metrics")},
			{"bad uuid", beat("1", "billing", ""), nil, 400, errorJSON("uuid", `want a UUID such as 550e8400-e29b-41d4-a716-446655440000, got "1"`)},
			{"missing app", `{"uuid": "` + uuid(3) + `", "timestamp": "2023-11-20T12:00:00"}`, nil, 400, errorJSON("sync_app_id", "missing")},
			{"another app's key", beat(uuid(3), "payroll", ""), nil, 403, errorJSON("sync_app_id", `the API key is for "billing", not "payroll"`)},
			{"no key", beat(uuid(3), "billing", ""), []string{"Authorization", ""}, 401,
				errorJSON("Authorization", "no API key; create one for \"billing\" with `healthjob apikey create`")},
		} {
			header := append([]string{"Content-Type", jsonType, "Authorization", auth}, tt.header...)
			if a := do(t, "POST", heartbeat, tt.body, header...); a.code != tt.code || a.body != tt.want {
				t.Errorf("%s: %d %s\nwant %d %s", tt.name, a.code, a.body, tt.code, tt.want)
			}
		}
		var runs, checks int
		if err := db.SQL().QueryRow(`SELECT count(*), coalesce(sum(checks), 0) FROM `+store.RunTable).Scan(&runs, &checks); err != nil || runs != 2 || checks != 0 {
			t.Errorf("%d runs with %d checks stored (%v), want the 2 heartbeats with none", runs, checks, err)
		}
		if n := countRecords(t, db); n != 0 {
			t.Errorf("%d records, want none", n)
		}
	})
}

// TestSignature: with a signing key, a payload sent with an API key must be
// signed, recently; a replay within the window is a duplicate, stored once.
func TestSignature(t *testing.T) {
	db := openStore(t, "sqlite")
	_, key, err := db.CreateAPIKey(context.Background(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
	ts := httptest.NewServer(newServer(t, server.Config{Store: db, OpenApps: []string{"legacy"}, SigningKey: "s3cret",
		Now: func() time.Time { return now }}).Handler())
	defer ts.Close()
	post := func(b, signature string) answer {
		h := []string{"Content-Type", jsonType, "Authorization", "Bearer " + key}
		if signature != "" {
			h = append(h, outbox.SignatureHeader, signature)
		}
		return do(t, "POST", ts.URL+"/v1/metrics", b, h...)
	}
	b := body(uuid(1), "billing", "DatabaseBackend")
	for _, tt := range []struct {
		name, signature string
		code            int
		want            string
	}{
		{"unsigned", "", 401, errorJSON(outbox.SignatureHeader, "no X-Healthjob-Signature header")},
		{"malformed", "t=now,v1=zz", 401, errorJSON(outbox.SignatureHeader, "want t=<unix seconds>,v1=<hex HMAC-SHA256 of t.body>")},
		{"another key", outbox.Sign("guess", now, []byte(b)), 401, errorJSON(outbox.SignatureHeader, "the signature does not match the body")},
		{"another body", outbox.Sign("s3cret", now, []byte(b+" ")), 401, errorJSON(outbox.SignatureHeader, "the signature does not match the body")},
		{"stale", outbox.Sign("s3cret", now.Add(-6*time.Minute), []byte(b)), 401,
			errorJSON(outbox.SignatureHeader, "signed at 2023-11-20T11:54:00Z, more than 5m0s from now: a replay, or a clock out of step")},
		{"valid", outbox.Sign("s3cret", now.Add(-time.Minute), []byte(b)), 202, `{"uuid":"` + uuid(1) + `","duplicate":false}` + "\n"},
		{"replayed", outbox.Sign("s3cret", now.Add(-time.Minute), []byte(b)), 200, `{"uuid":"` + uuid(1) + `","duplicate":true}` + "\n"},
	} {
		if a := post(b, tt.signature); a.code != tt.code || a.body != tt.want {
			t.Errorf("%s: %d %s\nwant %d %s", tt.name, a.code, a.body, tt.code, tt.want)
		}
	}
	if a := do(t, "POST", ts.URL+"/v1/metrics", body(uuid(2), "legacy", "a"), "Content-Type", jsonType); a.code != 202 {
		t.Errorf("an open app needs no signature: %d %s", a.code, a.body)
	}
	if n := countRecords(t, db); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
}

// TestStatusAPI: the apps, their checks' state and a check's history, read
// with an app's key, a key for every app, or an admin session.
func TestStatusAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		db := openStore(t, engine)
		_, billing, _ := db.CreateAPIKey(ctx, "billing")
		_, all, _ := db.CreateAPIKey(ctx, store.AllApps)
		srv := newServer(t, server.Config{Store: db, Session: func(r *http.Request) bool {
			c, err := r.Cookie("session")
			return err == nil && c.Value == "admin"
		}})
		ts := httptest.NewServer(srv.Handler())
		defer ts.Close()
		post := func(b string) {
			t.Helper()
			if a := do(t, "POST", ts.URL+"/v1/metrics", b, "Content-Type", jsonType, "Authorization", "Bearer "+all); a.code != 202 {
				t.Fatalf("%d %s", a.code, a.body)
			}
		}
		for i, status := range []int{1, 0, 0} {
			post(fmt.Sprintf(`{"uuid": "%s", "timestamp": "2023-11-20T12:00:0%d", "sync_app_id": "billing", "checks": [
				{"name": "DatabaseBackend", "status": %d, "message": "m%d"}, {"name": "Cache backend: default", "status": 1, "message": "working"}]}`,
				uuid(i+1), i, status, i))
		}
		post(body(uuid(9), "payroll", "DiskUsage"))

		get := func(path string, header ...string) answer { return do(t, "GET", ts.URL+path, "", header...) }
		asBilling, asAll := []string{"Authorization", "Bearer " + billing}, []string{"Authorization", "Bearer " + all}
		for _, tt := range []struct {
			name, path string
			header     []string
			code       int
			want       string
		}{
			{"apps, every one", "/v1/apps", asAll, 200,
				`{"apps":[{"app":"billing","checks":2,"failing":1,"checked_at":"2023-11-20T12:00:02Z"},{"app":"payroll","checks":1,"failing":0,"checked_at":"2023-11-20T12:00:00Z"}]}`},
			{"apps, an admin session", "/v1/apps", []string{"Cookie", "session=admin"}, 200,
				`{"apps":[{"app":"billing","checks":2,"failing":1,"checked_at":"2023-11-20T12:00:02Z"},{"app":"payroll","checks":1,"failing":0,"checked_at":"2023-11-20T12:00:00Z"}]}`},
			{"apps, one app's key", "/v1/apps", asBilling, 200, `{"apps":[{"app":"billing","checks":2,"failing":1,"checked_at":"2023-11-20T12:00:02Z"}]}`},
			{"checks", "/v1/apps/billing/checks", asBilling, 200, `{"app":"billing","checks":[` +
				`{"name":"Cache backend: default","status":1,"level":"ok","message":"working","checked_at":"2023-11-20T12:00:02Z","changed_at":"2023-11-20T12:00:00Z","run":"` + uuid(3) + `"},` +
				`{"name":"DatabaseBackend","status":0,"level":"failure","message":"m2","checked_at":"2023-11-20T12:00:02Z","changed_at":"2023-11-20T12:00:01Z","run":"` + uuid(3) + `"}]}`},
			{"history", "/v1/apps/billing/checks/DatabaseBackend/history?limit=2", asAll, 200, `{"app":"billing","name":"DatabaseBackend","records":[` +
				`{"id":ID,"status":0,"level":"failure","message":"m2","created_at":"2023-11-20T12:00:02Z","run":"` + uuid(3) + `"},` +
				`{"id":ID,"status":0,"level":"failure","message":"m1","created_at":"2023-11-20T12:00:01Z","run":"` + uuid(2) + `"}],"next":"CURSOR"}`},
			{"history, escaped name", "/v1/apps/billing/checks/Cache%20backend:%20default/history", asAll, 200, `{"app":"billing","name":"Cache backend: default","records":[` +
				`{"id":ID,"status":1,"level":"ok","message":"working","created_at":"2023-11-20T12:00:02Z","run":"` + uuid(3) + `"},` +
				`{"id":ID,"status":1,"level":"ok","message":"working","created_at":"2023-11-20T12:00:01Z","run":"` + uuid(2) + `"},` +
				`{"id":ID,"status":1,"level":"ok","message":"working","created_at":"2023-11-20T12:00:00Z","run":"` + uuid(1) + `"}],"next":""}`},
			{"no key", "/v1/apps", nil, 401, errorJSON("Authorization", "no API key")},
			{"wrong key", "/v1/apps", []string{"Authorization", "Bearer nope"}, 401, errorJSON("Authorization", "unknown or revoked API key")},
			{"another app", "/v1/apps/payroll/checks", asBilling, 403, errorJSON("app", `the API key is for "billing", not "payroll"`)},
			{"another app's history", "/v1/apps/payroll/checks/DiskUsage/history", asBilling, 403, errorJSON("app", `the API key is for "billing", not "payroll"`)},
			{"unknown app", "/v1/apps/nobody/checks", asAll, 404, errorJSON("app", `"nobody" has reported no checks`)},
			{"unknown check", "/v1/apps/billing/checks/Nope/history", asAll, 404, errorJSON("name", `"Nope" of "billing" has no records`)},
			{"bad limit", "/v1/apps/billing/checks/DatabaseBackend/history?limit=0", asAll, 400, errorJSON("limit", `want a number from 1 to 1000, got "0"`)},
			{"bad cursor", "/v1/apps/billing/checks/DatabaseBackend/history?after=nope", asAll, 400, errorJSON("after", `not a cursor of this history: "nope"`)},
		} {
			a := get(tt.path, tt.header...)
			got := a.body
			if a.code == 200 && strings.Contains(tt.want, "ID") {
				got = normalise(t, got)
			}
			if a.code != tt.code || strings.TrimSuffix(got, "\n") != strings.TrimSuffix(tt.want, "\n") {
				t.Errorf("%s: %d %s\nwant %d %s", tt.name, a.code, got, tt.code, tt.want)
			}
		}
		// The next page carries on from the cursor.
		var first struct{ Next string }
		json.Unmarshal([]byte(get("/v1/apps/billing/checks/DatabaseBackend/history?limit=2", asAll...).body), &first)
		next := get("/v1/apps/billing/checks/DatabaseBackend/history?limit=2&after="+url.QueryEscape(first.Next), asAll...)
		if got := normalise(t, next.body); got != `{"app":"billing","name":"DatabaseBackend","records":[{"id":ID,"status":1,"level":"ok","message":"m0","created_at":"2023-11-20T12:00:00Z","run":"`+uuid(1)+`"}],"next":""}` {
			t.Errorf("second page: %d %s", next.code, got)
		}
	})
}

// normalise replaces the ids and a non-empty cursor of an answer, which
// differ between engines, with ID and CURSOR.
func normalise(t *testing.T, s string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	out := s
	if next, _ := v["next"].(string); next != "" {
		out = strings.Replace(out, `"next":"`+next+`"`, `"next":"CURSOR"`, 1)
	}
	records, _ := v["records"].([]any)
	for _, r := range records {
		id := r.(map[string]any)["id"].(float64)
		out = strings.Replace(out, fmt.Sprintf(`"id":%d,`, int64(id)), `"id":ID,`, 1)
	}
	return strings.TrimSuffix(out, "\n")
}

// TestDatabaseDown: a server whose database fails answers 503 with a
// Retry-After, so that monitors keep the payload and retry.
func TestDatabaseDown(t *testing.T) {
	db := openStore(t, "sqlite")
	_, key, _ := db.CreateAPIKey(context.Background(), "billing")
	ts := httptest.NewServer(newServer(t, server.Config{Store: db, OpenApps: []string{"legacy"}}).Handler())
	defer ts.Close()
	if a := do(t, "GET", ts.URL+"/readyz", ""); a.code != 200 || a.body != `{"status":"ok"}`+"\n" {
		t.Errorf("readyz: %d %s", a.code, a.body)
	}
	db.Close()
	want := `{"error":"the database is unavailable; retry later"}` + "\n"
	for _, h := range [][]string{{"Authorization", "Bearer " + key}, nil} {
		a := do(t, "POST", ts.URL+"/v1/metrics", body(uuid(1), "legacy", "a"), append([]string{"Content-Type", jsonType}, h...)...)
		if a.code != 503 || a.header.Get("Retry-After") != "5" || a.body != want {
			t.Errorf("POST %v: %d %q %s", h, a.code, a.header.Get("Retry-After"), a.body)
		}
	}
	if a := do(t, "GET", ts.URL+"/readyz", ""); a.code != 503 || a.body != `{"error":"database: sql: database is closed","status":"unavailable"}`+"\n" {
		t.Errorf("readyz: %d %s", a.code, a.body)
	}
	if a := do(t, "GET", ts.URL+"/livez", ""); a.code != 200 {
		t.Errorf("livez: %d", a.code)
	}
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestGracefulShutdown: a request in flight when the server is told to stop
// is answered; new connections are refused; Serve returns nil.
func TestGracefulShutdown(t *testing.T) {
	db := openStore(t, "sqlite")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	arrived := make(chan struct{})
	h := newServer(t, server.Config{Store: db, OpenApps: []string{"legacy"}}).Handler()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- server.Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			h.ServeHTTP(w, r)
		}), 10*time.Second, slogDiscard())
	}()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/metrics", pr)
	req.Header.Set("Content-Type", jsonType)
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- answer{body: err.Error()}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{code: resp.StatusCode, body: string(b)}
	}()
	b := body(uuid(1), "legacy", "a")
	pw.Write([]byte(b[:20]))
	<-arrived
	stop() // SIGTERM, in serve
	// Wait until the listener is closed: the shutdown has begun.
	for {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	pw.Write([]byte(b[20:]))
	pw.Close()
	if a := <-answered; a.code != 202 {
		t.Errorf("the request in flight: %d %s", a.code, a.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	if n := countRecords(t, db); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
}
