package cli

import (
	"cmp"
	"slices"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/celery"
	celeryamqp "github.com/healthjob/healthjob/checks/celery/amqp"
	celeryredis "github.com/healthjob/healthjob/checks/celery/redis"
	"github.com/healthjob/healthjob/internal/config"
)

// celeryCheckTypes are the check types of this group; see checkTypes.
var celeryCheckTypes = map[string]checkType{
	"celery_ping": celeryPingCheck,
	"celery":      celeryCheck,
}

// celeryPingCheck builds a celery_ping check. Its options: url (the broker;
// default CELERY_BROKER_URL, then BROKER_URL), key_prefix (Redis brokers),
// ping_timeout (default HEALTHCHECK_CELERY_PING_TIMEOUT), workers and queues.
func celeryPingCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL         string          `yaml:"url"`
		KeyPrefix   string          `yaml:"key_prefix"`
		PingTimeout config.Duration `yaml:"ping_timeout"`
		Workers     []string        `yaml:"workers"`
		Queues      []string        `yaml:"queues"`
	}{URL: cmp.Or(cfg.CeleryBrokerURL, cfg.BrokerURL), PingTimeout: cfg.CeleryPingTimeout}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	broker, err := celeryBroker(spec, opts.URL, opts.KeyPrefix)
	if err != nil {
		return nil, err
	}
	if err := positive(spec, "ping_timeout", "HEALTHCHECK_CELERY_PING_TIMEOUT", opts.PingTimeout); err != nil {
		return nil, err
	}
	switch {
	case slices.Contains(opts.Workers, ""):
		return nil, spec.Errorf("workers: empty name")
	case slices.Contains(opts.Queues, ""):
		return nil, spec.Errorf("queues: empty name")
	}
	c, err := celery.NewPing(celery.PingConfig{
		Name: spec.Name, Broker: broker, Timeout: opts.PingTimeout.D(), Workers: opts.Workers, Queues: opts.Queues,
	})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// celeryCheck builds a celery check. Its options: url and key_prefix as
// celery_ping's, backend (the result backend, rpc:// or redis://; default
// CELERY_RESULT_BACKEND), queue (default celery), task, result_timeout,
// queue_timeout (default HEALTHCHECK_CELERY_RESULT_TIMEOUT and
// HEALTHCHECK_CELERY_QUEUE_TIMEOUT, or else HEALTHCHECK_CELERY_TIMEOUT) and
// priority (default HEALTHCHECK_CELERY_PRIORITY).
func celeryCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL           string          `yaml:"url"`
		KeyPrefix     string          `yaml:"key_prefix"`
		Backend       string          `yaml:"backend"`
		Queue         string          `yaml:"queue"`
		Task          string          `yaml:"task"`
		ResultTimeout config.Duration `yaml:"result_timeout"`
		QueueTimeout  config.Duration `yaml:"queue_timeout"`
		Priority      *int            `yaml:"priority"`
	}{
		URL:           cmp.Or(cfg.CeleryBrokerURL, cfg.BrokerURL),
		Backend:       cfg.CeleryResultBackend,
		Queue:         "celery",
		Task:          celery.DefaultTask,
		ResultTimeout: cmp.Or(cfg.CeleryResultTimeout, cfg.CeleryTimeout),
		QueueTimeout:  cmp.Or(cfg.CeleryQueueTimeout, cfg.CeleryTimeout),
		Priority:      cfg.CeleryPriority,
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	broker, err := celeryBroker(spec, opts.URL, opts.KeyPrefix)
	if err != nil {
		return nil, err
	}
	backend, err := celeryBackend(spec, opts.Backend)
	if err != nil {
		return nil, err
	}
	if err := positive(spec, "result_timeout", "HEALTHCHECK_CELERY_RESULT_TIMEOUT", opts.ResultTimeout); err != nil {
		return nil, err
	}
	if err := positive(spec, "queue_timeout", "HEALTHCHECK_CELERY_QUEUE_TIMEOUT", opts.QueueTimeout); err != nil {
		return nil, err
	}
	switch {
	case opts.Queue == "":
		return nil, spec.Errorf("queue: empty name")
	case opts.Task == "":
		return nil, spec.Errorf("task: empty name")
	}
	var priority uint8
	if p := opts.Priority; p != nil {
		if *p < 0 || *p > 255 {
			return nil, spec.Errorf("priority (or HEALTHCHECK_CELERY_PRIORITY): want 0 to 255, got %d", *p)
		}
		priority = uint8(*p)
	}
	c, err := celery.New(celery.Config{
		Name: spec.Name, Broker: broker, Backend: backend, Queue: opts.Queue, Task: opts.Task,
		ResultTimeout: opts.ResultTimeout.D(), QueueTimeout: opts.QueueTimeout.D(), Priority: priority,
	})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	if n := len([]rune(c.Name())); spec.Name == "" && n > healthjob.MaxNameLength {
		return nil, spec.Errorf("queue: %q makes the name %s longer than %d characters; shorten it or set name", opts.Queue, c.Name(), healthjob.MaxNameLength)
	}
	return c, nil
}

// celeryBroker chooses the transport by the URL's scheme.
func celeryBroker(spec config.Check, url, keyPrefix string) (celery.Broker, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch {
	case url == "":
		return nil, spec.Errorf("url: missing; set url or CELERY_BROKER_URL to the broker, e.g. amqp://guest:guest@localhost:5672//")
	case scheme == "redis" || scheme == "rediss":
		b, err := celeryredis.New(celeryredis.Config{URL: url, KeyPrefix: keyPrefix})
		if err != nil {
			return nil, spec.Errorf("url: %v", err)
		}
		return b, nil
	case scheme != "amqp" && scheme != "amqps" && scheme != "pyamqp":
		return nil, spec.Errorf("url: broker URL %q: want amqp://, amqps://, redis:// or rediss://", config.Redact(url))
	case keyPrefix != "":
		return nil, spec.Errorf("key_prefix: only a Redis broker has a key prefix")
	}
	b, err := celeryamqp.New(celeryamqp.Config{URL: url})
	if err != nil {
		return nil, spec.Errorf("url: %v", err)
	}
	return b, nil
}

// celeryBackend reads a result backend URL; "" is no result backend, which
// the celery check reports when it runs, as django-health-check does.
func celeryBackend(spec config.Check, url string) (celery.Backend, error) {
	scheme, _, _ := strings.Cut(url, "://")
	switch {
	case url == "":
		return nil, nil
	case scheme == "rpc":
		return celery.RPC{}, nil
	case scheme == "redis" || scheme == "rediss":
		b, err := celeryredis.NewBackend(url)
		if err != nil {
			return nil, spec.Errorf("backend: %v", err)
		}
		return b, nil
	}
	return nil, spec.Errorf("backend: result backend %q: want rpc://, redis:// or rediss://", config.Redact(url))
}

// positive rejects a duration of 0 or less, set by the option or the setting.
func positive(spec config.Check, option, setting string, d config.Duration) error {
	if d <= 0 {
		return spec.Errorf("%s (or %s): must be more than 0, got %s", option, setting, d)
	}
	return nil
}
