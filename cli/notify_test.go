package cli_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/healthjob/healthjob/healthjobtest"
)

// receiver is a webhook that records what it is posted, answering with
// status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
	sigs   []string
	got    chan struct{}
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{got: make(chan struct{}, 100)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.bodies = append(r.bodies, string(body))
		r.sigs = append(r.sigs, req.Header.Get("X-Healthjob-Signature"))
		r.mu.Unlock()
		w.WriteHeader(status)
		r.got <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// message is a notification as the receiver got it.
type message struct {
	Event, App, Check, State, Message string
}

func (r *receiver) message(t *testing.T, i int) message {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	var m message
	if err := json.Unmarshal([]byte(r.bodies[i]), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNotifyTest(t *testing.T) {
	ok, refusing := newReceiver(t, http.StatusOK), newReceiver(t, http.StatusForbidden)
	dir := t.TempDir()
	writeConfig(t, dir, fmt.Sprintf(`SYNC_APP_ID: shop
NOTIFICATIONS:
  - {url: "%s/hook", secret: "hmac-key"}
  - {url: "%s/hook"}
`, ok.URL, refusing.URL))

	r := healthjob(t, dir, nil, "notify", "test", ok.URL+"/by-url")
	if r.code != 0 || r.stdout != "sent a test notification to "+ok.URL+"/*****\n" {
		t.Errorf("notify test URL: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = healthjob(t, dir, nil, "notify", "test", "1")
	if r.code != 0 {
		t.Errorf("notify test 1: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := ok.message(t, 1); got != (message{"test", "shop", "healthjob", "ok", "a test notification from healthjob: this notifier works"}) {
		t.Errorf("the receiver got %+v", got)
	}
	ok.mu.Lock()
	mac := hmac.New(sha256.New, []byte("hmac-key"))
	mac.Write([]byte(ok.bodies[1]))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); ok.sigs[0] != "" || ok.sigs[1] != want {
		t.Errorf("signatures %q, want none by URL and %s for item 1, which has a secret", ok.sigs, want)
	}
	ok.mu.Unlock()

	failures := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"notify", "test", "2"}, 1, "healthjob notify: test notification to " + refusing.URL + "/*****: POST " + refusing.URL + ": 403 Forbidden: \n"},
		{[]string{"notify", "test", "3"}, 2, "healthjob notify: NOTIFICATIONS has 2 items; there is no item 3\n"},
		{[]string{"notify", "test", "gopher://x/y"}, 2, "healthjob notify: notifier URL \"gopher://x/*****\": unknown scheme gopher; want http(s)://, slack://, smtp(s):// or one of shoutrrr's: bark, "},
		{[]string{"notify", "test"}, 2, "healthjob notify: want one notifier: a URL, or the number of an item of NOTIFICATIONS (1 is the first)\n"},
		{[]string{"notify"}, 2, "healthjob notify: want `healthjob notify test URL|N`: send a test notification to a notifier's URL, or to the Nth of NOTIFICATIONS\n"},
		{[]string{"notify", "test", "http://" + healthjobtest.ClosedPort(t) + "/h"}, 1, "healthjob notify: test notification to http://"},
	}
	for _, f := range failures {
		r := healthjob(t, dir, nil, f.args...)
		if r.code != f.code || !strings.HasPrefix(r.stderr, f.stderr) {
			t.Errorf("%v: exit %d\n%s\nwant exit %d and\n%s", f.args, r.code, r.stderr, f.code, f.stderr)
		}
	}
}

// TestMonitorNotifies: a check that fails for failure_threshold cycles in
// a row is notified once; `healthjob status` shows its state.
func TestMonitorNotifies(t *testing.T) {
	hook := newReceiver(t, http.StatusOK)
	dir := t.TempDir()
	writeConfig(t, dir, fmt.Sprintf(`HEALTH_CHECK_INTERVAL: 0.2
SYNC_APP_ID: shop
NOTIFICATIONS:
  - {url: "%s/hook", checks: "Cache*"}
checks:
  - {type: tcp, name: Cache, url: "tcp://%s", failure_threshold: 2}
  - {type: storage, path: %s}
`, hook.URL, healthjobtest.ClosedPort(t), dir))
	cmd, stdout, stderr := startMonitor(t, dir, nil)
	<-hook.got
	stdout.waitFor(t, "Cache", 4) // and no second notification: it is still failing
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.text())
	}
	hook.mu.Lock()
	n := len(hook.bodies)
	hook.mu.Unlock()
	m := hook.message(t, 0)
	if n != 1 || m.Event != "triggered" || m.App != "shop" || m.Check != "Cache" || m.State != "failing" || !strings.HasPrefix(m.Message, "unavailable: ") {
		t.Errorf("%d notifications, the first %+v; want 1, Cache triggered failing", n, m)
	}
	r := healthjob(t, dir, nil, "status")
	for _, want := range []string{
		"lease:       none (HA_LOCK_URL is not set): every monitor runs its cycles\n",
		"checks of app \"shop\":\n  Cache                    failing  since ",
		"\n  DefaultFileStorageHealthCheck ok       since ",
		"notifiers:\n  " + hook.URL + "/*****",
		"checks Cache*, from failure on: 0 queued\n",
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("status: exit %d\n%s%s\nwant it to contain %q", r.code, r.stdout, r.stderr, want)
		}
	}
}

func TestNotifySettingsErrors(t *testing.T) {
	tests := []struct{ yaml, stderr string }{
		{"NOTIFICATIONS:\n  - {url: \"https://x/h\", severity: page}\n",
			"healthjob.yaml:1: NOTIFICATIONS: item 1: severity: want warning or failure, got \"page\"\n"},
		{"NOTIFICATIONS:\n  - {url: \"https://x/h\"}\n  - {checks: Redis*}\n",
			"healthjob.yaml:1: NOTIFICATIONS: item 2: url is missing; want the notifier's URL, e.g. https://example.com/hook or slack://hooks.slack.com/services/…\n"},
		{"MAINTENANCE:\n  - {cron: \"0 2 * * 8\", duration: 1h}\n",
			"healthjob.yaml:1: MAINTENANCE: item 1: cron \"0 2 * * 8\": day of week: 8 is out of range 0-7\n"},
		{"HEALTH_CHECK_FAILURE_THRESHOLD: 0\n", "healthjob.yaml:1: HEALTH_CHECK_FAILURE_THRESHOLD: must be 1 or more, got 0\n"},
		{"HA_LOCK_URL: mysql://root@db/x\n", "healthjob.yaml:1: HA_LOCK_URL: want postgres://user:pass@host:5432/db or redis://host:6379/0, got \"mysql://root@db/x\"\n"},
		{"HA_LOCK_URL: redis://127.0.0.1:6379/0\n", "HA_LOCK_NAME: setting is not set; HA_LOCK_URL is set and needs the lease's name, or SYNC_APP_ID\n"},
		{"checks:\n  - {type: disk, success_threshold: 0}\n", "healthjob.yaml:2: checks[1] (disk): success_threshold: must be 1 or more, got 0\n"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		writeConfig(t, dir, tt.yaml)
		r := healthjob(t, dir, nil, "config", "--validate")
		if want := "healthjob config: " + tt.stderr; r.code != 2 || r.stderr != want {
			t.Errorf("%s: exit %d\n%s\nwant exit 2 and\n%s", tt.yaml, r.code, r.stderr, want)
		}
	}
	// Shown, the notifiers' secrets are masked.
	dir := t.TempDir()
	writeConfig(t, dir, "NOTIFICATIONS:\n  - {url: \"https://hooks.example.com/T0/B0/XXXX\", secret: hmac-key, checks: Redis*}\n")
	r := healthjob(t, dir, nil, "config")
	want := "NOTIFICATIONS:\n    - checks: Redis*\n      secret: '*****'\n      url: https://hooks.example.com/*****\n"
	if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "XXXX") || strings.Contains(r.stdout, "hmac-key") {
		t.Errorf("config: exit %d\n%s\nwant it to contain\n%s", r.code, r.stdout, want)
	}
}

// TestNotifierRemoved: notifications queued for a notifier that is then
// removed from NOTIFICATIONS are kept, counted by `status` and told of
// when the monitor starts.
func TestNotifierRemoved(t *testing.T) {
	dir := t.TempDir()
	config := `HEALTH_CHECK_INTERVAL: 0.2
SYNC_APP_ID: shop
NOTIFICATIONS:
  - {url: "%s"}
checks:
  - {type: tcp, name: Cache, url: "tcp://` + healthjobtest.ClosedPort(t) + `", failure_threshold: 1}
`
	writeConfig(t, dir, fmt.Sprintf(config, "http://"+healthjobtest.ClosedPort(t)+"/hook"))
	cmd, _, stderr := startMonitor(t, dir, nil)
	stderr.waitFor(t, "outbox: delivery failed, will retry", 1)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, stderr.text())
	}

	hook := newReceiver(t, http.StatusOK)
	writeConfig(t, dir, fmt.Sprintf(config, hook.URL+"/other"))
	r := healthjob(t, dir, nil, "status")
	if want := fmt.Sprintf("  %-40s 1 queued\n", "notifiers no longer in NOTIFICATIONS:"); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("status: exit %d\n%s%s\nwant it to contain %q", r.code, r.stdout, r.stderr, want)
	}
	cmd, _, stderr = startMonitor(t, dir, nil)
	stderr.waitFor(t, `level=WARN msg="notify: notifications wait for notifiers that are not in NOTIFICATIONS; they are kept and go if one comes back" queued=1`, 1)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit: %v\n%s", err, stderr.text())
	}
}
