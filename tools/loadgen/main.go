// Command loadgen measures `healthjob serve` and the outbox.
//
//	loadgen ingest -url http://127.0.0.1:8000 -key hj_… [-clients 50] [-duration 30s] [-checks 10] [-apps 100]
//
// posts payloads of -checks checks from -clients concurrent clients over
// keep-alive connections for -duration, and reports the payloads and
// records per second and the latency percentiles.
//
//	loadgen drain -url http://127.0.0.1:8000 -key hj_… [-n 100000] [-outbox FILE]
//
// queues -n payloads in an outbox file, as a monitor does while its server
// is away, then delivers them with the monitor's relay and sender and
// reports how long the outbox took to drain.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/outbox"
	"github.com/healthjob/healthjob/internal/store"
	"github.com/healthjob/healthjob/job"

	_ "modernc.org/sqlite"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen ingest|drain [flags]; see the package documentation")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "ingest":
		err = ingest(os.Args[2:])
	case "drain":
		err = drain(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q; want ingest or drain", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// payload is a run of n checks of app, one in twenty failing.
func payload(app string, n int, seq int) []byte {
	run := healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: time.Now()}, SyncAppID: app}
	for i := range n {
		c := healthjob.Result{Name: fmt.Sprintf("Check%02d", i), Status: 1, Message: "working"}
		if (seq+i)%20 == 0 {
			c.Status, c.Message = 0, "unavailable: connection refused"
		}
		run.Checks = append(run.Checks, c)
	}
	b, _ := json.Marshal(&run)
	return b
}

func ingest(args []string) error {
	fs := flag.NewFlagSet("ingest", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8000", "serve's base URL")
	key := fs.String("key", "", "an API key for every app (healthjob apikey create '*')")
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 30*time.Second, "how long to post")
	checks := fs.Int("checks", 10, "checks per payload")
	apps := fs.Int("apps", 100, "distinct app ids")
	fs.Parse(args)

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *clients}}
	target := job.MetricsURL(*url)
	latencies := make([][]time.Duration, *clients)
	statuses := make([]map[string]int, *clients)
	deadline := time.Now().Add(*duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range *clients {
		statuses[c] = map[string]int{}
		wg.Go(func() {
			for seq := 0; time.Now().Before(deadline); seq++ {
				body := payload(fmt.Sprintf("app-%03d", (c+seq**clients)%*apps), *checks, seq)
				req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+*key)
				t := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					statuses[c][err.Error()]++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				latencies[c] = append(latencies[c], time.Since(t))
				statuses[c][resp.Status]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(latencies...)
	slices.Sort(all)
	answers := map[string]int{}
	for _, s := range statuses {
		for k, v := range s {
			answers[k] += v
		}
	}
	accepted := answers["202 Accepted"]
	pct := func(p float64) time.Duration {
		if len(all) == 0 {
			return 0
		}
		return all[min(len(all)-1, int(p*float64(len(all))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("%d payloads of %d checks from %d clients in %s: %.0f payloads/s, %.0f records/s\n",
		len(all), *checks, *clients, elapsed.Round(time.Millisecond), float64(accepted)/elapsed.Seconds(), float64(accepted**checks)/elapsed.Seconds())
	fmt.Printf("latency p50 %s, p90 %s, p99 %s, max %s\n", pct(.50), pct(.90), pct(.99), pct(1))
	fmt.Printf("answers: %v\n", answers)
	return nil
}

func drain(args []string) error {
	fs := flag.NewFlagSet("drain", flag.ExitOnError)
	url := fs.String("url", "http://127.0.0.1:8000", "serve's base URL")
	key := fs.String("key", "", "an API key for the app")
	app := fs.String("app", "billing", "the app id")
	n := fs.Int("n", 100000, "payloads to queue")
	checks := fs.Int("checks", 10, "checks per payload")
	path := fs.String("outbox", filepath.Join(os.TempDir(), "loadgen-outbox.db"), "the outbox file, created anew")
	fs.Parse(args)

	ctx := context.Background()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(*path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	db, err := store.Open(ctx, "sqlite:"+*path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	q, err := db.Queue(ctx, store.KindSync, *app, *n, 1<<40)
	if err != nil {
		return err
	}
	fill := time.Now()
	for i := range *n {
		run := payload(*app, *checks, i)
		var p struct{ UUID string }
		json.Unmarshal(run, &p)
		if err := q.Enqueue(ctx, p.UUID, run); err != nil {
			return err
		}
	}
	fmt.Printf("queued %d payloads of %d checks in %s (%.0f/s)\n", q.Len(), *checks, time.Since(fill).Round(time.Millisecond), float64(*n)/time.Since(fill).Seconds())

	start := time.Now()
	r := &outbox.Relay{Queue: q, Name: "sync", Sender: &outbox.HTTPSender{URL: job.MetricsURL(*url), APIKey: *key, Client: &http.Client{Timeout: job.DefaultSyncTimeout}}}
	failures := 0
	r.OnAttempt = func(_ outbox.Item, err error) {
		if err != nil {
			failures++
		}
	}
	r.Start()
	tick := time.NewTicker(100 * time.Millisecond)
	for q.Len() > 0 {
		<-tick.C
	}
	elapsed := time.Since(start)
	stop, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r.Stop(stop)
	fmt.Printf("drained %d payloads in %s: %.0f payloads/s, %d failed attempts\n", *n, elapsed.Round(time.Millisecond), float64(*n)/elapsed.Seconds(), failures)
	return nil
}
