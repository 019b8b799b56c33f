package kafka_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/kafka"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/twmb/franz-go/pkg/kfake"
)

const timeout = time.Second

func mustNew(t *testing.T, cfg kafka.Config) *kafka.Check {
	t.Helper()
	c, err := kafka.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

// cluster starts an in-process Kafka (franz-go's kfake, which speaks the
// real protocol) with the topic "orders" and returns its brokers.
func cluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(2), kfake.SeedTopics(1, "orders")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func TestCheck(t *testing.T) {
	brokers := cluster(t)
	for _, tt := range []struct {
		name string
		cfg  kafka.Config
		want string
	}{
		{"OK", kafka.Config{Brokers: brokers}, "working"},
		{"URL", kafka.Config{URL: "kafka://" + strings.Join(brokers, ",")}, "working"},
		{"Topic", kafka.Config{Brokers: brokers, Topic: "orders"}, "working"},
		{"NoSuchTopic", kafka.Config{Brokers: brokers, Topic: "nope"}, "unavailable: Kafka topic nope does not exist"},
		{"OneSeedDown", kafka.Config{Brokers: []string{healthjobtest.ClosedPort(t), brokers[0]}}, "working"},
		{"ServerDown", kafka.Config{Brokers: []string{healthjobtest.ClosedPort(t)}}, "unavailable: Unable to connect to Kafka: connection refused"},
		{"Hangs", kafka.Config{Brokers: []string{healthjobtest.Blackhole(t)}}, "unavailable: Unable to connect to Kafka: timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, tt.cfg), timeout, tt.want)
		})
	}
	healthjobtest.Conformance(t, mustNew(t, kafka.Config{Brokers: brokers, Topic: "orders"}))
}

// TestCheckSASL logs in with SASL/PLAIN. The exact texts show that no
// password reaches a status.
func TestCheckSASL(t *testing.T) {
	brokers := cluster(t, kfake.EnableSASL(), kfake.Superuser("PLAIN", "healthjob", "s3cret-Pa55"))
	for _, tt := range []struct {
		name, user, want string
		timeout          time.Duration
	}{
		{"RightPassword", "healthjob:s3cret-Pa55@", "working", timeout},
		// kfake drops the connection where Kafka answers SASL_AUTHENTICATION_FAILED,
		// and franz-go tries again a few times before it gives up.
		{"WrongPassword", "healthjob:wrong-s3cret-Pa55@", "unavailable: Unable to connect to Kafka: connection closed by the broker", 5 * time.Second},
		{"NoPassword", "", "unavailable: Unable to connect to Kafka: broker closed the connection immediately after a request was issued, which often happens when SASL is required but not provided: is SASL missing?", timeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, kafka.Config{URL: "kafka://" + tt.user + brokers[0]})
			healthjobtest.AssertStatus(t, c, tt.timeout, tt.want)
		})
	}
}

func TestNew(t *testing.T) {
	if got := mustNew(t, kafka.Config{}).Name(); got != "KafkaHealthCheck" {
		t.Errorf("Name() = %q, want KafkaHealthCheck", got)
	}
	for _, tt := range []struct {
		cfg  kafka.Config
		want string
	}{
		{kafka.Config{URL: "kafka://a:9092,b:9093"}, ""},
		{kafka.Config{URL: "kafka://user:s3cret@a:9092/"}, ""},
		{kafka.Config{Brokers: []string{"a:9092", "[::1]:9092"}}, ""},
		{kafka.Config{URL: "kafka://a:9092", Brokers: []string{"b:9092"}}, "url and brokers both name the brokers; set one"},
		{kafka.Config{URL: "http://a:9092"}, "url: want kafka://[user:password@]host:9092[,host2:9092…]"},
		{kafka.Config{URL: "kafka://a:9092/topic"}, "url: want kafka://[user:password@]host:9092[,host2:9092…]"},
		{kafka.Config{URL: "kafka://user:s3cret@a:9092,b"}, `url: invalid port ":9092,b" after host`},
		{kafka.Config{URL: "kafka://a,b:9092"}, `broker "a": want host:port`},
		{kafka.Config{Brokers: []string{"a"}}, `broker "a": want host:port`},
		{kafka.Config{Brokers: []string{"a:port"}}, `broker "a:port": want host:port`},
	} {
		_, err := kafka.New(tt.cfg)
		if got := fmt.Sprint(err); (tt.want == "" && err != nil) || (tt.want != "" && got != tt.want) {
			t.Errorf("New(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}
