package redis_test

import (
	"testing"

	"github.com/healthjob/healthjob/checks/celery/redis"
)

func TestNew(t *testing.T) {
	for url, want := range map[string]string{
		"redis://127.0.0.1:6379/0":          "",
		"rediss://app:s3cret@cache:6380/2":  "",
		"redis://app:s3cret@cache:port/0":   "broker URL is not a valid URL",
		"amqp://app:s3cret@mq//":            `broker URL "amqp://app:*****@mq//": want redis:// or rediss://`,
		"redis://app:s3cret@cache:6379/one": `broker URL "redis://app:*****@cache:6379/one": redis: invalid database number: "one"`,
	} {
		_, err := redis.New(redis.Config{URL: url})
		if got := errText(err); got != want {
			t.Errorf("New(%q) error = %q, want %q", url, got, want)
		}
		_, err = redis.NewBackend(url)
		if want != "" {
			want = "result backend" + want[len("broker"):]
		}
		if got := errText(err); got != want {
			t.Errorf("NewBackend(%q) error = %q, want %q", url, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
