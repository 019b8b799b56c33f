package routing

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a five-field cron expression: minute, hour, day of month,
// month, day of week, each a *, a number, a range a-b, a step */n or a-b/n,
// or a comma-separated list of those. Months and days of the week also take
// their English three-letter names; Sunday is 0 or 7. As in cron, when both
// the day of the month and the day of the week are restricted, a time
// matches either.
type Schedule struct {
	expr                          string
	minute, hour, dom, month, dow uint64 // bit i set: value i matches
	domStar, dowStar              bool
}

var months = []string{"", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var days = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseSchedule reads a cron expression.
func ParseSchedule(expr string) (*Schedule, error) {
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(fields))
	}
	s := &Schedule{expr: strings.Join(fields, " "), domStar: fields[2] == "*", dowStar: fields[4] == "*"}
	specs := []struct {
		name     string
		min, max int
		names    []string
		bits     *uint64
	}{
		{"minute", 0, 59, nil, &s.minute},
		{"hour", 0, 23, nil, &s.hour},
		{"day of month", 1, 31, nil, &s.dom},
		{"month", 1, 12, months, &s.month},
		{"day of week", 0, 7, days, &s.dow},
	}
	for i, spec := range specs {
		bits, err := parseField(fields[i], spec.min, spec.max, spec.names)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s: %v", expr, spec.name, err)
		}
		*spec.bits = bits
	}
	if s.dow&(1<<7) != 0 {
		s.dow |= 1 // 7 is Sunday too
	}
	return s, nil
}

func parseField(field string, min, max int, names []string) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(field, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return 0, fmt.Errorf("step %q is not a whole number above 0", stepText)
			}
			step = n
		}
		lo, hi := min, max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = value(a, min, max, names); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = value(b, min, max, names); err != nil {
					return 0, err
				}
				if hi < lo {
					return 0, fmt.Errorf("range %q runs backwards", rng)
				}
			} else if hasStep {
				hi = max // "5/15" is "5-max/15", as in Vixie cron
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
	}
	return bits, nil
}

func value(s string, min, max int, names []string) (int, error) {
	for i, name := range names {
		if name != "" && strings.EqualFold(s, name) {
			return i, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < min || n > max {
		return 0, fmt.Errorf("%d is out of range %d-%d", n, min, max)
	}
	return n, nil
}

// String returns the expression.
func (s *Schedule) String() string { return s.expr }

// Match tells whether the minute t falls in is one of the schedule's.
func (s *Schedule) Match(t time.Time) bool {
	if s.minute&(1<<t.Minute()) == 0 || s.hour&(1<<t.Hour()) == 0 || s.month&(1<<int(t.Month())) == 0 {
		return false
	}
	dom, dow := s.dom&(1<<t.Day()) != 0, s.dow&(1<<int(t.Weekday())) != 0
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Last returns the latest scheduled minute at or before t, looking back no
// further than within; ok is false when there is none.
func (s *Schedule) Last(t time.Time, within time.Duration) (time.Time, bool) {
	m := t.Truncate(time.Minute)
	for earliest := t.Add(-within); !m.Before(earliest.Truncate(time.Minute)); m = m.Add(-time.Minute) {
		if s.Match(m) {
			return m, true
		}
	}
	return time.Time{}, false
}

// Next returns the first scheduled minute after t, looking ahead at most
// within; ok is false when there is none.
func (s *Schedule) Next(t time.Time, within time.Duration) (time.Time, bool) {
	m := t.Truncate(time.Minute).Add(time.Minute)
	for end := t.Add(within); !m.After(end); m = m.Add(time.Minute) {
		if s.Match(m) {
			return m, true
		}
	}
	return time.Time{}, false
}
