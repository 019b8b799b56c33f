package server_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/server"
)

// FuzzDecode: the decoder never panics, answers a *FieldError or a run
// that keeps every rule, and a run it accepts survives its own encoding;
// its fast path accepts nothing that the field-by-field one refuses, and
// reads the same run.
// The seeds in testdata/fuzz/FuzzDecode are the shapes of the bad-input
// table; run `go test -fuzz FuzzDecode ./internal/server` to look further.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(payload(`[{"name": "DatabaseBackend", "status": 1, "message": "working"}]`)))
	f.Add([]byte(`{"uuid":"` + goodUUID + `","timestamp":"2023-11-20T12:00:00+00:00","sync_app_id":"a","checks":[{"name":"é","status":0,"message":"\ud83d\udd25"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		if fast := server.DecodeFast(body); fast != nil {
			slow, err := server.DecodeSlow(body)
			if err != nil || !sameRun(fast, slow) {
				t.Fatalf("the fast path read %+v, the slow one %+v, %v", fast, slow, err)
			}
		}
		run, err := server.Decode(body)
		if err != nil {
			var fe *server.FieldError
			if !errors.As(err, &fe) || fe.Field == "" || run != nil {
				t.Fatalf("Decode = %+v, %#v", run, err)
			}
			return
		}
		if len(run.UUID) != 36 || run.UUID != strings.ToLower(run.UUID) || run.SyncAppID == "" || len(run.Checks) == 0 {
			t.Fatalf("accepted %+v", run)
		}
		for _, c := range run.Checks {
			if n := utf8.RuneCountInString(c.Name); n < 1 || n > server.MaxName || (c.Status != 0 && c.Status != 1) ||
				len(c.Message) > server.MaxMessage || strings.ContainsRune(c.Name+c.Message+run.SyncAppID, 0) {
				t.Fatalf("accepted check %+v", c)
			}
		}
		again, err := json.Marshal(run)
		if err != nil {
			t.Fatal(err)
		}
		back, err := server.Decode(again)
		if err != nil {
			t.Fatalf("Decode(%s) of an accepted run: %v", again, err)
		}
		if !sameRun(run, back) {
			t.Fatalf("round trip: %+v\nbecame %+v", run, back)
		}
	})
}

func sameRun(a, b *healthjob.Run) bool {
	if a.UUID != b.UUID || !a.Timestamp.Equal(b.Timestamp.Time) || a.SyncAppID != b.SyncAppID || len(a.Checks) != len(b.Checks) {
		return false
	}
	for i := range a.Checks {
		if a.Checks[i].Name != b.Checks[i].Name || a.Checks[i].Status != b.Checks[i].Status || a.Checks[i].Message != b.Checks[i].Message {
			return false
		}
	}
	return true
}
