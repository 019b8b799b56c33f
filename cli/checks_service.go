package cli

import (
	"context"
	"strings"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/checks/cache"
	"github.com/healthjob/healthjob/checks/cache/memcached"
	"github.com/healthjob/healthjob/checks/cache/rediscache"
	"github.com/healthjob/healthjob/checks/kafka"
	"github.com/healthjob/healthjob/checks/nats"
	"github.com/healthjob/healthjob/checks/rabbitmq"
	"github.com/healthjob/healthjob/checks/redis"
	"github.com/healthjob/healthjob/internal/config"
	goredis "github.com/redis/go-redis/v9"
)

// serviceCheckTypes are the check types of this group; see checkTypes.
var serviceCheckTypes = map[string]checkType{
	"redis":    redisCheck,
	"cache":    cacheCheck,
	"rabbitmq": rabbitmqCheck,
	"nats":     natsCheck,
	"kafka":    kafkaCheck,
}

// redisCheck builds a redis check. Its options: url (default
// redis://localhost:6379/1), cluster (the url names Redis Cluster nodes) and
// conn_max_age, how long the check keeps its connection between runs
// (default 60s; 0 connects afresh for every run).
func redisCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL        string          `yaml:"url"`
		Cluster    bool            `yaml:"cluster"`
		ConnMaxAge config.Duration `yaml:"conn_max_age"`
	}{ConnMaxAge: config.Duration(defaultConnMaxAge)}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if err := checkConnMaxAge(spec, opts.ConnMaxAge); err != nil {
		return nil, err
	}
	c, err := redis.New(redis.Config{Name: spec.Name, URL: opts.URL, Cluster: opts.Cluster, ConnMaxAge: opts.ConnMaxAge.D()})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// cacheCheck builds a cache check. Its options: url (required; redis://,
// rediss:// or unix:// for Redis, memcached:// for memcached), alias (the
// cache's name in the check's name; default "default") and conn_max_age,
// how long the check keeps its connection between runs (default 60s; 0
// connects afresh for every run).
func cacheCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	opts := struct {
		URL        string          `yaml:"url"`
		Alias      string          `yaml:"alias"`
		ConnMaxAge config.Duration `yaml:"conn_max_age"`
	}{ConnMaxAge: config.Duration(defaultConnMaxAge)}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	if err := checkConnMaxAge(spec, opts.ConnMaxAge); err != nil {
		return nil, err
	}
	var (
		backend cache.Backend
		err     error
	)
	switch scheme, _, _ := strings.Cut(opts.URL, "://"); scheme {
	case "":
		return nil, spec.Errorf("url is missing; want redis://host:6379/1 or memcached://host:11211")
	case "redis", "rediss", "unix":
		backend, err = rediscache.New(opts.URL)
	case "memcached":
		backend, err = memcached.New(opts.URL)
	default:
		return nil, spec.Errorf("url: %q: want redis://, rediss://, unix:// or memcached://", config.Redact(opts.URL))
	}
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	c, err := cache.New(cache.Config{Name: spec.Name, Alias: opts.Alias, Backend: backend, ConnMaxAge: opts.ConnMaxAge.D()})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// checkConnMaxAge refuses a negative conn_max_age.
func checkConnMaxAge(spec config.Check, age config.Duration) error {
	if age < 0 {
		return spec.Errorf("conn_max_age: must be 0 (a new connection every run) or more, got %s", age)
	}
	return nil
}

// rabbitmqCheck builds a rabbitmq check. Its option: url (default BROKER_URL,
// then CELERY_BROKER_URL, then amqp://guest:guest@localhost:5672/).
func rabbitmqCheck(spec config.Check, cfg *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL string `yaml:"url"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	from := ""
	if opts.URL == "" {
		for _, s := range []struct{ name, url string }{{"BROKER_URL", cfg.BrokerURL}, {"CELERY_BROKER_URL", cfg.CeleryBrokerURL}} {
			if s.url != "" {
				opts.URL, from = s.url, " (from "+s.name+"; set url to check another broker)"
				break
			}
		}
	}
	c, err := rabbitmq.New(rabbitmq.Config{Name: spec.Name, URL: opts.URL})
	if err != nil {
		return nil, spec.Errorf("%v%s", err, from)
	}
	return c, nil
}

// natsCheck builds a nats check. Its option: url (default
// nats://127.0.0.1:4222; a comma-separated list for a cluster).
func natsCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL string `yaml:"url"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := nats.New(nats.Config{Name: spec.Name, URL: opts.URL})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// kafkaCheck builds a kafka check. Its options: url
// (kafka://[user:password@]host:9092[,host2:9092]; default
// kafka://localhost:9092) or brokers (a list of host:port), and topic (a
// topic that must exist).
func kafkaCheck(spec config.Check, _ *config.Config) (healthjob.Check, error) {
	var opts struct {
		URL     string   `yaml:"url"`
		Brokers []string `yaml:"brokers"`
		Topic   string   `yaml:"topic"`
	}
	if err := spec.Decode(&opts); err != nil {
		return nil, err
	}
	c, err := kafka.New(kafka.Config{Name: spec.Name, URL: opts.URL, Brokers: opts.Brokers, Topic: opts.Topic})
	if err != nil {
		return nil, spec.Errorf("%v", err)
	}
	return c, nil
}

// silenceClientLogs keeps go-redis's own log lines (a failed dial, Sentinel
// chatter) off stderr, between the check lines: a check's status text
// already carries the reason.
func silenceClientLogs() { goredis.SetLogger(discardRedisLog{}) }

type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}
