// Package config reads healthjob's settings: a YAML file whose top-level keys
// are the spec's setting names, overridden by environment variables of the
// same names, with ${VAR} expansion in the file and NAME_FILE secrets. It
// decodes strictly, so every mistake is reported as one line that names the
// setting and, for the file, its line. It knows nothing of the check types:
// each check's options stay raw until its constructor decodes them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/healthjob/healthjob/internal/notify/routing"
	"go.yaml.in/yaml/v3"
)

// DefaultFile is read when no file is named and it exists.
const DefaultFile = "healthjob.yaml"

// Config holds every setting. The yaml tag of a field is both its key in the
// file and the name of the environment variable that overrides it.
type Config struct {
	// The spec's settings.
	HealthCheckInterval    Duration `yaml:"HEALTH_CHECK_INTERVAL"`
	PersistHealthCheckData bool     `yaml:"PERSIST_HEALTH_CHECK_DATA"`
	SyncHealthCheckData    bool     `yaml:"SYNC_HEALTH_CHECK_DATA"`
	SyncServerURL          string   `yaml:"SYNC_SERVER_URL" secret:"url"`
	SyncAppID              string   `yaml:"SYNC_APP_ID"`

	// django-health-check's settings.
	DiskUsageMax     float64             `yaml:"DISK_USAGE_MAX"`
	MemoryMin        float64             `yaml:"MEMORY_MIN"`
	WarningsAsErrors bool                `yaml:"WARNINGS_AS_ERRORS"`
	Subsets          map[string][]string `yaml:"SUBSETS"`
	MailTimeout      Duration            `yaml:"MAIL_TIMEOUT"`

	// Celery, as django-health-check's celery and celery_ping read them.
	BrokerURL           string   `yaml:"BROKER_URL" secret:"url"`
	CeleryBrokerURL     string   `yaml:"CELERY_BROKER_URL" secret:"url"`
	CeleryResultBackend string   `yaml:"CELERY_RESULT_BACKEND" secret:"url"`
	CeleryTimeout       Duration `yaml:"HEALTHCHECK_CELERY_TIMEOUT"`
	CeleryResultTimeout Duration `yaml:"HEALTHCHECK_CELERY_RESULT_TIMEOUT"`
	CeleryQueueTimeout  Duration `yaml:"HEALTHCHECK_CELERY_QUEUE_TIMEOUT"`
	CeleryPriority      *int     `yaml:"HEALTHCHECK_CELERY_PRIORITY"`
	CeleryPingTimeout   Duration `yaml:"HEALTHCHECK_CELERY_PING_TIMEOUT"`

	// healthjob's own settings.
	DatabaseURL            string   `yaml:"DATABASE_URL" secret:"url"`
	DatabaseAutoMigrate    bool     `yaml:"DATABASE_AUTO_MIGRATE"`
	HealthCheckTimeout     Duration `yaml:"HEALTH_CHECK_TIMEOUT"`
	HealthCheckConcurrency int      `yaml:"HEALTH_CHECK_CONCURRENCY"`
	SyncTimeout            Duration `yaml:"SYNC_TIMEOUT"`
	LogLevel               string   `yaml:"LOG_LEVEL"`
	LogFormat              string   `yaml:"LOG_FORMAT"`

	// The health endpoint, the probes and the metrics.
	HealthCheckHTTP            string   `yaml:"HEALTH_CHECK_HTTP"`
	HealthCheckPath            string   `yaml:"HEALTH_CHECK_PATH"`
	HealthCheckOKStatus        int      `yaml:"HEALTH_CHECK_OK_STATUS"`
	HealthCheckErrorStatus     int      `yaml:"HEALTH_CHECK_ERROR_STATUS"`
	HealthCheckLive            bool     `yaml:"HEALTH_CHECK_LIVE"`
	HealthCheckLiveMinInterval Duration `yaml:"HEALTH_CHECK_LIVE_MIN_INTERVAL"`
	MetricsUsername            string   `yaml:"METRICS_USERNAME"`
	MetricsPassword            string   `yaml:"METRICS_PASSWORD" secret:"password"`
	MetricsToken               string   `yaml:"METRICS_TOKEN" secret:"token"`

	// Retention of the records: raw records for HEALTH_CHECK_RETENTION (0
	// keeps them forever), hourly roll-ups for HEALTH_CHECK_ROLLUP_RETENTION
	// (0: no roll-ups).
	HealthCheckRetention       Duration `yaml:"HEALTH_CHECK_RETENTION"`
	HealthCheckRollupRetention Duration `yaml:"HEALTH_CHECK_ROLLUP_RETENTION"`

	// The admin web UI.
	AdminSessionTTL     Duration `yaml:"ADMIN_SESSION_TTL"`
	AdminSecureCookies  string   `yaml:"ADMIN_SECURE_COOKIES"`
	AdminTrustedProxies []string `yaml:"ADMIN_TRUSTED_PROXIES"`

	// Alerting and high availability: the thresholds of the alert states
	// (a check may set its own), who is told (items {url, checks,
	// severity, reminder, secret}), when nobody is (items {start, end} or
	// {cron, duration}, with checks and reason), and the lease that makes
	// one monitor of an application active (HA_LOCK_URL postgres://… or
	// redis://…, named HA_LOCK_NAME, else SYNC_APP_ID).
	HealthCheckFailureThreshold int                 `yaml:"HEALTH_CHECK_FAILURE_THRESHOLD"`
	HealthCheckSuccessThreshold int                 `yaml:"HEALTH_CHECK_SUCCESS_THRESHOLD"`
	Notifications               Notifications       `yaml:"NOTIFICATIONS"`
	Maintenance                 []map[string]string `yaml:"MAINTENANCE"`
	HALockURL                   string              `yaml:"HA_LOCK_URL" secret:"url"`
	HALockName                  string              `yaml:"HA_LOCK_NAME"`

	// The outbox, and the monitoring server `healthjob serve`. A payload to
	// sync waits in the records database when persisting, else in the
	// SQLite file SYNC_OUTBOX_PATH ("": healthjob-outbox.db beside a SQLite
	// DATABASE_URL, else in the working directory), which also keeps the
	// runs for a remote DATABASE_URL while it is down; each queue holds
	// at most SYNC_OUTBOX_MAX payloads and SYNC_OUTBOX_MAX_MB megabytes,
	// the oldest dropped beyond. Deliveries are retried after
	// SYNC_BACKOFF_MIN, doubled per failure up to SYNC_BACKOFF_MAX.
	SyncOutboxPath       string   `yaml:"SYNC_OUTBOX_PATH"`
	SyncOutboxMax        int      `yaml:"SYNC_OUTBOX_MAX"`
	SyncOutboxMaxMB      float64  `yaml:"SYNC_OUTBOX_MAX_MB"`
	SyncBackoffMin       Duration `yaml:"SYNC_BACKOFF_MIN"`
	SyncBackoffMax       Duration `yaml:"SYNC_BACKOFF_MAX"`
	SyncAPIKey           string   `yaml:"SYNC_API_KEY" secret:"token"`
	SyncSigningKey       string   `yaml:"SYNC_SIGNING_KEY" secret:"token"`
	ServeHTTP            string   `yaml:"SERVE_HTTP"`
	ServeOpenApps        []string `yaml:"SERVE_OPEN_APPS"`
	ServeSigningKey      string   `yaml:"SERVE_SIGNING_KEY" secret:"token"`
	ServeSignatureMaxAge Duration `yaml:"SERVE_SIGNATURE_MAX_AGE"`

	// Checks lists the checks to run; nil means the default set.
	Checks []Check `yaml:"checks"`

	// File is the file the settings were read from, "" for none.
	File string `yaml:"-"`

	// sources tells where each setting given was read: "file:line" or
	// "environment", so that a problem found later points at its origin.
	sources map[string]string
}

// Default returns the settings of a fresh install: the spec's defaults, a
// SQLite database in the working directory, and no checks declared.
func Default() *Config {
	return &Config{
		HealthCheckInterval: Duration(5 * time.Second),
		DiskUsageMax:        90,
		MemoryMin:           100,
		WarningsAsErrors:    true,
		MailTimeout:         Duration(15 * time.Second),
		CeleryTimeout:       Duration(3 * time.Second),
		CeleryPingTimeout:   Duration(time.Second),
		DatabaseURL:         "sqlite:healthjob.db",
		DatabaseAutoMigrate: true,
		HealthCheckTimeout:  Duration(10 * time.Second),
		SyncTimeout:         Duration(5 * time.Second),
		LogLevel:            "info",
		LogFormat:           "text",

		HealthCheckPath:            "/ht/",
		HealthCheckOKStatus:        200,
		HealthCheckErrorStatus:     500,
		HealthCheckLiveMinInterval: Duration(time.Second),

		HealthCheckRollupRetention: Duration(400 * 24 * time.Hour),

		AdminSessionTTL:     Duration(12 * time.Hour),
		AdminSecureCookies:  "auto",
		AdminTrustedProxies: []string{"127.0.0.0/8", "::1/128"},

		HealthCheckFailureThreshold: 3,
		HealthCheckSuccessThreshold: 2,

		SyncOutboxMax:        100000,
		SyncOutboxMaxMB:      256,
		SyncBackoffMin:       Duration(time.Second),
		SyncBackoffMax:       Duration(time.Minute),
		ServeHTTP:            ":8000",
		ServeSignatureMaxAge: Duration(5 * time.Minute),
	}
}

// DefaultChecks is the set that runs when the configuration declares none:
// only checks that need no outside service, so a new install works at once.
func DefaultChecks() []Check {
	return []Check{{Type: "db"}, {Type: "db_heartbeat"}, {Type: "storage"}, {Type: "disk"}, {Type: "memory"}}
}

// Load reads the settings: defaults, then the file (path, or DefaultFile when
// path is "" and it exists), then the environment (getenv, usually os.Getenv),
// then validates them. Every error is one line naming the setting.
func Load(path string, getenv func(string) string) (*Config, error) {
	cfg := Default()
	explicit := path != ""
	if !explicit {
		path = DefaultFile
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		cfg.File = path
		if err := cfg.parse(data, getenv); err != nil {
			return nil, err
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("config file: %v", unwrapPath(err))
	}
	if err := cfg.applyEnv(getenv); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %v", pe.Path, pe.Err)
	}
	return err
}

// Parse reads settings from YAML data over the defaults, without the
// environment and without validation; for tests and for embedding.
func Parse(data []byte, getenv func(string) string) (*Config, error) {
	cfg := Default()
	return cfg, cfg.parse(data, getenv)
}

func (c *Config) where(line int) string {
	name := c.File
	if name == "" {
		name = "config"
	}
	return fmt.Sprintf("%s:%d", name, line)
}

func (c *Config) parse(data []byte, getenv func(string) string) error {
	data, err := expand(data, getenv, c.where)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if n, err := fmt.Sscanf(msg, "line %d: ", &line); n == 1 && err == nil {
			_, msg, _ = strings.Cut(msg, ": ")
		}
		return fmt.Errorf("%s: not valid YAML: %s", c.where(line), msg)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file keeps the defaults
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping of settings at the top of the file, got %s", c.where(root.Line), describe(root))
	}
	var checks *yaml.Node
	settings := &yaml.Node{Kind: yaml.MappingNode, Line: root.Line}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "checks" {
			checks = root.Content[i+1]
			continue
		}
		settings.Content = append(settings.Content, root.Content[i], root.Content[i+1])
	}
	if err := decodeMapping(settings, c, c.where); err != nil {
		return err
	}
	for i := 0; i < len(settings.Content); i += 2 {
		c.setSource(settings.Content[i].Value, c.where(settings.Content[i].Line))
	}
	if checks != nil {
		return c.parseChecks(checks)
	}
	return nil
}

var reference = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}`)

// expand replaces ${VAR} and ${VAR:-default} with the environment's values
// and $$ with $. A reference to an unset variable without a default is an
// error rather than a silent empty string.
func expand(data []byte, getenv func(string) string, where func(int) string) ([]byte, error) {
	var missing error
	out := reference.ReplaceAllFunc(data, func(m []byte) []byte {
		if string(m) == "$$" {
			return []byte("$")
		}
		sub := reference.FindSubmatch(m)
		if v := getenv(string(sub[1])); v != "" {
			return []byte(v)
		}
		if bytes.Contains(m, []byte(":-")) {
			return sub[2]
		}
		if missing == nil {
			line := 1 + bytes.Count(data[:bytes.Index(data, m)], []byte("\n"))
			missing = fmt.Errorf("%s: %s is not set in the environment; set it or write ${%s:-default}", where(line), sub[1], sub[1])
		}
		return m
	})
	return out, missing
}

// applyEnv overrides settings from environment variables of the same names.
// NAME_FILE reads a setting from a file, for secrets: a string, or a list
// such as NOTIFICATIONS, whose URLs carry tokens. A mapping or a list of
// mappings is written in YAML or JSON.
func (c *Config) applyEnv(getenv func(string) string) error {
	fields := fieldsByTag(reflect.ValueOf(c).Elem())
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		f := fields[name]
		if name == "checks" {
			continue
		}
		raw, from := getenv(name), "environment"
		listOfMaps := f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Map
		if file := getenv(name + "_FILE"); file != "" && (f.Kind() == reflect.String || listOfMaps) {
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("%s_FILE (environment): %v", name, unwrapPath(err))
			}
			raw, from = strings.TrimRight(string(data), "\r\n"), name+"_FILE"
		}
		if raw == "" {
			continue
		}
		node := &yaml.Node{Kind: yaml.ScalarNode, Value: raw}
		switch {
		case f.Kind() == reflect.Map:
			if err := yaml.Unmarshal([]byte(raw), node); err != nil || len(node.Content) == 0 {
				return fmt.Errorf("%s (%s): want a YAML or JSON mapping such as {\"startup\": [\"DatabaseBackend\"]}, got %q", name, from, raw)
			}
			node = node.Content[0]
		case listOfMaps:
			// The value is not echoed: notifier URLs carry tokens.
			got := "text that is not YAML"
			if err := yaml.Unmarshal([]byte(raw), node); err == nil && len(node.Content) > 0 {
				if node = node.Content[0]; node.Kind == yaml.SequenceNode {
					break
				}
				got = "a mapping"
				if node.Kind != yaml.MappingNode {
					got = "a single value"
				}
			}
			return fmt.Errorf("%s (%s): want a YAML or JSON list of mappings such as [{\"url\": \"https://example.com/hook\"}], got %s", name, from, got)
		}
		if err := decodeValue(node, f); err != nil {
			return fmt.Errorf("%s (%s): %v", name, from, err)
		}
		c.setSource(name, from)
	}
	return nil
}

func (c *Config) setSource(name, where string) {
	if c.sources == nil {
		c.sources = map[string]string{}
	}
	c.sources[name] = where
}

// settingError reports a problem with a setting, prefixed with where it was
// set: "healthjob.yaml:3: NAME: problem" or "NAME (environment): problem".
func (c *Config) settingError(name, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch src := c.sources[name]; {
	case src == "":
		return fmt.Errorf("%s: %s", name, msg)
	case strings.Contains(src, ":"):
		return fmt.Errorf("%s: %s: %s", src, name, msg)
	default:
		return fmt.Errorf("%s (%s): %s", name, src, msg)
	}
}

// Validate reports the first setting that is out of range or missing.
func (c *Config) Validate() error {
	switch {
	case c.HealthCheckInterval <= 0:
		return c.settingError("HEALTH_CHECK_INTERVAL", "must be more than 0 seconds, got %s", c.HealthCheckInterval)
	case c.HealthCheckTimeout <= 0:
		return c.settingError("HEALTH_CHECK_TIMEOUT", "must be more than 0, got %s", c.HealthCheckTimeout)
	case c.SyncTimeout <= 0:
		return c.settingError("SYNC_TIMEOUT", "must be more than 0, got %s", c.SyncTimeout)
	case c.HealthCheckConcurrency < 0:
		return c.settingError("HEALTH_CHECK_CONCURRENCY", "must be 0 (no bound) or more, got %d", c.HealthCheckConcurrency)
	case c.DiskUsageMax <= 0 || c.DiskUsageMax > 100:
		return c.settingError("DISK_USAGE_MAX", "must be a percentage above 0 and at most 100, got %g", c.DiskUsageMax)
	case c.MemoryMin < 0:
		return c.settingError("MEMORY_MIN", "must be 0 MB or more, got %g", c.MemoryMin)
	case !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel):
		return c.settingError("LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	case c.LogFormat != "text" && c.LogFormat != "json":
		return c.settingError("LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	case c.DatabaseURL == "":
		return c.settingError("DATABASE_URL", "must not be empty; the default is sqlite:healthjob.db")
	}
	// The health endpoint, the probes and the metrics.
	if c.HealthCheckHTTP != "" {
		if _, port, err := net.SplitHostPort(c.HealthCheckHTTP); err != nil || port == "" {
			return c.settingError("HEALTH_CHECK_HTTP", "want a listen address host:port such as 127.0.0.1:8000 or :8000, got %q", c.HealthCheckHTTP)
		}
	}
	switch p := c.HealthCheckPath; {
	case !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.ContainsAny(p, "{}?#% \t"):
		return c.settingError("HEALTH_CHECK_PATH", "want a URL path that starts and ends with a slash, such as /ht/, got %q", p)
	case c.HealthCheckOKStatus < 200 || c.HealthCheckOKStatus > 599:
		return c.settingError("HEALTH_CHECK_OK_STATUS", "want an HTTP status code from 200 to 599, got %d", c.HealthCheckOKStatus)
	case c.HealthCheckErrorStatus < 200 || c.HealthCheckErrorStatus > 599:
		return c.settingError("HEALTH_CHECK_ERROR_STATUS", "want an HTTP status code from 200 to 599, got %d", c.HealthCheckErrorStatus)
	case c.HealthCheckLiveMinInterval <= 0:
		return c.settingError("HEALTH_CHECK_LIVE_MIN_INTERVAL", "must be more than 0, got %s", c.HealthCheckLiveMinInterval)
	case c.MetricsUsername != "" && c.MetricsPassword == "":
		return c.settingError("METRICS_PASSWORD", "setting is not set; METRICS_USERNAME is set and needs it")
	case c.MetricsPassword != "" && c.MetricsUsername == "":
		return c.settingError("METRICS_USERNAME", "setting is not set; METRICS_PASSWORD is set and needs it")
	}
	switch r, rr := c.HealthCheckRetention, c.HealthCheckRollupRetention; {
	case r != 0 && r < Duration(time.Hour):
		return c.settingError("HEALTH_CHECK_RETENTION", "must be 0 (keep the records forever) or at least 1h, got %s", r)
	case rr != 0 && rr < Duration(time.Hour):
		return c.settingError("HEALTH_CHECK_ROLLUP_RETENTION", "must be 0 (no roll-ups) or at least 1h, got %s", rr)
	}
	if c.SyncHealthCheckData {
		if c.SyncServerURL == "" {
			return c.settingError("SYNC_SERVER_URL", "setting is not set; SYNC_HEALTH_CHECK_DATA is on and needs the monitoring server's base URL")
		}
		if c.SyncAppID == "" {
			return c.settingError("SYNC_APP_ID", "setting is not set; SYNC_HEALTH_CHECK_DATA is on and needs this application's identifier")
		}
	}
	if c.SyncServerURL != "" {
		u, err := url.Parse(c.SyncServerURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.settingError("SYNC_SERVER_URL", "want an http:// or https:// base URL, got %q", Redact(c.SyncServerURL))
		}
	}
	for subset, names := range c.Subsets {
		if len(names) == 0 {
			return c.settingError("SUBSETS", "subset %q lists no checks", subset)
		}
	}
	switch {
	case c.AdminSessionTTL < Duration(time.Minute):
		return c.settingError("ADMIN_SESSION_TTL", "must be a minute or more, got %s", c.AdminSessionTTL)
	case !slices.Contains([]string{"auto", "true", "false"}, c.AdminSecureCookies):
		return c.settingError("ADMIN_SECURE_COOKIES", "want auto, true or false, got %q", c.AdminSecureCookies)
	case strings.HasPrefix(c.HealthCheckPath, "/admin/"):
		return c.settingError("HEALTH_CHECK_PATH", "%s is below /admin/, the admin UI's; choose another path such as /ht/", c.HealthCheckPath)
	}
	for _, p := range c.AdminTrustedProxies {
		if _, err := ParsePrefix(p); err != nil {
			return c.settingError("ADMIN_TRUSTED_PROXIES", "want IP addresses or CIDR ranges such as 10.0.0.0/8, got %q", p)
		}
	}
	switch {
	case c.HealthCheckFailureThreshold < 1:
		return c.settingError("HEALTH_CHECK_FAILURE_THRESHOLD", "must be 1 or more, got %d", c.HealthCheckFailureThreshold)
	case c.HealthCheckSuccessThreshold < 1:
		return c.settingError("HEALTH_CHECK_SUCCESS_THRESHOLD", "must be 1 or more, got %d", c.HealthCheckSuccessThreshold)
	}
	for i, item := range c.Notifications {
		if _, err := routing.ParseRoute(item); err != nil {
			return c.settingError("NOTIFICATIONS", "item %d: %v", i+1, err)
		}
	}
	for i, item := range c.Maintenance {
		if _, err := routing.ParseWindow(item, time.Local); err != nil {
			return c.settingError("MAINTENANCE", "item %d: %v", i+1, err)
		}
	}
	if c.HALockURL != "" {
		u, err := url.Parse(c.HALockURL)
		switch {
		case err != nil || !slices.Contains([]string{"postgres", "postgresql", "redis", "rediss"}, u.Scheme) || u.Host == "":
			return c.settingError("HA_LOCK_URL", "want postgres://user:pass@host:5432/db or redis://host:6379/0, got %q", Redact(c.HALockURL))
		case c.HALockName == "" && c.SyncAppID == "":
			return c.settingError("HA_LOCK_NAME", "setting is not set; HA_LOCK_URL is set and needs the lease's name, or SYNC_APP_ID")
		}
	}
	for _, ch := range c.Checks {
		if t := ch.FailureThreshold; t != nil && *t < 1 {
			return ch.Errorf("failure_threshold: must be 1 or more, got %d", *t)
		}
		if t := ch.SuccessThreshold; t != nil && *t < 1 {
			return ch.Errorf("success_threshold: must be 1 or more, got %d", *t)
		}
	}
	switch {
	case c.SyncOutboxMax < 1:
		return c.settingError("SYNC_OUTBOX_MAX", "must be 1 payload or more, got %d", c.SyncOutboxMax)
	case c.SyncOutboxMaxMB <= 0:
		return c.settingError("SYNC_OUTBOX_MAX_MB", "must be more than 0 MB, got %g", c.SyncOutboxMaxMB)
	case c.SyncBackoffMin <= 0:
		return c.settingError("SYNC_BACKOFF_MIN", "must be more than 0, got %s", c.SyncBackoffMin)
	case c.SyncBackoffMax < c.SyncBackoffMin:
		return c.settingError("SYNC_BACKOFF_MAX", "must be SYNC_BACKOFF_MIN (%s) or more, got %s", c.SyncBackoffMin, c.SyncBackoffMax)
	case c.ServeSignatureMaxAge <= 0:
		return c.settingError("SERVE_SIGNATURE_MAX_AGE", "must be more than 0, got %s", c.ServeSignatureMaxAge)
	}
	if _, port, err := net.SplitHostPort(c.ServeHTTP); err != nil || port == "" {
		return c.settingError("SERVE_HTTP", "want a listen address host:port such as 127.0.0.1:8000 or :8000, got %q", c.ServeHTTP)
	}
	seen := map[string]bool{}
	for _, ch := range c.Checks {
		if ch.Name == "" {
			continue // the default name is known once the check is built; the registry rejects duplicates then
		}
		if seen[ch.Name] {
			return ch.Errorf("name %q is used by an earlier check; give one of them another name", ch.Name)
		}
		seen[ch.Name] = true
	}
	return nil
}

// ParsePrefix reads an ADMIN_TRUSTED_PROXIES entry: a CIDR range, or one
// address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CheckList returns the declared checks, or the default set when none are.
func (c *Config) CheckList() []Check {
	if c.Checks == nil {
		return DefaultChecks()
	}
	return c.Checks
}

// Redact hides the password of a URL, keeping the rest readable.
func Redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
		return strings.Replace(u.String(), "xxxxx", "*****", 1)
	}
	return s
}

// Redacted returns a copy with every secret masked, for display.
func (c *Config) Redacted() *Config {
	out := *c
	v := reflect.ValueOf(&out).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch tag := v.Type().Field(i).Tag.Get("secret"); {
		case tag == "" || v.Field(i).Kind() != reflect.String || v.Field(i).String() == "":
		case tag == "url":
			v.Field(i).SetString(Redact(v.Field(i).String()))
		default:
			v.Field(i).SetString("*****")
		}
	}
	if c.Checks != nil {
		out.Checks = make([]Check, len(c.Checks))
		for i, ch := range c.Checks {
			out.Checks[i] = ch.redacted()
		}
	}
	return &out
}

// Setting is one effective setting, for `healthjob config`.
type Setting struct {
	Name  string
	Value any
}

// Settings lists the effective settings in the order of the Config type.
func (c *Config) Settings() []Setting {
	v := reflect.ValueOf(c).Elem()
	var out []Setting
	for i := 0; i < v.NumField(); i++ {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
		if tag == "" || tag == "-" || tag == "checks" {
			continue
		}
		val := v.Field(i).Interface()
		if p, ok := val.(*int); ok {
			if p == nil {
				val = nil
			} else {
				val = *p
			}
		}
		out = append(out, Setting{Name: tag, Value: val})
	}
	return out
}

// secretOption tells whether a check option holds a secret by its name.
func secretOption(name string) bool {
	name = strings.ToLower(name)
	return slices.ContainsFunc([]string{"password", "secret", "token", "key"}, func(s string) bool {
		return strings.Contains(name, s)
	})
}

// Notifications is NOTIFICATIONS: one mapping per notifier. Shown, its URLs
// and secrets are masked, since a webhook's path is often its secret.
type Notifications []map[string]string

// MarshalYAML renders the notifiers with their secrets masked.
func (n Notifications) MarshalYAML() (any, error) {
	out := make([]map[string]string, len(n))
	for i, item := range n {
		out[i] = map[string]string{}
		for k, v := range item {
			switch k {
			case "url":
				v = routing.Redact(v)
			case "secret":
				v = "*****"
			}
			out[i][k] = v
		}
	}
	return out, nil
}
