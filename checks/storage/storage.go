// Package storage checks a local directory the way django-health-check's
// storage plugin (DefaultFileStorageHealthCheck) checks Django's default file
// storage. Under the configured directory the check:
//
//  1. creates the sub-directory health_check_storage_test, with the
//     directory's permissions, if it is missing (the directory itself must
//     exist: it is never created);
//  2. writes health_check_storage_test/test-<uuid>.txt with a known content;
//  3. checks that the file exists;
//  4. reads it back and compares the content;
//  5. deletes it and checks that it is gone.
//
// Its status texts:
//
//	working
//	unavailable: File does not exist
//	unavailable: File content does not match
//	unavailable: File was not deleted
//	unavailable: Unknown exception: <reason>, e.g. "open …: permission denied"
//
// A reason names the test file as test-<uuid>.txt, so the text is the same
// from one run to the next.
package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/healthjob/healthjob"
)

// DefaultName is the check's name unless Config.Name overrides it.
const DefaultName = "DefaultFileStorageHealthCheck"

// The test file's sub-directory and content, as django-health-check writes them.
const (
	testDir     = "health_check_storage_test"
	testContent = "this is the healthtest file content"
)

// Config configures a storage check.
type Config struct {
	Name string // default DefaultName
	Path string // the directory to check; default os.TempDir()
}

func (c *Config) defaults() {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.Path == "" {
		c.Path = os.TempDir()
	}
}

// Check is a storage check; see the package documentation.
type Check struct {
	name string
	dir  string // absolute
}

var _ healthjob.Check = (*Check)(nil)

// New returns a check of the directory cfg.Path, made absolute now so that a
// later change of working directory does not move it.
func New(cfg Config) (*Check, error) {
	cfg.defaults()
	dir, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("storage path %q: %w", cfg.Path, err)
	}
	return &Check{name: cfg.Name, dir: dir}, nil
}

// Name returns the check's name.
func (c *Check) Name() string { return c.name }

// Check writes, reads and deletes a test file; see the package documentation.
func (c *Check) Check(ctx context.Context) (err error) {
	id := healthjob.NewUUID()
	file := filepath.Join(c.dir, testDir, "test-"+id+".txt")
	unknown := func(err error) error {
		msg := "Unknown exception: " + strings.ReplaceAll(err.Error(), id, "<uuid>")
		return &healthjob.Error{Kind: healthjob.ErrUnavailable, Message: msg, Err: err}
	}
	// Every step first looks at ctx: a slow disk must not hold the check past its deadline.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mkdirLikeParent(filepath.Dir(file)); err != nil && !errors.Is(err, fs.ErrExist) {
		return unknown(err)
	}
	defer func() {
		if err != nil {
			os.Remove(file) // best effort: the check already failed, and says why
		}
	}()
	if err := write(file); err != nil {
		return unknown(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return healthjob.Unavailable("File does not exist")
	} else if err != nil {
		return unknown(err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	got, err := os.ReadFile(file)
	if err != nil {
		return unknown(err)
	}
	if !bytes.Equal(got, []byte(testContent)) {
		return healthjob.Unavailable("File content does not match")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(file); err != nil {
		return unknown(err)
	}
	if _, err := os.Stat(file); err == nil {
		return healthjob.Unavailable("File was not deleted")
	} else if !errors.Is(err, fs.ErrNotExist) {
		return unknown(err)
	}
	return nil
}

// mkdirLikeParent creates dir with its parent's permissions. In a shared
// directory such as /tmp (mode 1777) the test directory is then shared the
// same way, so a check run once by root does not lock out the monitor's user.
func mkdirLikeParent(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	parent, err := os.Stat(filepath.Dir(dir))
	if err != nil {
		return err
	}
	return os.Chmod(dir, parent.Mode()&(fs.ModePerm|fs.ModeSticky))
}

// write creates file, which must not exist yet, with the test content.
func write(file string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(testContent)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
