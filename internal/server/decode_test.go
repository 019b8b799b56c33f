package server_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/server"
)

const goodUUID = "550e8400-e29b-41d4-a716-446655440000"

// payload is a valid body with the checks given, for the tables below.
func payload(checks string) string {
	return `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00.000000", "sync_app_id": "billing", "checks": ` + checks + `}`
}

// goodForms are every form of timestamp the original Python monitor
// writes, and other valid payloads.
var goodForms = []struct {
	name, body string
	at         time.Time
}{
	{"microseconds", payload(`[{"name": "DatabaseBackend", "status": 1, "message": "working"}]`), time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
	{"isoformat without a fraction", `{"uuid":"` + goodUUID + `","timestamp":"2023-11-20T12:00:00","sync_app_id":"billing","checks":[{"name":"a","status":0,"message":""}]}`,
		time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
	{"offset", `{"uuid":"` + goodUUID + `","timestamp":"2023-11-20T17:30:00.250000+05:30","sync_app_id":"billing","checks":[{"name":"a","status":0,"message":""}]}`,
		time.Date(2023, 11, 20, 12, 0, 0, 250000000, time.UTC)},
	{"UTC offset without a fraction", `{"uuid":"` + goodUUID + `","timestamp":"2023-11-20T12:00:00+00:00","sync_app_id":"billing","checks":[{"name":"a","status":0,"message":""}]}`,
		time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)},
	{"upper-case uuid, unknown fields", `{"uuid":"550E8400-E29B-41D4-A716-446655440000","timestamp":"2023-11-20T12:00:00.000001","sync_app_id":"billing","extra":[1],"checks":[{"name":"a","status":1,"message":"","duration":3}]}`,
		time.Date(2023, 11, 20, 12, 0, 0, 1000, time.UTC)},
	{"nanoseconds, kept to the microsecond", `{"uuid":"` + goodUUID + `","timestamp":"2023-11-20T12:00:00.123456789Z","sync_app_id":"billing","checks":[{"name":"a","status":0,"message":""}]}`,
		time.Date(2023, 11, 20, 12, 0, 0, 123456000, time.UTC)},
}

// TestDecodeForms: every form the original Python monitor writes.
func TestDecodeForms(t *testing.T) {
	for _, tt := range goodForms {
		t.Run(tt.name, func(t *testing.T) {
			run, err := server.Decode([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if run.UUID != goodUUID || !run.Timestamp.Equal(tt.at) || run.Timestamp.Location() != time.UTC || run.SyncAppID != "billing" || len(run.Checks) != 1 {
				t.Errorf("run = %+v", run)
			}
		})
	}
}

var long = strings.Repeat("n", 51)

// badInputs are each class of bad input, with the exact message and the
// field it names.
var badInputs = []struct{ name, body, field, msg string }{
	{"empty", ``, "body", "want a JSON object, got nothing"},
	{"not JSON", `uuid=1`, "body", "not JSON: invalid character 'u' looking for beginning of value (at byte 1)"},
	{"truncated", `{"uuid": "x`, "body", "not JSON: unexpected end of JSON input (at byte 11)"},
	{"trailing garbage", payload(`[]`) + ` x`, "body", "not JSON: invalid character 'x' after top-level value (at byte 133)"},
	{"array", `[{"uuid": 1}]`, "body", "want a JSON object, got an array"},
	{"string", `"payload"`, "body", `want a JSON object, got "payload"`},
	{"null", `null`, "body", "want a JSON object, got null"},
	{"missing uuid", `{"timestamp": "2023-11-20T12:00:00"}`, "uuid", "missing"},
	{"uuid of the wrong type", `{"uuid": 42}`, "uuid", "want a string, got 42"},
	{"bad uuid", `{"uuid": "550e8400-e29b-41d4-a716-44665544000g"}`, "uuid", `want a UUID such as 550e8400-e29b-41d4-a716-446655440000, got "550e8400-e29b-41d4-a716-44665544000g"`},
	{"uuid without dashes", `{"uuid": "550e8400e29b41d4a716446655440000"}`, "uuid", `want a UUID such as 550e8400-e29b-41d4-a716-446655440000, got "550e8400e29b41d4a716446655440000"`},
	{"missing timestamp", `{"uuid": "` + goodUUID + `"}`, "timestamp", "missing"},
	{"timestamp of the wrong type", `{"uuid": "` + goodUUID + `", "timestamp": 1700481600}`, "timestamp", "want a string, got 1700481600"},
	{"bad timestamp", `{"uuid": "` + goodUUID + `", "timestamp": "20/11/2023 12:00"}`, "timestamp", `want a UTC time such as 2023-11-20T12:00:00.000000 (fraction and offset optional), got "20/11/2023 12:00"`},
	{"timestamp out of range", `{"uuid": "` + goodUUID + `", "timestamp": "0001-01-01T00:00:00"}`, "timestamp", `want a UTC time such as 2023-11-20T12:00:00.000000 (fraction and offset optional), got "0001-01-01T00:00:00"`},
	{"missing app", `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00"}`, "sync_app_id", "missing"},
	{"empty app", `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00", "sync_app_id": ""}`, "sync_app_id", "want an application id, got an empty string"},
	{"app too long", `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00", "sync_app_id": "` + strings.Repeat("a", 101) + `"}`, "sync_app_id", "want at most 100 characters, got 101"},
	{"app with a newline", `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00", "sync_app_id": "a\nb"}`, "sync_app_id", `want no control characters, got "a\nb"`},
	{"missing checks", `{"uuid": "` + goodUUID + `", "timestamp": "2023-11-20T12:00:00", "sync_app_id": "billing"}`, "checks", "missing"},
	{"checks not a list", payload(`{"name": "a"}`), "checks", "want a list of checks, got an object"},
	{"empty checks", payload(`[]`), "checks", "want at least one check, got none; a run with no checks is a heartbeat: POST it to /v1/heartbeat"},
	{"check not an object", payload(`["DatabaseBackend"]`), "checks[0]", `want an object with name, status and message, got "DatabaseBackend"`},
	{"missing name", payload(`[{"status": 1, "message": ""}]`), "checks[0].name", "missing"},
	{"empty name", payload(`[{"name": "", "status": 1, "message": ""}]`), "checks[0].name", "want 1 to 50 characters, got 0"},
	{"name too long", payload(`[{"name": "a", "status": 1, "message": ""}, {"name": "` + long + `", "status": 1, "message": ""}]`), "checks[1].name", "want 1 to 50 characters, got 51"},
	{"name of the wrong type", payload(`[{"name": null, "status": 1, "message": ""}]`), "checks[0].name", "want a string, got null"},
	{"missing status", payload(`[{"name": "a", "message": ""}]`), "checks[0].status", "missing"},
	{"status 3", payload(`[{"name": "a", "status": 1, "message": ""}, {"name": "b", "status": 0, "message": ""}, {"name": "c", "status": 3, "message": ""}]`), "checks[2].status", "want 0 or 1, got 3"},
	{"status as a string", payload(`[{"name": "a", "status": "1", "message": ""}]`), "checks[0].status", `want 0 or 1, got "1"`},
	{"status as a boolean", payload(`[{"name": "a", "status": true, "message": ""}]`), "checks[0].status", "want 0 or 1, got true"},
	{"status as a float", payload(`[{"name": "a", "status": 1.0, "message": ""}]`), "checks[0].status", "want 0 or 1, got 1.0"},
	{"missing message", payload(`[{"name": "a", "status": 1}]`), "checks[0].message", "missing"},
	{"message too long", payload(`[{"name": "a", "status": 1, "message": "` + strings.Repeat("x", 64<<10+1) + `"}]`), "checks[0].message", "want at most 65536 bytes, got 65537"},
	{"NUL in a message", payload(`[{"name": "a", "status": 1, "message": "a\u0000b"}]`), "checks[0].message", "want text without NUL characters"},
	{"NUL in a name", payload(`[{"name": "a\u0000", "status": 1, "message": ""}]`), "checks[0].name", "want text without NUL characters"},
}

func TestDecodeBadInput(t *testing.T) {
	for _, tt := range badInputs {
		t.Run(tt.name, func(t *testing.T) {
			run, err := server.Decode([]byte(tt.body))
			var fe *server.FieldError
			if !errors.As(err, &fe) || run != nil {
				t.Fatalf("Decode = %+v, %v; want a *FieldError", run, err)
			}
			if fe.Field != tt.field || fe.Msg != tt.msg || err.Error() != tt.field+": "+tt.msg {
				t.Errorf("error %q (field %q)\nwant %q (field %q)", err, fe.Field, tt.field+": "+tt.msg, tt.field)
			}
		})
	}
}
