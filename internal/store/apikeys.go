package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// APIKeyTable holds serve's API keys, hashed.
const APIKeyTable = "healthjob_api_key"

// AllApps is the app of a key that serves every application.
const AllApps = "*"

// APIKey is one of serve's API keys, without the key itself: only its
// SHA-256 is stored.
type APIKey struct {
	ID        int64
	App       string // the application it may report and read; AllApps for every one
	Prefix    string // the key's first characters, to tell keys apart
	CreatedAt time.Time
	RevokedAt time.Time // zero while it is valid
}

// Allows tells whether the key may report and read app's checks.
func (k APIKey) Allows(app string) bool { return k.App == AllApps || k.App == app }

// ErrNoAPIKey is returned for a key or an id that no valid key has.
var ErrNoAPIKey = errors.New("no such API key")

// keyPrefix starts every key, so that a secret scanner can tell one.
const keyPrefix = "hj_"

// MaxAppID is the longest app id the records' app_id column holds.
const MaxAppID = 100

// CheckAppID tells why s cannot be an app id, or returns nil: 1 to 100
// characters, none of them a control character.
func CheckAppID(s string) error {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return errors.New("want an application id, got an empty string")
	case n > MaxAppID:
		return fmt.Errorf("want at most %d characters, got %d", MaxAppID, n)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("want no control characters, got %q", s)
	}
	return nil
}

func hashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateAPIKey makes a key for app (AllApps for every one) from 256 random
// bits and stores its hash. The key is returned once and never again.
func (s *DB) CreateAPIKey(ctx context.Context, app string) (APIKey, string, error) {
	if app != AllApps {
		if err := CheckAppID(app); err != nil {
			return APIKey{}, "", fmt.Errorf("app %q: %w", app, err)
		}
	}
	b := make([]byte, 32)
	rand.Read(b) // never fails: see crypto/rand.Read
	key := keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	k := APIKey{App: app, Prefix: key[:len(keyPrefix)+6], CreatedAt: s.Now().UTC().Truncate(time.Microsecond)}
	hash := hashKey(key)
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO `+APIKeyTable+` (app_id, prefix, hash, created_at) VALUES (?, ?, ?, ?)`),
		k.App, k.Prefix, hash, s.dialect.time(k.CreatedAt)); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT id FROM `+APIKeyTable+` WHERE hash = ?`), hash).Scan(&k.ID); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key: %w", err)
	}
	return k, key, nil
}

const apiKeyColumns = "id, app_id, prefix, created_at, revoked_at"

func (s *DB) apiKeys(ctx context.Context, where string, args ...any) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT `+apiKeyColumns+` FROM `+APIKeyTable+` `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIKey
	for rows.Next() {
		var k APIKey
		var created, revoked any
		if err := rows.Scan(&k.ID, &k.App, &k.Prefix, &created, &revoked); err != nil {
			return nil, err
		}
		if k.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if revoked != nil {
			if k.RevokedAt, err = parseTime(revoked); err != nil {
				return nil, err
			}
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKeys lists every key, revoked ones too, by id.
func (s *DB) APIKeys(ctx context.Context) ([]APIKey, error) {
	keys, err := s.apiKeys(ctx, `ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return keys, nil
}

// LookupAPIKey returns the valid key whose hash is key's, or ErrNoAPIKey.
func (s *DB) LookupAPIKey(ctx context.Context, key string) (APIKey, error) {
	keys, err := s.apiKeys(ctx, `WHERE hash = ? AND revoked_at IS NULL`, hashKey(key))
	if err != nil {
		return APIKey{}, fmt.Errorf("look up API key: %w", err)
	}
	if len(keys) == 0 {
		return APIKey{}, ErrNoAPIKey
	}
	return keys[0], nil
}

// RevokeAPIKey revokes the valid key of id and returns it, or ErrNoAPIKey.
// The key stays listed, revoked.
func (s *DB) RevokeAPIKey(ctx context.Context, id int64) (APIKey, error) {
	now := s.Now().UTC().Truncate(time.Microsecond)
	res, err := s.db.ExecContext(ctx, s.dialect.rebind(`UPDATE `+APIKeyTable+` SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
		s.dialect.time(now), id)
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke API key %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return APIKey{}, fmt.Errorf("revoke API key %d: %w", id, cmp.Or(err, ErrNoAPIKey))
	}
	keys, err := s.apiKeys(ctx, `WHERE id = ?`, id)
	if err != nil || len(keys) == 0 {
		return APIKey{}, fmt.Errorf("revoke API key %d: %w", id, cmp.Or(err, sql.ErrNoRows))
	}
	return keys[0], nil
}
