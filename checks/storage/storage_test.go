package storage_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/healthjob/healthjob/checks/storage"
	"github.com/healthjob/healthjob/healthjobtest"
)

func mustNew(t *testing.T, cfg storage.Config) *storage.Check {
	t.Helper()
	c, err := storage.New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	blocked := t.TempDir() // its test sub-directory is a file, so no test file fits in it
	if err := os.WriteFile(filepath.Join(blocked, "health_check_storage_test"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"healthy", dir, "working"},
		{"default directory", "", "working"},
		{"missing directory", filepath.Join(dir, "missing"),
			"unavailable: Unknown exception: mkdir " + dir + "/missing/health_check_storage_test: no such file or directory"},
		{"path is a file", file,
			"unavailable: Unknown exception: mkdir " + file + "/health_check_storage_test: not a directory"},
		{"test directory is a file", blocked,
			"unavailable: Unknown exception: open " + blocked + "/health_check_storage_test/test-<uuid>.txt: not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			healthjobtest.AssertStatus(t, mustNew(t, storage.Config{Path: tt.path}), 5*time.Second, tt.want)
		})
	}
}

func TestPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root is never denied permission on a directory")
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "health_check_storage_test"), 0o555); err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, mustNew(t, storage.Config{Path: dir}), 5*time.Second,
		"unavailable: Unknown exception: open "+dir+"/health_check_storage_test/test-<uuid>.txt: permission denied")
}

// The check cleans up after itself: after any number of runs the test
// sub-directory is empty, and the directory holds nothing else.
func TestLeavesNothingBehind(t *testing.T) {
	dir := t.TempDir()
	c := mustNew(t, storage.Config{Path: dir})
	for range 3 {
		healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	}
	entries, err := os.ReadDir(filepath.Join(dir, "health_check_storage_test"))
	if err != nil || len(entries) != 0 {
		t.Errorf("test directory holds %v (err %v), want nothing", entries, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("directory holds %v, want only health_check_storage_test", entries)
	}
}

// In a shared directory such as /tmp the test sub-directory is shared too,
// so that checks run by different users can all use it.
func TestSharedDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	healthjobtest.AssertStatus(t, mustNew(t, storage.Config{Path: dir}), 5*time.Second, "working")
	fi, err := os.Stat(filepath.Join(dir, "health_check_storage_test"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fi.Mode()&(os.ModePerm|os.ModeSticky), 0o777|os.ModeSticky; got != want {
		t.Errorf("test directory mode = %s, want %s", got, want)
	}
}

func TestRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c := mustNew(t, storage.Config{Path: "."})
	t.Chdir(t.TempDir()) // the check keeps the directory it was given
	healthjobtest.AssertStatus(t, c, 5*time.Second, "working")
	if _, err := os.Stat(filepath.Join(dir, "health_check_storage_test")); err != nil {
		t.Errorf("check did not use the directory it was created with: %v", err)
	}
}

func TestName(t *testing.T) {
	if got := mustNew(t, storage.Config{}).Name(); got != "DefaultFileStorageHealthCheck" {
		t.Errorf("default Name() = %q, want DefaultFileStorageHealthCheck", got)
	}
	if got := mustNew(t, storage.Config{Name: "media"}).Name(); got != "media" {
		t.Errorf("Name() = %q, want media", got)
	}
}

func TestConformance(t *testing.T) {
	healthjobtest.Conformance(t, mustNew(t, storage.Config{Path: t.TempDir()}))
}
