//go:build !unix

package store

import "github.com/pressly/goose/v3/lock"

// sqliteLocker is nil where flock is missing: start one process at a time
// on a new SQLite database.
var sqliteLocker func() (lock.SessionLocker, error)
