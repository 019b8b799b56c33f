package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/config"
)

// load writes yaml to a file named healthjob.yaml in a temporary directory
// and loads it with the given environment.
func load(t *testing.T, yaml string, env map[string]string) (*config.Config, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "healthjob.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func TestDefaults(t *testing.T) {
	t.Chdir(t.TempDir()) // no healthjob.yaml here
	cfg, err := config.Load("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HealthCheckInterval.D() != 5*time.Second || cfg.PersistHealthCheckData || cfg.SyncHealthCheckData ||
		cfg.DiskUsageMax != 90 || cfg.MemoryMin != 100 || !cfg.WarningsAsErrors || cfg.DatabaseURL != "sqlite:healthjob.db" ||
		cfg.HealthCheckTimeout.D() != 10*time.Second || cfg.SyncTimeout.D() != 5*time.Second || cfg.File != "" {
		t.Errorf("defaults = %+v", cfg)
	}
	var types []string
	for _, c := range cfg.CheckList() {
		types = append(types, c.Type)
	}
	if got := strings.Join(types, ","); got != "db,db_heartbeat,storage,disk,memory" {
		t.Errorf("default checks = %s", got)
	}
}

func TestFileAndEnvironment(t *testing.T) {
	yaml := `
HEALTH_CHECK_INTERVAL: 30
PERSIST_HEALTH_CHECK_DATA: true
SYNC_HEALTH_CHECK_DATA: yes
SYNC_SERVER_URL: https://monitor.example.com/
SYNC_APP_ID: ${APP}
DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/app
WARNINGS_AS_ERRORS: false
SUBSETS: {startup: [DatabaseBackend]}
checks:
  - {type: db, url: "postgres://app@db:5432/app"}
  - type: redis
    name: Cache
    critical: false
    timeout: 500ms
    subsets: [liveness]
    url: redis://cache:6379/1
  - {type: exec, command: "echo $$HOME"}
`
	cfg, err := load(t, yaml, map[string]string{
		"APP": "billing", "DB_PASSWORD": "s3cret", "HEALTH_CHECK_INTERVAL": "1m", "DISK_USAGE_MAX": "80.5",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HealthCheckInterval.D() != time.Minute {
		t.Errorf("HEALTH_CHECK_INTERVAL = %s, want 1m: the environment overrides the file", cfg.HealthCheckInterval)
	}
	if !cfg.PersistHealthCheckData || !cfg.SyncHealthCheckData || cfg.SyncAppID != "billing" || cfg.WarningsAsErrors || cfg.DiskUsageMax != 80.5 {
		t.Errorf("settings = %+v", cfg)
	}
	if cfg.DatabaseURL != "postgres://app:s3cret@db:5432/app" {
		t.Errorf("DATABASE_URL = %q: ${VAR} not expanded", cfg.DatabaseURL)
	}
	if got := cfg.Subsets["startup"]; len(got) != 1 || got[0] != "DatabaseBackend" {
		t.Errorf("SUBSETS = %v", cfg.Subsets)
	}
	if len(cfg.Checks) != 3 {
		t.Fatalf("%d checks, want 3", len(cfg.Checks))
	}
	c := cfg.Checks[1]
	if c.Type != "redis" || c.Name != "Cache" || c.Critical == nil || *c.Critical || c.Timeout.D() != 500*time.Millisecond || c.Subsets[0] != "liveness" {
		t.Errorf("check 2 = %+v", c)
	}
	var opts struct {
		URL string `yaml:"url"`
	}
	if err := c.Decode(&opts); err != nil || opts.URL != "redis://cache:6379/1" {
		t.Errorf("Decode = %v, url %q", err, opts.URL)
	}
	var exec struct {
		Command string `yaml:"command"`
	}
	if err := cfg.Checks[2].Decode(&exec); err != nil || exec.Command != "echo $HOME" {
		t.Errorf("$$ escape: command %q, err %v", exec.Command, err)
	}
	red := cfg.Redacted()
	if red.DatabaseURL != "postgres://app:*****@db:5432/app" || cfg.DatabaseURL != "postgres://app:s3cret@db:5432/app" {
		t.Errorf("Redacted DATABASE_URL = %q (original %q)", red.DatabaseURL, cfg.DatabaseURL)
	}
}

func TestSecretFromFile(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "db-url")
	if err := os.WriteFile(secret, []byte("postgres://app:fromfile@db/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, "", map[string]string{"DATABASE_URL_FILE": secret})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://app:fromfile@db/app" {
		t.Errorf("DATABASE_URL = %q, want the file's content without the newline", cfg.DatabaseURL)
	}
}

// TestListsFromEnvironment: NOTIFICATIONS and MAINTENANCE from the
// environment, as YAML or JSON, or from a file with NAME_FILE; they
// replace the file's list.
func TestListsFromEnvironment(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "notifications")
	if err := os.WriteFile(secret, []byte("- url: https://hooks.example.com/T0/B0/XXXX\n  checks: Redis*\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := load(t, "NOTIFICATIONS:\n  - {url: \"https://from.file/hook\"}\n", map[string]string{
		"NOTIFICATIONS_FILE": secret,
		"MAINTENANCE":        `[{"cron": "0 2 * * 0", "duration": "1h", "reason": "weekly backup"}]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.Notifications, cfg.Maintenance); got != "[map[checks:Redis* url:https://hooks.example.com/T0/B0/XXXX]] [map[cron:0 2 * * 0 duration:1h reason:weekly backup]]" {
		t.Errorf("NOTIFICATIONS, MAINTENANCE = %s", got)
	}
	cfg, err = load(t, "", map[string]string{"NOTIFICATIONS": "- {url: \"https://a/hook\", severity: failure}\n- {url: \"slack://hooks.slack.com/services/x\"}"})
	if err != nil || len(cfg.Notifications) != 2 || cfg.Notifications[0]["severity"] != "failure" {
		t.Errorf("NOTIFICATIONS in YAML = %v, %v", cfg.Notifications, err)
	}
	for _, tt := range []struct{ value, want string }{
		{"https://hooks.example.com/T0/B0/XXXX", "NOTIFICATIONS (environment): want a YAML or JSON list of mappings such as [{\"url\": \"https://example.com/hook\"}], got a single value"},
		{`{"url": "https://a/hook"}`, "NOTIFICATIONS (environment): want a YAML or JSON list of mappings such as [{\"url\": \"https://example.com/hook\"}], got a mapping"},
		{`[{"url": "https://a/hook"`, "NOTIFICATIONS (environment): want a YAML or JSON list of mappings such as [{\"url\": \"https://example.com/hook\"}], got text that is not YAML"},
	} {
		if _, err := load(t, "", map[string]string{"NOTIFICATIONS": tt.value}); err == nil || err.Error() != tt.want {
			t.Errorf("NOTIFICATIONS=%s: %v\nwant %s", tt.value, err, tt.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	long := strings.Repeat("x", 51)
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string // the whole message, file path replaced by F
	}{
		{"UnknownKey", "HEALTH_CHECK_INTERVALL: 5\n", nil,
			"F:1: unknown setting HEALTH_CHECK_INTERVALL"},
		{"LowerCaseKey", "health_check_interval: 5\n", nil,
			"F:1: unknown setting health_check_interval (did you mean HEALTH_CHECK_INTERVAL?)"},
		{"WrongType", "HEALTH_CHECK_INTERVAL: soon\n", nil,
			`F:1: HEALTH_CHECK_INTERVAL: want a duration such as 30, 10s, 500ms or 30d, got "soon"`},
		{"WrongBool", "\nPERSIST_HEALTH_CHECK_DATA: maybe\n", nil,
			`F:2: PERSIST_HEALTH_CHECK_DATA: want true or false, got "maybe"`},
		{"WrongList", "SUBSETS: [a, b]\n", nil,
			"F:1: SUBSETS: want a mapping, got a list"},
		{"OutOfRange", "HEALTH_CHECK_INTERVAL: 0\n", nil,
			"F:1: HEALTH_CHECK_INTERVAL: must be more than 0 seconds, got 0s"},
		{"OutOfRangeDisk", "DISK_USAGE_MAX: 120\n", nil,
			"F:1: DISK_USAGE_MAX: must be a percentage above 0 and at most 100, got 120"},
		{"EnvWrongType", "", map[string]string{"HEALTH_CHECK_INTERVAL": "five"},
			`HEALTH_CHECK_INTERVAL (environment): want a duration such as 30, 10s, 500ms or 30d, got "five"`},
		{"EnvOutOfRange", "", map[string]string{"MEMORY_MIN": "-1"},
			"MEMORY_MIN (environment): must be 0 MB or more, got -1"},
		{"SyncWithoutURL", "SYNC_HEALTH_CHECK_DATA: true\nSYNC_APP_ID: a\n", nil,
			"SYNC_SERVER_URL: setting is not set; SYNC_HEALTH_CHECK_DATA is on and needs the monitoring server's base URL"},
		{"SyncWithoutAppID", "SYNC_HEALTH_CHECK_DATA: true\nSYNC_SERVER_URL: http://m\n", nil,
			"SYNC_APP_ID: setting is not set; SYNC_HEALTH_CHECK_DATA is on and needs this application's identifier"},
		{"SyncURLNotHTTP", "SYNC_SERVER_URL: ftp://u:pw@m\n", nil,
			`F:1: SYNC_SERVER_URL: want an http:// or https:// base URL, got "ftp://u:*****@m"`},
		{"NameTooLong", "checks:\n  - {type: db, name: " + long + "}\n", nil,
			"F:2: checks[1] (db): name \"" + long + "\" is 51 characters; at most 50 fit the records table"},
		{"CheckWithoutType", "checks:\n  - {name: x}\n", nil,
			"F:2: checks[1]: type is missing; every check needs one, e.g. type: db"},
		{"CheckNotMapping", "checks:\n  - redis\n", nil,
			`F:2: checks[1]: want a mapping such as {type: redis, url: "redis://localhost:6379"}, got "redis"`},
		{"ChecksNotList", "checks: {type: db}\n", nil,
			"F:1: checks: want a list of checks, each with a type, got a mapping"},
		{"CheckBadTimeout", "checks:\n  - type: db\n    timeout: fast\n", nil,
			`F:3: checks[1] (db): timeout: want a duration such as 30, 10s, 500ms or 30d, got "fast"`},
		{"DuplicateName", "checks:\n  - {type: redis, name: A}\n  - {type: db, name: A}\n", nil,
			`F:3: checks[2] (db): name "A" is used by an earlier check; give one of them another name`},
		{"UnsetVariable", "SYNC_APP_ID: a\nDATABASE_URL: ${NOPE}\n", nil,
			"F:2: NOPE is not set in the environment; set it or write ${NOPE:-default}"},
		{"NotYAML", "a: [\n", nil,
			"F:1: not valid YAML: did not find expected node content"},
		{"NotMapping", "- a\n", nil,
			"F:1: want a mapping of settings at the top of the file, got a list"},
		{"LogLevel", "LOG_LEVEL: loud\n", nil,
			`F:1: LOG_LEVEL: want debug, info, warn or error, got "loud"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.yaml, tt.env)
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			got := err.Error()
			if i := strings.Index(got, "healthjob.yaml:"); i >= 0 {
				got = "F" + got[i+len("healthjob.yaml"):]
			}
			if got != tt.want {
				t.Errorf("error =\n  %s\nwant\n  %s", got, tt.want)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("error spans lines: %q", got)
			}
		})
	}
}

func TestDecodeOptions(t *testing.T) {
	cfg, err := load(t, "checks:\n  - type: disk\n    path: /data\n    max: 80\n  - type: disk\n    pth: /x\n  - type: disk\n    max: lots\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	type diskOptions struct {
		Path string  `yaml:"path"`
		Max  float64 `yaml:"max"`
	}
	var ok diskOptions
	if err := cfg.Checks[0].Decode(&ok); err != nil || ok.Path != "/data" || ok.Max != 80 {
		t.Errorf("Decode = %+v, %v", ok, err)
	}
	var bad diskOptions
	err = cfg.Checks[1].Decode(&bad)
	if err == nil || !strings.HasSuffix(err.Error(), "healthjob.yaml:6: checks[2] (disk): unknown option pth") {
		t.Errorf("unknown option: %v", err)
	}
	err = cfg.Checks[2].Decode(&bad)
	if err == nil || !strings.HasSuffix(err.Error(), `healthjob.yaml:8: checks[3] (disk): max: want a number, got "lots"`) {
		t.Errorf("wrong type: %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := config.Load("/nonexistent/healthjob.yaml", func(string) string { return "" })
	if err == nil || err.Error() != "config file: /nonexistent/healthjob.yaml: no such file or directory" {
		t.Errorf("err = %v", err)
	}
}

func TestDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		str  string
	}{
		{"5", 5 * time.Second, "5s"},
		{"1.5", 1500 * time.Millisecond, "1.5s"},
		{"500ms", 500 * time.Millisecond, "500ms"},
		{"30d", 30 * 24 * time.Hour, "30d"},
		{"1h30m", 90 * time.Minute, "1h30m0s"},
	}
	for _, tt := range tests {
		d, err := config.ParseDuration(tt.in)
		if err != nil || d.D() != tt.want || d.String() != tt.str {
			t.Errorf("ParseDuration(%q) = %v (%s), %v; want %v (%s)", tt.in, d.D(), d, err, tt.want, tt.str)
		}
	}
}
