package healthjob

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Run is one cycle's outcome and the payload of the spec:
// {"uuid", "timestamp", "checks": [{"name", "status", "message"}]}, with
// "sync_app_id" added when it is synced.
type Run struct {
	UUID      string    `json:"uuid"`
	Timestamp Timestamp `json:"timestamp"`
	Checks    []Result  `json:"checks"`
	SyncAppID string    `json:"sync_app_id,omitempty"`

	Duration time.Duration `json:"-"` // how long the whole run took
}

// Result is one check's outcome within a Run.
type Result struct {
	Name    string `json:"name"`
	Status  int    `json:"status"` // StatusSuccess or StatusFailure
	Message string `json:"message"`

	Level    Level         `json:"-"`
	Critical bool          `json:"-"`
	Duration time.Duration `json:"-"`
	Err      error         `json:"-"` // the check's error, nil when it passed
}

// The stored status of a check: 1 passed, 0 failed.
const (
	StatusFailure = 0
	StatusSuccess = 1
)

// Passed tells whether the result counts as a success.
func (r Result) Passed() bool { return r.Status == StatusSuccess }

// OK tells whether every critical check of the run passed.
func (r *Run) OK() bool {
	for _, c := range r.Checks {
		if c.Critical && !c.Passed() {
			return false
		}
	}
	return true
}

// Failed returns the names of the critical checks that failed.
func (r *Run) Failed() []string {
	var names []string
	for _, c := range r.Checks {
		if c.Critical && !c.Passed() {
			names = append(names, c.Name)
		}
	}
	return names
}

// TimestampLayout is the payload's timestamp format: Python's isoformat() of
// a naive UTC datetime, always with microseconds.
const TimestampLayout = "2006-01-02T15:04:05.000000"

// Timestamp is a time rendered in UTC as TimestampLayout.
type Timestamp struct{ time.Time }

// MarshalJSON renders the timestamp as "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(TimestampLayout) + `"`), nil
}

// UnmarshalJSON accepts every form Python's isoformat() produces: with or
// without microseconds, with or without a UTC offset. A time without an
// offset is taken as UTC.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return fmt.Errorf("timestamp: want a string like %q, got %s", TimestampLayout, s)
	}
	parsed, err := ParseTimestamp(s[1 : len(s)-1])
	if err != nil {
		return err
	}
	t.Time = parsed
	return nil
}

// ParseTimestamp parses a payload timestamp; see Timestamp.UnmarshalJSON.
func ParseTimestamp(s string) (time.Time, error) {
	layout := "2006-01-02T15:04:05.999999"
	if strings.ContainsAny(s[min(len(s), 19):], "Z+-") {
		layout += "Z07:00"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp: want %q (UTC, optional fraction and offset), got %q", TimestampLayout, s)
	}
	return t.UTC(), nil
}

// NewUUID returns a random (version 4) UUID in its canonical form. The bits
// come from math/rand/v2's generator, ChaCha8 seeded by the operating
// system: unpredictable and collision-free in practice, and a tenth of the
// cost of a system call per run.
func NewUUID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
