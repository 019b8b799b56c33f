// Command bench measures healthjob against the system it replaces,
// django-health-check run in a loop like django-health-check-job's monitor
// (bench/peer), on the same checks, services and machine, in one run, and
// prints a Markdown table of ratios (written also as JSON beside it).
//
//	go run ./bench              # the full run: about 15 minutes on 2 cores
//	go run ./bench -smoke       # every figure once, briefly: a few seconds
//
// It installs the peer from Debian's packages when it is missing
// (.ci/setup.d/django-health-check.sh), builds healthjob's binary, and uses
// the machine's PostgreSQL (HEALTHJOB_POSTGRES_URL) and Redis
// (HEALTHJOB_REDIS_URL). See bench/README.md for what each figure means.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// python is Debian's interpreter, which has Debian's Django packages; the
// python3 on PATH may be another.
const python = "/usr/bin/python3"

// options are the command's flags.
type options struct {
	smoke    bool
	runs     int
	out      string
	install  bool
	families string
	profile  string
	log      io.Writer // progress; the table goes to stdout
}

// sizes are the lengths of the runs: the smoke mode shortens them all.
type sizes struct {
	runs             int           // alternating repetitions of each figure
	cycles           int           // monitor cycles measured, after a warm-up one
	interval         time.Duration // the monitor's interval for those cycles
	writeFor         time.Duration // how long each payload size is written
	writeSizes       []int         // checks per payload
	probes           int           // checks of the HTTP family
	probeCycles      int           // its cycles measured, after a warm-up one
	probeInterval    time.Duration // its interval
	scale            []int         // probes of the scale curve
	scaleConcurrency []int         // its HEALTH_CHECK_CONCURRENCY values
	scaleRuns        int           // repetitions of each of its points
}

func (o options) sizes() sizes {
	if o.smoke {
		return sizes{runs: 1, cycles: 3, interval: 100 * time.Millisecond, writeFor: 100 * time.Millisecond, writeSizes: []int{10, 100, 1000},
			probes: 20, probeCycles: 1, probeInterval: 100 * time.Millisecond, scale: []int{10, 100}, scaleConcurrency: []int{0}, scaleRuns: 1}
	}
	return sizes{runs: o.runs, cycles: 60, interval: 200 * time.Millisecond, writeFor: time.Second, writeSizes: []int{10, 100, 1000},
		probes: 1000, probeCycles: 5, probeInterval: time.Second, scale: []int{10, 100, 1000, 10000}, scaleConcurrency: []int{0, 100}, scaleRuns: 3}
}

func main() {
	o := options{log: os.Stderr}
	flag.BoolVar(&o.smoke, "smoke", false, "run every figure once and briefly (a few seconds), to prove the bench works")
	flag.IntVar(&o.runs, "runs", 5, "alternating runs of each system per figure")
	flag.StringVar(&o.out, "out", filepath.Join(os.TempDir(), "healthjob-bench"), "write results.md and results.json to `DIR`")
	flag.BoolVar(&o.install, "install", true, "install the peer's Debian packages when they are missing (needs root)")
	flag.StringVar(&o.families, "only", "", "run only these `families`, comma-separated: "+strings.Join(familyNames(), ", "))
	flag.StringVar(&o.profile, "cpuprofile", "", "write healthjob's CPU profiles of the monitor runs to `DIR` (HEALTHJOB_CPUPROFILE)")
	flag.Parse()
	if flag.NArg() > 0 || o.runs < 1 || unknownFamily(o.families) != "" {
		if name := unknownFamily(o.families); name != "" {
			fmt.Fprintf(os.Stderr, "bench: -only: no family %q\n", name)
		}
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Print(res.markdown())
	if err := res.write(o.out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s\n", filepath.Join(o.out, "results.md"), filepath.Join(o.out, "results.json"))
}

// bench is what the families share.
type bench struct {
	opts      options
	sizes     sizes
	root      string // the module's root
	work      string // scratch: databases, configurations, files
	binary    string // healthjob, built from root
	redisURL  string
	databases map[string]map[side]string // "sqlite"/"postgres" → each side's URL
	httpURL   string                     // the local HTTP server the probes ask
	tcpAddr   string                     // the local TCP listener the probes connect to
	configs   atomic.Int64               // configuration files written
}

// family is one group of figures, measured by one file of this package.
type family struct {
	name string
	run  func(context.Context, *bench, *results) error
}

var families = []family{
	{"monitor", monitorFamily},
	{"oneshot", oneshotFamily},
	{"write", writeFamily},
	{"http", httpFamily},
	{"scale", scaleFamily},
}

// unknownFamily returns the first name of list that names no family.
func unknownFamily(list string) string {
	for name := range strings.SplitSeq(list, ",") {
		if name != "" && !slices.Contains(familyNames(), name) {
			return name
		}
	}
	return ""
}

func familyNames() []string {
	var names []string
	for _, f := range families {
		names = append(names, f.name)
	}
	return names
}

// run prepares both systems and measures every family.
func run(ctx context.Context, o options) (*results, error) {
	b := &bench{opts: o, sizes: o.sizes(), redisURL: env("HEALTHJOB_REDIS_URL", "redis://127.0.0.1:6379/1")}
	var err error
	if b.root, err = moduleRoot(); err != nil {
		return nil, err
	}
	if err := b.needPeer(); err != nil {
		return nil, err
	}
	if b.work, err = os.MkdirTemp("", "healthjob-bench-"); err != nil {
		return nil, err
	}
	defer os.RemoveAll(b.work)
	for _, s := range []side{healthjobSide, peerSide} {
		if err := os.Mkdir(b.media(s), 0o755); err != nil {
			return nil, err
		}
	}
	if err := b.build(ctx); err != nil {
		return nil, err
	}
	stopServers, err := b.serveTargets()
	if err != nil {
		return nil, err
	}
	defer stopServers()
	res := newResults(o)
	dropDatabases, err := b.prepareDatabases(ctx, res)
	defer dropDatabases()
	if err != nil {
		return nil, err
	}
	for _, f := range families {
		if o.families != "" && !strings.Contains(","+o.families+",", ","+f.name+",") {
			continue
		}
		fmt.Fprintf(o.log, "bench: %s\n", f.name)
		if err := f.run(ctx, b, res); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	res.finish()
	return res, nil
}

// needPeer makes sure Debian's Django and django-health-check are there,
// installing them with the CI's setup script when allowed.
func (b *bench) needPeer() error {
	if peerMissing() == nil {
		return nil
	}
	if !b.opts.install {
		return peerMissing()
	}
	setup := exec.Command("bash", filepath.Join(b.root, ".ci", "setup.d", "django-health-check.sh"))
	setup.Stdout, setup.Stderr = b.opts.log, b.opts.log
	if err := setup.Run(); err != nil {
		return fmt.Errorf("install the peer: %w", err)
	}
	return peerMissing()
}

// peerMissing says why the peer cannot run, or nil.
func peerMissing() error {
	out, err := exec.Command(python, "-c", "import django, health_check, psutil, redis, django_redis, psycopg2").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the peer needs Debian's python3-django, python3-django-health-check, python3-psutil, python3-redis, python3-django-redis and python3-psycopg2 (.ci/setup.d/django-health-check.sh): %s: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// build compiles healthjob as it ships: static, CGO_ENABLED=0.
func (b *bench) build(ctx context.Context) error {
	b.binary = filepath.Join(b.work, "healthjob")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", b.binary, "./cmd/healthjob")
	cmd.Dir, cmd.Env = b.root, append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build healthjob: %w: %s", err, out)
	}
	return nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run the bench inside healthjob's module")
	}
	return filepath.Dir(mod), nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
