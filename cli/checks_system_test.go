package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/healthjobtest"
	"github.com/healthjob/healthjob/internal/config"
)

// buildEntry loads a configuration file of settings and one check entry and
// builds the check from types. It returns the check, or the error without
// the file's path ("3: checks[1] (disk): …").
func buildEntry(t *testing.T, types map[string]checkType, settings, entry string) (healthjob.Check, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "healthjob.yaml")
	if err := os.WriteFile(file, []byte(settings+"checks:\n  - "+entry+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(file, func(string) string { return "" })
	if err != nil {
		t.Fatalf("load %s: %v", entry, err)
	}
	spec := cfg.CheckList()[0]
	c, err := types[spec.Type](spec, cfg)
	if err != nil {
		return nil, strings.TrimPrefix(err.Error(), file+":")
	}
	return c, ""
}

// checkEntry is one case of a check type table test: an entry (with the
// settings above it) and what it gives — the name and status of the built
// check, or the error (then name is empty).
type checkEntry struct {
	settings, entry string
	name, status    string
	err             string
}

func testEntries(t *testing.T, types map[string]checkType, tests []checkEntry) {
	t.Helper()
	for _, tt := range tests {
		c, err := buildEntry(t, types, tt.settings, tt.entry)
		if err != tt.err {
			t.Errorf("%s: error %q, want %q", tt.entry, err, tt.err)
			continue
		}
		if c == nil {
			continue
		}
		if c.Name() != tt.name {
			t.Errorf("%s: name %q, want %q", tt.entry, c.Name(), tt.name)
		}
		if tt.status == "" {
			continue
		}
		got, _ := healthjobtest.Result(c, 5*time.Second)
		if strings.HasSuffix(tt.status, "…") {
			if !strings.HasPrefix(got, strings.TrimSuffix(tt.status, "…")) {
				t.Errorf("%s: status %q, want it to start with %q", tt.entry, got, tt.status)
			}
		} else if got != tt.status {
			t.Errorf("%s: status %q, want %q", tt.entry, got, tt.status)
		}
	}
}

func TestSystemCheckTypes(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	testEntries(t, systemCheckTypes, []checkEntry{
		{entry: `{type: disk}`, name: "DiskUsage"},
		{entry: `{type: disk, max: 100}`, name: "DiskUsage", status: "working"},
		{settings: "DISK_USAGE_MAX: 0.0001\n", entry: `{type: disk, path: /tmp}`, name: "DiskUsage[/tmp]", status: "warning: " + host + " …"},
		{entry: `{type: disk, path: /nope, name: Data}`, name: "Data", status: "unexpected result: ValueError: /nope: no such file or directory"},
		{entry: `{type: disk, max: 0}`, err: "2: checks[1] (disk): max: must be a percentage above 0 and at most 100, got 0"},
		{entry: `{type: disk, max: 101}`, err: "2: checks[1] (disk): max: must be a percentage above 0 and at most 100, got 101"},
		{entry: `{type: disk, max: lots}`, err: `2: checks[1] (disk): max: want a number, got "lots"`},
		{entry: `{type: disk, min: 5}`, err: "2: checks[1] (disk): unknown option min"},

		{entry: `{type: memory}`, name: "MemoryUsage"},
		{settings: "MEMORY_MIN: 1000000000000\n", entry: `{type: memory}`, name: "MemoryUsage", status: "warning: " + host + " …"},
		{settings: "MEMORY_MIN: 0\n", entry: `{type: memory}`, name: "MemoryUsage", status: "working"},
		{settings: "MEMORY_MIN: 1000000000000\n", entry: `{type: memory, min: 0}`, name: "MemoryUsage", status: "working"},
		{entry: `{type: memory, min: 1}`, name: "MemoryUsage", status: "working"},
		{entry: `{type: memory, min: -5}`, err: "2: checks[1] (memory): min: must be 0 MB or more, got -5"},

		{entry: `{type: cpu, max: 100, interval: 100ms}`, name: "CPUUsage", status: "working"},
		{entry: `{type: cpu, max: 0}`, err: "2: checks[1] (cpu): max: must be a percentage above 0 and at most 100, got 0"},
		{entry: `{type: cpu, interval: 0}`, err: "2: checks[1] (cpu): interval: must be more than 0, got 0"},
		{entry: `{type: cpu, interval: -1s}`, err: "2: checks[1] (cpu): interval: must be more than 0, got -1s"},

		{entry: `{type: load, max1: 1000, max5: 1000, max15: 1000, per_cpu: true}`, name: "LoadAverage", status: "working"},
		{entry: `{type: load, per_cpu: true}`, err: "2: checks[1] (load): set at least one of max1, max5 and max15"},
		{entry: `{type: load, max15: -1}`, err: "2: checks[1] (load): max15: must be 0 or more, got -1"},
	})
}
