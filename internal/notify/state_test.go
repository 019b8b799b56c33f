package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/notify"
)

// steps runs a sequence of results, one letter each (o ok, w warning, f
// failure), through the state machine and returns the state after each,
// one letter each (O ok, W warning, F failing).
func steps(t *testing.T, th notify.Thresholds, results string) (string, notify.Status) {
	t.Helper()
	levels := map[rune]healthjob.Level{'o': healthjob.LevelOK, 'w': healthjob.LevelWarning, 'f': healthjob.LevelFailure}
	letters := map[notify.State]string{notify.OK: "O", notify.Warning: "W", notify.Failing: "F"}
	var s notify.Status
	var out strings.Builder
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for i, r := range results {
		s = s.Step(levels[r], th, start.Add(time.Duration(i)*time.Second))
		out.WriteString(letters[s.State])
	}
	return out.String(), s
}

func TestStep(t *testing.T) {
	def := notify.Thresholds{Failure: 3, Success: 2}
	tests := []struct {
		name    string
		th      notify.Thresholds
		results string
		want    string
	}{
		{"passing stays ok", def, "oooo", "OOOO"},
		{"fails on the third failure in a row", def, "offf", "OOOF"},
		{"two failures are not enough", def, "ffoff", "OOOOO"},
		{"resolved on the second pass in a row", def, "fffoo", "OOFFO"},
		{"one pass does not resolve", def, "fffofo", "OOFFFF"},
		{"flapping never triggers", def, "fofofofofo", "OOOOOOOOOO"},
		{"flapping while failing never resolves", def, "ffffofofof", "OOFFFFFFFF"},
		{"flapping in pairs never triggers", def, "ffooffooff", "OOOOOOOOOO"},
		{"warnings trigger a warning", def, "www", "OOW"},
		{"a warning then failures count together", def, "wwf", "OOF"},
		{"failures then a warning are a warning", def, "ffw", "OOW"},
		{"once bad, it follows the level at once", def, "fffwwf", "OOFWWF"},
		{"a warning is resolved like a failure", def, "wwwoo", "OOWWO"},
		{"threshold 1 triggers at once", notify.Thresholds{Failure: 1, Success: 1}, "fofo", "FOFO"},
		{"zero thresholds count as 1", notify.Thresholds{}, "fo", "FO"},
		{"thresholds of 5 and 3", notify.Thresholds{Failure: 5, Success: 3}, "ffffffooofooo", "OOOOFFFFOOOOO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := steps(t, tt.th, tt.results); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.results, got, tt.want)
			}
		})
	}
}

func TestStepSinceAndCounts(t *testing.T) {
	start := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	_, s := steps(t, notify.Thresholds{Failure: 3, Success: 2}, "offffo")
	want := notify.Status{State: notify.Failing, Fails: 0, Passes: 1, Since: start.Add(3 * time.Second)}
	if s != want {
		t.Errorf("status = %+v, want %+v", s, want)
	}
	_, s = steps(t, notify.Thresholds{Failure: 3, Success: 2}, "ooo")
	if want := (notify.Status{State: notify.OK, Passes: 3, Since: start}); s != want {
		t.Errorf("status = %+v, want %+v", s, want)
	}
}
