package cli_test

import (
	"bytes"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// createuser runs `healthjob createuser args…` in dir with stdin.
func createuser(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := command(dir, nil, append([]string{"createuser"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout.String(), stderr.String(), code}
}

func TestCreateUser(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "password")
	if err := os.WriteFile(file, []byte("correct horse\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"", []string{"ada", "--superuser", "--password-file", file}, 0,
			"created superuser \"ada\"; log in at /admin/ of `healthjob monitor --http ADDR`\n", ""},
		{"another one\n", []string{"ada"}, 1, "", "healthjob createuser: user \"ada\" exists; pass --update to set its password\n"},
		{"battery staple\n", []string{"--update", "ada"}, 0, "updated user \"ada\"; its sessions have ended\n", ""},
		{"battery staple", []string{"bob"}, 0, "created user \"bob\"; log in at /admin/ of `healthjob monitor --http ADDR`\n", ""},
		{"battery staple\n", []string{"--update", "carol"}, 1, "", "healthjob createuser: no user \"carol\" to update; leave out --update to create it\n"},
		{"", []string{}, 2, "", "healthjob createuser: name the user: healthjob createuser NAME\n"},
		{"", []string{"--superuser"}, 2, "", "healthjob createuser: name the user: healthjob createuser NAME\n"},
		{"battery staple\n", []string{"ada lovelace"}, 2, "", "healthjob createuser: a user name has letters, digits and @ . + - _ only, not ' '\n"},
		{"battery staple\n", []string{"dan", "extra"}, 2, "", "healthjob createuser: unexpected argument \"extra\"; flags go before it? see --help\n"},
		{"short\n", []string{"dan"}, 2, "", "healthjob createuser: the password is too short: it must have 8 characters at least\n"},
		{"", []string{"dan"}, 2, "", "healthjob createuser: no password: run on a terminal to be asked, give --password-file FILE, or pipe it to standard input\n"},
		{"", []string{"dan", "--password-file", filepath.Join(dir, "missing")}, 2, "",
			"healthjob createuser: --password-file: " + filepath.Join(dir, "missing") + ": no such file or directory\n"},
	} {
		r := createuser(t, dir, tc.stdin, tc.args...)
		if r.code != tc.code || r.stdout != tc.stdout || r.stderr != tc.stderr {
			t.Errorf("createuser %q <%q: exit %d\nstdout %q\nstderr %q\nwant exit %d\nstdout %q\nstderr %q",
				tc.args, tc.stdin, r.code, r.stdout, r.stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestMonitorServesAdmin: a user made with createuser logs in to the admin
// of `monitor --http` and sees the records the monitor keeps.
func TestMonitorServesAdmin(t *testing.T) {
	dir := t.TempDir()
	if r := createuser(t, dir, "correct horse\n", "ada"); r.code != 0 {
		t.Fatalf("createuser: %d %s", r.code, r.stderr)
	}
	base, stop, _ := monitorHTTP(t, dir, []string{"PERSIST_HEALTH_CHECK_DATA=true"})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	res, err := c.PostForm(base+"/admin/login/", url.Values{"username": {"ada"}, "password": {"correct horse"}, "next": {"/admin/dashboard/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/admin/dashboard/" {
		t.Fatalf("login: %d at %s", res.StatusCode, res.Request.URL)
	}
	eventually(t, "the records in the admin", func() bool {
		res, err := c.Get(base + "/admin/django_health_check_job/heathcheckjob/?name__exact=DatabaseBackend")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body bytes.Buffer
		if _, err := body.ReadFrom(res.Body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode == http.StatusOK && strings.Contains(body.String(), `<td class="col-name" data-label="Name">DatabaseBackend</td>`)
	})
	if a := get(t, base+"/admin/django_health_check_job/heathcheckjob/"); a.code != http.StatusOK || !strings.Contains(a.body, `<form method="post" action="/admin/login/"`) {
		t.Errorf("without a session: %d, not the login form", a.code)
	}
	if err := stop(); err != nil {
		t.Errorf("monitor: %v", err)
	}

	// Without persistence the admin says so.
	base, stop, _ = monitorHTTP(t, t.TempDir(), nil)
	a := get(t, base+"/admin/")
	if a.code != http.StatusServiceUnavailable || !strings.Contains(a.body, "PERSIST_HEALTH_CHECK_DATA is off, so this monitor keeps no records to show.") {
		t.Errorf("admin without persistence: %d\n%s", a.code, a.body)
	}
	if err := stop(); err != nil {
		t.Errorf("monitor: %v", err)
	}
}

// TestAdminSettings rejects every bad value of the admin's settings with one
// line naming the setting, exit 2.
func TestAdminSettings(t *testing.T) {
	for env, stderr := range map[string]string{
		"ADMIN_SESSION_TTL=10s":                       `ADMIN_SESSION_TTL (environment): must be a minute or more, got 10s`,
		"ADMIN_SESSION_TTL=soon":                      `ADMIN_SESSION_TTL (environment): want a duration such as 30, 10s, 500ms or 30d, got "soon"`,
		"ADMIN_SECURE_COOKIES=yes":                    `ADMIN_SECURE_COOKIES (environment): want auto, true or false, got "yes"`,
		"ADMIN_TRUSTED_PROXIES=10.0.0.0/8,10.1.2.300": `ADMIN_TRUSTED_PROXIES (environment): want IP addresses or CIDR ranges such as 10.0.0.0/8, got "10.1.2.300"`,
		"HEALTH_CHECK_PATH=/admin/ht/":                `HEALTH_CHECK_PATH (environment): /admin/ht/ is below /admin/, the admin UI's; choose another path such as /ht/`,
	} {
		r := healthjob(t, t.TempDir(), []string{env}, "config", "--validate")
		if want := "healthjob config: " + stderr + "\n"; r.code != 2 || r.stderr != want {
			t.Errorf("%s: exit %d, stderr %q, want exit 2 and %q", env, r.code, r.stderr, want)
		}
	}
	r := healthjob(t, t.TempDir(), []string{"ADMIN_SESSION_TTL=8h", "ADMIN_SECURE_COOKIES=true", "ADMIN_TRUSTED_PROXIES=10.0.0.0/8, ::1"}, "config", "--validate")
	if r.code != 0 {
		t.Errorf("good admin settings: exit %d %s", r.code, r.stderr)
	}
}
