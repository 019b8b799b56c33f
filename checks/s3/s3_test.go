package s3_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/s3"
	"github.com/healthjob/healthjob/healthjobtest"
)

// The S3 server that .ci/setup.d/versitygw.sh starts. The failure texts
// below are versitygw's own error codes and messages.
var (
	endpoint  = healthjobtest.Env("HEALTHJOB_S3_ENDPOINT", "127.0.0.1:7070")
	accessKey = healthjobtest.Env("HEALTHJOB_S3_ACCESS_KEY", "healthjob")
	secretKey = healthjobtest.Env("HEALTHJOB_S3_SECRET_KEY", "healthjob-secret")
	bucket    = healthjobtest.Env("HEALTHJOB_S3_BUCKET", "healthjob-test")
)

func needS3(t *testing.T) {
	t.Helper()
	host := endpoint
	if _, rest, ok := strings.Cut(endpoint, "://"); ok {
		host = rest
	}
	healthjobtest.NeedService(t, host, "S3 server (versitygw; .ci/setup.d/versitygw.sh starts it)")
}

// config is a healthy configuration for the test server.
func config() s3.Config {
	return s3.Config{
		URL:       "s3://" + bucket + "/healthjob",
		Endpoint:  endpoint,
		AccessKey: accessKey,
		SecretKey: secretKey,
		Insecure:  !strings.Contains(endpoint, "://"),
		PathStyle: true,
	}
}

func mustNew(t *testing.T, cfg s3.Config) *s3.Check {
	t.Helper()
	c, err := s3.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestStatus(t *testing.T) {
	needS3(t)
	down := healthjobtest.ClosedPort(t)
	tests := []struct {
		name   string
		change func(*s3.Config)
		want   string
	}{
		{"healthy", func(*s3.Config) {}, "working"},
		{"no prefix", func(c *s3.Config) { c.URL = "s3://" + bucket }, "working"},
		{"region given", func(c *s3.Config) { c.Region = "us-east-1" }, "working"},
		{"endpoint as URL", func(c *s3.Config) { c.Endpoint, c.Insecure = "http://"+endpoint, false }, "working"},
		{"wrong bucket", func(c *s3.Config) { c.URL = "s3://healthjob-missing/x" },
			"unavailable: Unknown exception: NoSuchBucket: The specified bucket does not exist"},
		{"wrong secret", func(c *s3.Config) { c.SecretKey = "wrong-secret" },
			"unavailable: Unknown exception: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method"},
		{"wrong access key", func(c *s3.Config) { c.AccessKey = "nobody" },
			"unavailable: Unknown exception: XAdminUserNotFound: No user exists with the provided access key ID"},
		{"server down", func(c *s3.Config) { c.Endpoint = down },
			"unavailable: Unknown exception: dial tcp " + down + ": connect: connection refused"},
		{"server hangs", func(c *s3.Config) { c.Endpoint = healthjobtest.Blackhole(t) },
			"unavailable: check timed out after 2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config()
			tt.change(&cfg)
			healthjobtest.AssertStatus(t, mustNew(t, cfg), 2*time.Second, tt.want)
		})
	}
}

// No status text shows a secret key, right or wrong.
func TestNoSecretInStatus(t *testing.T) {
	needS3(t)
	for _, change := range []func(*s3.Config){
		func(c *s3.Config) { c.SecretKey = "wrong-" + c.SecretKey },
		func(c *s3.Config) { c.AccessKey = "nobody" },
		func(c *s3.Config) { c.URL = "s3://healthjob-missing" },
	} {
		cfg := config()
		change(&cfg)
		text, _ := healthjobtest.Result(mustNew(t, cfg), 2*time.Second)
		if text == "working" || strings.Contains(text, cfg.SecretKey) {
			t.Errorf("status %q: want a failure that does not show the secret key", text)
		}
	}
}

// Without keys in the configuration the check takes the standard AWS
// environment variables.
func TestCredentialsFromEnvironment(t *testing.T) {
	needS3(t)
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	cfg := config()
	cfg.AccessKey, cfg.SecretKey = "", ""
	healthjobtest.AssertStatus(t, mustNew(t, cfg), 2*time.Second, "working")
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  s3.Config
		want string
	}{
		{"no url", s3.Config{}, `s3 url "": want s3://bucket or s3://bucket/prefix`},
		{"not s3", s3.Config{URL: "https://bucket/x"}, `s3 url "https://bucket/x": want s3://bucket or s3://bucket/prefix`},
		{"no bucket", s3.Config{URL: "s3:///x"}, `s3 url "s3:///x": want s3://bucket or s3://bucket/prefix`},
		{"bad endpoint", s3.Config{URL: "s3://b", Endpoint: "ftp://host"},
			`s3 endpoint "ftp://host": want host:port, http://host:port or https://host:port`},
		{"endpoint with path", s3.Config{URL: "s3://b", Endpoint: "https://host/bucket"},
			`s3 endpoint "https://host/bucket": want host:port, http://host:port or https://host:port`},
		{"https and insecure", s3.Config{URL: "s3://b", Endpoint: "https://host", Insecure: true},
			`s3 endpoint "https://host": insecure (plain HTTP) contradicts https; drop one`},
		{"secret key alone", s3.Config{URL: "s3://b", SecretKey: "s3cr3t"},
			"s3 credentials: give both access_key and secret_key, or neither to take them from the environment"},
		{"access key alone", s3.Config{URL: "s3://b", AccessKey: "AKIA"},
			"s3 credentials: give both access_key and secret_key, or neither to take them from the environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3.New(tt.cfg)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	if got := mustNew(t, s3.Config{URL: "s3://b"}).Name(); got != "S3Boto3StorageHealthCheck" {
		t.Errorf("default Name() = %q, want S3Boto3StorageHealthCheck", got)
	}
}

func TestConformance(t *testing.T) {
	needS3(t)
	healthjobtest.Conformance(t, mustNew(t, config()))
}
