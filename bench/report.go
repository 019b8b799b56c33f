package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// results is what a bench run found.
type results struct {
	Date       string            `json:"date"`
	Machine    string            `json:"machine"`
	Command    string            `json:"command"`
	Smoke      bool              `json:"smoke,omitempty"`
	Versions   string            `json:"versions"`
	LoadBefore string            `json:"load_before"` // /proc/loadavg: the machine is shared
	LoadAfter  string            `json:"load_after"`
	Rows       []row             `json:"rows"`
	Scale      []scalePoint      `json:"scale,omitempty"`
	Skipped    map[string]string `json:"skipped,omitempty"` // what was not measured, and why
}

// row is one figure measured on both systems, a sample per run.
type row struct {
	Figure    string    `json:"figure"`
	Unit      string    `json:"unit"`
	Higher    bool      `json:"higher_is_better,omitempty"`
	Healthjob []float64 `json:"healthjob"`
	Peer      []float64 `json:"peer"`
	Ratio     *float64  `json:"ratio,omitempty"` // how many times better healthjob's median is
	Target    string    `json:"target,omitempty"`
	Met       *bool     `json:"met,omitempty"`

	goal goal
}

// goal is a row's target: healthjob at least ratio times better than the
// peer, and its median (in absolute value) below below. Zero means none.
type goal struct {
	ratio, below float64
	noRatio      bool // the ratio means nothing (healthjob's figure is about 0)
}

// scalePoint is one point of the scale curve: healthjob alone.
type scalePoint struct {
	Kind        string    `json:"kind"` // http or tcp
	Probes      int       `json:"probes"`
	Concurrency int       `json:"concurrency"`
	CycleMs     []float64 `json:"cycle_ms"`
	CPUMs       []float64 `json:"cpu_ms_per_cycle"`
	RSSMiB      []float64 `json:"rss_mib"`
}

func newResults(o options) *results {
	cmd := "go run ./bench"
	if o.smoke {
		cmd += " -smoke"
	} else if o.runs != 5 {
		cmd += fmt.Sprintf(" -runs %d", o.runs)
	}
	return &results{
		Date:       time.Now().UTC().Format(time.DateOnly),
		Machine:    machine(),
		Command:    cmd,
		Smoke:      o.smoke,
		Versions:   versions(),
		LoadBefore: loadavg(),
		Skipped:    map[string]string{},
	}
}

// add records a figure; the ratio and the verdict are worked out here.
func (r *results) add(figure, unit string, higher bool, g goal, f samples) {
	hj, py := f[0], f[1]
	rw := row{Figure: figure, Unit: unit, Higher: higher, Healthjob: hj, Peer: py, goal: g}
	h, p := median(hj), median(py)
	if !g.noRatio && h != 0 && p != 0 {
		ratio := p / h
		if higher {
			ratio = h / p
		}
		rw.Ratio = &ratio
	}
	var parts []string
	met := true
	if g.ratio > 0 {
		parts = append(parts, fmt.Sprintf("≥ %g× %s", g.ratio, map[bool]string{true: "higher", false: "lower"}[higher]))
		met = met && rw.Ratio != nil && *rw.Ratio >= g.ratio
	}
	if g.below > 0 {
		parts = append(parts, fmt.Sprintf("< %g %s", g.below, unit))
		met = met && math.Abs(h) < g.below
	}
	if len(parts) > 0 {
		rw.Target = strings.Join(parts, " and ")
		rw.Met = &met
	}
	r.Rows = append(r.Rows, rw)
}

func (r *results) finish() { r.LoadAfter = loadavg() }

// markdown renders the tables.
func (r *results) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## healthjob and django-health-check, side by side\n\n")
	fmt.Fprintf(&b, "%s, %s. `%s`. %s. Load average before: %s; after: %s.\n\n", r.Date, r.Machine, r.Command, r.Versions, r.LoadBefore, r.LoadAfter)
	if r.Smoke {
		b.WriteString("Smoke mode: one brief run of each figure. It proves that the bench works; its figures mean nothing.\n\n")
	}
	b.WriteString("| Figure | healthjob (min – median – max) | peer (min – median – max) | healthjob is | Target | |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, rw := range r.Rows {
		ratio := "—"
		if rw.Ratio != nil {
			ratio = fmt.Sprintf("%s× %s", num(*rw.Ratio), map[bool]string{true: "higher", false: "lower"}[rw.Higher])
		}
		verdict := ""
		if rw.Met != nil {
			verdict = map[bool]string{true: "met", false: "**open**"}[*rw.Met]
		}
		fmt.Fprintf(&b, "| %s (%s) | %s | %s | %s | %s | %s |\n", rw.Figure, rw.Unit, spread(rw.Healthjob), spread(rw.Peer), ratio, rw.Target, verdict)
	}
	if len(r.Scale) > 0 {
		b.WriteString("\n### Scale curve: healthjob alone, cycles back to back, every row saved to SQLite\n\n")
		b.WriteString("| Probes | Kind | HEALTH_CHECK_CONCURRENCY | Cycle (ms) | CPU per cycle (ms) | CPU per probe (µs) | RSS (MiB) |\n")
		b.WriteString("|---|---|---|---|---|---|---|\n")
		for _, p := range r.Scale {
			conc := "no bound"
			if p.Concurrency > 0 {
				conc = fmt.Sprint(p.Concurrency)
			}
			fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s |\n", p.Probes, p.Kind, conc, spread(p.CycleMs), spread(p.CPUMs),
				num(median(p.CPUMs)*1000/float64(p.Probes)), num(median(p.RSSMiB)))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.Skipped)) {
		fmt.Fprintf(&b, "\nNot measured: %s: %s\n", k, r.Skipped[k])
	}
	return b.String()
}

// write saves results.md and results.json in dir.
func (r *results) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false) // the targets read "< 1.5 ms"
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), data.Bytes(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "results.md"), []byte(r.markdown()), 0o644)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spread renders min – median – max, or the one value.
func spread(xs []float64) string {
	if len(xs) == 0 {
		return "—"
	}
	if len(xs) == 1 {
		return num(xs[0])
	}
	return num(slices.Min(xs)) + " – " + num(median(xs)) + " – " + num(slices.Max(xs))
}

// num prints three significant digits, without exponents.
func num(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.4f", v)
}

// machine describes the machine: what the README's table must name.
func machine() string {
	desc := fmt.Sprintf("%d cores", runtime.NumCPU())
	if cpu := procField("/proc/cpuinfo", "model name"); cpu != "" {
		desc += " (" + cpu + ")"
	}
	if mem := procField("/proc/meminfo", "MemTotal"); mem != "" {
		var kb float64
		fmt.Sscanf(mem, "%f", &kb) //nolint:errcheck // 0 on a surprise
		desc += fmt.Sprintf(", %.1f GiB", kb/(1<<20))
	}
	if rel, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		desc += ", Linux " + strings.TrimSpace(string(rel))
	}
	return desc
}

// versions names what was measured.
func versions() string {
	v := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		v = strings.TrimSpace(string(out))
	}
	peer := "the peer's packages are missing"
	if out, err := exec.Command("dpkg-query", "-W", "-f", "Django ${Version}", "python3-django").Output(); err == nil {
		peer = string(out)
		if out, err := exec.Command("dpkg-query", "-W", "-f", "django-health-check ${Version}", "python3-django-health-check").Output(); err == nil {
			peer += ", " + string(out)
		}
		if out, err := exec.Command(python, "--version").Output(); err == nil {
			peer += ", " + strings.TrimSpace(string(out))
		}
	}
	return "healthjob built with " + v + "; peer: " + peer + " (Debian 12)"
}

func procField(file, key string) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for l := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadavg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(data))[:3], " ")
}
