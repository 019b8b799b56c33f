package amqp_test

import (
	"testing"

	"github.com/healthjob/healthjob/checks/celery/amqp"
)

func TestNew(t *testing.T) {
	for url, want := range map[string]string{
		"amqp://guest:guest@localhost:5672//": "",
		"amqps://app:s3cret@mq.example/app":   "",
		"pyamqp://guest@localhost//":          "",
		"amqp://app:s3cret@mq:port/":          "broker URL is not a valid URL",
		"redis://app:s3cret@cache:6379/0":     `broker URL "redis://app:*****@cache:6379/0": want amqp:// or amqps://`,
		"amqp://":                             "",
		"amqp://app:s3cret@mq/?heartbeat=x":   `broker URL "amqp://app:*****@mq/?heartbeat=x": heartbeat is not an uint16: strconv.ParseUint: parsing "x": invalid syntax`,
	} {
		_, err := amqp.New(amqp.Config{URL: url})
		if got := errText(err); got != want {
			t.Errorf("New(%q) error = %q, want %q", url, got, want)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
