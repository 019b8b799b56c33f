package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/server"
	"github.com/healthjob/healthjob/internal/store"
)

// BenchmarkIngestHTTP posts payloads of 10 checks of 100 apps from 50
// concurrent clients over keep-alive connections to a server in the same
// process: the server's own cost, without a process boundary. For the
// figures of a real `healthjob serve`, see tools/loadgen.
func BenchmarkIngestHTTP(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := openStore(b, engine)
			_, key, err := db.CreateAPIKey(context.Background(), store.AllApps)
			if err != nil {
				b.Fatal(err)
			}
			srv := server.New(server.Config{Store: db, Logger: slogDiscard()})
			defer srv.Close()
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			var seq atomic.Int64
			b.SetParallelism(25) // 50 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					run := healthjob.Run{UUID: healthjob.NewUUID(), Timestamp: healthjob.Timestamp{Time: time.Now()}, SyncAppID: fmt.Sprintf("app-%03d", n%100)}
					for i := range 10 {
						run.Checks = append(run.Checks, healthjob.Result{Name: fmt.Sprintf("Check%02d", i), Status: 1, Message: "working"})
					}
					body, _ := json.Marshal(&run)
					req, _ := http.NewRequest("POST", ts.URL+"/v1/metrics", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+key)
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 202 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "payloads/s")
		})
	}
}
