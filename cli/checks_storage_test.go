package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/healthjob/healthjob/internal/config"
)

// buildOne loads a configuration file holding the one check entry, builds it
// and returns its name, or the error without the file's path.
func buildOne(t *testing.T, entry string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "healthjob.yaml")
	if err := os.WriteFile(file, []byte("checks:\n  - "+entry+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, func(string) string { return "" })
	if err != nil {
		t.Fatalf("load %s: %v", entry, err)
	}
	spec := cfg.CheckList()[0]
	c, err := storageCheckTypes[spec.Type](spec, cfg)
	if err != nil {
		return strings.TrimPrefix(err.Error(), file+":")
	}
	return c.Name()
}

func TestStorageCheckTypes(t *testing.T) {
	tests := []struct {
		entry, want string
	}{
		{`{type: storage}`, "DefaultFileStorageHealthCheck"},
		{`{type: storage, path: /srv/media, name: media}`, "media"},
		{`{type: storage, dir: /srv}`, "2: checks[1] (storage): unknown option dir"},
		{`{type: s3, url: "s3://bucket/prefix", endpoint: "http://127.0.0.1:7070", region: us-east-1, path_style: true, access_key: a, secret_key: b}`,
			"S3Boto3StorageHealthCheck"},
		{`{type: s3, url: "s3://bucket", insecure: true, endpoint: "minio:9000"}`, "S3Boto3StorageHealthCheck"},
		{`{type: s3}`, "2: checks[1] (s3): url is missing; want s3://bucket or s3://bucket/prefix"},
		{`{type: s3, url: "https://bucket"}`, `2: checks[1] (s3): s3 url "https://bucket": want s3://bucket or s3://bucket/prefix`},
		{`{type: s3, url: "s3://b", secret_key: "s3cr3t"}`,
			"2: checks[1] (s3): s3 credentials: give both access_key and secret_key, or neither to take them from the environment"},
		{`{type: s3, url: "s3://b", path_style: maybe}`, "2: checks[1] (s3): path_style: want true or false, got \"maybe\""},
		{`{type: mail}`, "MailHealthCheck"},
		{`{type: mail, url: "smtps://u:p@mail:465", insecure_skip_verify: true}`, "MailHealthCheck"},
		{`{type: mail, url: "smtp://mail:587", tls: starttls}`, "MailHealthCheck"},
		{`{type: mail, url: "smtp://u:s3cr3t@mail", tls: tls}`, `2: checks[1] (mail): mail tls "tls": want none, starttls or implicit`},
		{`{type: mail, url: "smtps://u:s3cr3t@mail", tls: none}`,
			`2: checks[1] (mail): mail tls "none" contradicts the url "smtps://u:*****@mail", which means implicit`},
		{`{type: mail, url: "http://mail"}`,
			`2: checks[1] (mail): mail url "http://mail": want smtp://[user:password@]host[:port][?starttls=true] or smtps://…`},
	}
	for _, tt := range tests {
		if got := buildOne(t, tt.entry); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.entry, got, tt.want)
		}
	}
}
