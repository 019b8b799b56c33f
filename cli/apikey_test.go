package cli_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestAPIKeyCommand: create prints the key last, once; list shows its
// prefix and state, never the key; revoke revokes; mistakes are usage
// errors with one line.
func TestAPIKeyCommand(t *testing.T) {
	dir := t.TempDir()
	r := healthjob(t, dir, nil, "apikey", "create", "billing")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	key := lines[len(lines)-1]
	if r.code != 0 || len(lines) != 2 || lines[0] != `API key 1 for "billing"; it is shown only this once. Give it to the monitor as SYNC_API_KEY:` ||
		!regexp.MustCompile(`^hj_[A-Za-z0-9_-]{43}$`).MatchString(key) {
		t.Fatalf("create: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := healthjob(t, dir, nil, "apikey", "create", "*"); r.code != 0 || !strings.HasPrefix(r.stdout, "API key 2 for every app;") {
		t.Errorf("create '*': exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := healthjob(t, dir, nil, "apikey", "revoke", "1"); r.code != 0 || r.stdout != "Revoked API key 1 ("+key[:9]+`…) for "billing".`+"\n" {
		t.Errorf("revoke: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = healthjob(t, dir, nil, "apikey", "list")
	list := regexp.MustCompile(`^ID  APP      KEY         CREATED               REVOKED
1   billing  ` + regexp.QuoteMeta(key[:9]) + `…  \S+Z  \S+Z
2   \*        hj_\S{6}…  \S+Z  -
$`)
	if r.code != 0 || !list.MatchString(r.stdout) || strings.Contains(r.stdout, key) {
		t.Errorf("list: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"apikey", "revoke", "1"}, 1, "healthjob apikey: no valid API key 1; see `healthjob apikey list`\n"},
		{[]string{"apikey", "revoke", "one"}, 2, "healthjob apikey: revoke: want the key's ID, a number from `healthjob apikey list`, got \"one\"\n"},
		{[]string{"apikey"}, 2, "healthjob apikey: want create APP, list or revoke ID\n"},
		{[]string{"apikey", "delete", "1"}, 2, "healthjob apikey: want create APP, list or revoke ID\n"},
		{[]string{"apikey", "create"}, 2, "healthjob apikey: create: want one argument, the app id (* for every app); got 0\n"},
		{[]string{"apikey", "list", "all"}, 2, "healthjob apikey: list: want no arguments; got 1\n"},
		{[]string{"apikey", "create", strings.Repeat("a", 101)}, 2, `healthjob apikey: app "` + strings.Repeat("a", 101) + `": want at most 100 characters, got 101` + "\n"},
	} {
		if r := healthjob(t, dir, nil, tt.args...); r.code != tt.code || r.stderr != tt.stderr {
			t.Errorf("%v: exit %d, %q; want %d, %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
}
