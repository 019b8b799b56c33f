package healthjob_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
)

func TestRunJSON(t *testing.T) {
	run := &healthjob.Run{
		UUID:      "550e8400-e29b-41d4-a716-446655440000",
		Timestamp: healthjob.Timestamp{Time: time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
		Checks: []healthjob.Result{
			{Name: "DatabaseBackend", Status: 1, Message: "working", Duration: time.Second},
			{Name: "Cache backend: default", Status: 0, Message: "unexpected result: Connection Error"},
		},
	}
	b, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"uuid":"550e8400-e29b-41d4-a716-446655440000","timestamp":"2023-11-20T12:00:00.000000","checks":[{"name":"DatabaseBackend","status":1,"message":"working"},{"name":"Cache backend: default","status":0,"message":"unexpected result: Connection Error"}]}`
	if string(b) != want {
		t.Errorf("payload =\n%s\nwant\n%s", b, want)
	}
	run.SyncAppID = "billing"
	b, _ = json.Marshal(run)
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["sync_app_id"] != "billing" || len(fields) != 4 {
		t.Errorf("synced payload fields = %v, want uuid, timestamp, checks and sync_app_id=billing", fields)
	}
}

func TestTimestamp(t *testing.T) {
	local := time.FixedZone("CET", 3600)
	ts := healthjob.Timestamp{Time: time.Date(2024, 2, 29, 13, 4, 5, 123456789, local)}
	b, _ := json.Marshal(ts)
	if string(b) != `"2024-02-29T12:04:05.123456"` {
		t.Errorf("Timestamp JSON = %s, want UTC with 6 fraction digits", b)
	}
	tests := []struct{ in, want string }{
		{"2023-11-20T12:00:00.000000", "2023-11-20T12:00:00Z"},
		{"2023-11-20T12:00:00", "2023-11-20T12:00:00Z"},
		{"2023-11-20T12:00:00.5", "2023-11-20T12:00:00.5Z"},
		{"2023-11-20T12:00:00.123456+00:00", "2023-11-20T12:00:00.123456Z"},
		{"2023-11-20T13:00:00+01:00", "2023-11-20T12:00:00Z"},
		{"2023-11-20T12:00:00Z", "2023-11-20T12:00:00Z"},
	}
	for _, tt := range tests {
		var got healthjob.Timestamp
		if err := json.Unmarshal([]byte(`"`+tt.in+`"`), &got); err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got.Format(time.RFC3339Nano) != tt.want {
			t.Errorf("%s = %s, want %s", tt.in, got.Format(time.RFC3339Nano), tt.want)
		}
	}
	for _, bad := range []string{`"20231120"`, `"2023-11-20 12:00:00"`, `12`, `"2023-13-01T00:00:00"`} {
		var got healthjob.Timestamp
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s parsed as %v, want an error", bad, got)
		}
	}
}

func TestNewUUID(t *testing.T) {
	a, b := healthjob.NewUUID(), healthjob.NewUUID()
	if a == b || len(a) != 36 || a[14] != '4' || a[8] != '-' {
		t.Errorf("NewUUID = %q, %q: want two distinct version-4 UUIDs", a, b)
	}
}
