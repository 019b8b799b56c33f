package admin

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/healthjob/healthjob/internal/admin/ui"
	"github.com/healthjob/healthjob/internal/store"
)

// The charts are drawn on the server as inline SVG: the templates place
// shapes whose coordinates are computed here, and the stylesheet colours
// them by class (passed, warning, failed), for the light and dark themes.

func coord(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) }

// sparkline is a check's mean duration per hour over the last 24 hours.
type sparkline struct {
	Line, Area string // the points of the polyline and of the area under it
	Label      string
}

const sparkW, sparkH = 120.0, 28.0

func newSparkline(series []store.Bucket, now time.Time) sparkline {
	from := now.Add(-24 * time.Hour)
	var xs, ys []float64
	var top, worst time.Duration
	for _, b := range series {
		if b.DurationAvg > 0 {
			top = max(top, b.DurationAvg)
			worst = max(worst, b.DurationMax)
		}
	}
	if top == 0 {
		return sparkline{Label: "no durations in the last 24 hours"}
	}
	for _, b := range series {
		if b.DurationAvg <= 0 {
			continue
		}
		mid := b.Start.Add(30 * time.Minute)
		xs = append(xs, min(max(float64(mid.Sub(from))/float64(24*time.Hour), 0), 1)*sparkW)
		ys = append(ys, sparkH-2-float64(b.DurationAvg)/float64(top)*(sparkH-4))
	}
	if len(xs) == 1 { // one hour: a flat line across its width
		xs = append([]float64{max(xs[0]-sparkW/48, 0)}, min(xs[0]+sparkW/48, sparkW))
		ys = append(ys, ys[0])
	}
	var line []string
	for i := range xs {
		line = append(line, coord(xs[i])+","+coord(ys[i]))
	}
	area := coord(xs[0]) + "," + coord(sparkH) + " " + strings.Join(line, " ") + " " + coord(xs[len(xs)-1]) + "," + coord(sparkH)
	return sparkline{
		Line:  strings.Join(line, " "),
		Area:  area,
		Label: fmt.Sprintf("mean duration per hour over 24 hours: highest %s, slowest run %s", durationText(top), durationText(worst)),
	}
}

// statusBar is a check's newest runs, oldest on the left, one tick each.
type statusBar struct {
	Ticks []tick
	Label string
}

type tick struct {
	X       string
	Outcome string
	Title   string
}

const tickW = 5.0

func newStatusBar(newestFirst []store.Record) statusBar {
	var b statusBar
	counts := map[string]int{}
	n := len(newestFirst)
	for i := n - 1; i >= 0; i-- {
		r := newestFirst[i]
		o := outcome(r)
		counts[o]++
		slot := recentCycles - 1 - i // the newest at the right end
		b.Ticks = append(b.Ticks, tick{X: coord(float64(slot) * tickW), Outcome: o,
			Title: r.CreatedAt.UTC().Format(ui.TimeLayout) + " UTC: " + o + ": " + r.Message})
	}
	b.Label = fmt.Sprintf("last %d runs: %d passed, %d with a warning, %d failed", n, counts["passed"], counts["warning"], counts["failed"])
	return b
}

// timeline is a check's status over a range, one segment per stretch of a
// status, with a few labelled times below.
type timeline struct {
	Segments []segment
	Axis     []axisTick
	Label    string
}

type segment struct {
	X, W    string
	Outcome string
	Title   string
}

type axisTick struct {
	X, Text string
	Anchor  string // start, middle, end
}

const timelineW, minSegment = 1000.0, 3.0

func newTimeline(changes []change, from, to time.Time) timeline {
	var t timeline
	span := float64(to.Sub(from))
	x := func(at time.Time) float64 {
		return min(max(float64(at.Sub(from))/span, 0), 1) * timelineW
	}
	for i := len(changes) - 1; i >= 0; i-- { // oldest first
		c := changes[i]
		// A stretch stays wide enough to see: a ten-minute outage in a
		// month is a sliver, but not nothing.
		x0, x1 := x(c.CreatedAt), x(c.Until)
		w := max(x1-x0, minSegment)
		x0 = min(x0, timelineW-w)
		t.Segments = append(t.Segments, segment{X: coord(x0), W: coord(w), Outcome: c.Outcome,
			Title: fmt.Sprintf("%s for %s from %s UTC: %s", c.Outcome, ui.Span(c.For), c.CreatedAt.UTC().Format(ui.TimeLayout), c.Message)})
	}
	const ticks = 4
	layout := "Jan 2 15:04"
	if to.Sub(from) > 3*24*time.Hour {
		layout = "Jan 2"
	}
	for i := 0; i <= ticks; i++ {
		at := from.Add(time.Duration(float64(to.Sub(from)) * float64(i) / ticks))
		anchor := "middle"
		switch i {
		case 0:
			anchor = "start"
		case ticks:
			anchor = "end"
		}
		t.Axis = append(t.Axis, axisTick{X: coord(x(at)), Text: at.UTC().Format(layout), Anchor: anchor})
	}
	t.Label = fmt.Sprintf("status from %s to %s UTC, %d stretches", from.UTC().Format(ui.TimeLayout), to.UTC().Format(ui.TimeLayout), len(changes))
	return t
}
