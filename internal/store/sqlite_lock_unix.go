//go:build unix

package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pressly/goose/v3/lock"
)

// sqliteLocker serialises the migrations of SQLite databases across
// processes: a monitor and serve started together in one directory take
// turns instead of both applying the first migration.
func sqliteLocker() (lock.SessionLocker, error) { return &dirLock{}, nil }

// dirLock holds an flock on the directory of the database. Not on the file
// itself: closing another descriptor of it would drop this process's own
// SQLite locks on it.
type dirLock struct{ dir *os.File }

func (l *dirLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	var path string
	if err := conn.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		return err
	}
	if path == "" {
		return nil // in memory: no other process sees it
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	// flock cannot wait on ctx: try, and try again.
	for {
		err := syscall.Flock(int(dir.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			l.dir = dir
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			dir.Close()
			return err
		}
		select {
		case <-ctx.Done():
			dir.Close()
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (l *dirLock) SessionUnlock(context.Context, *sql.Conn) error {
	if l.dir == nil {
		return nil
	}
	err := l.dir.Close() // releases the lock
	l.dir = nil
	return err
}
