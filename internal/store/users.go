package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// User is an account of the admin.
type User struct {
	ID        int64
	Name      string
	Superuser bool // may delete records; every user may read them
	CreatedAt time.Time
	LastLogin time.Time // zero before the first login
}

// Session is a login: the token its cookie carries and when it ends.
type Session struct {
	Token   string
	Expires time.Time
}

var (
	ErrUserExists = errors.New("the user exists")
	ErrNoUser     = errors.New("no such user")
	// ErrBadLogin is the answer to a wrong name and to a wrong password
	// alike, so that a login form does not tell which users exist.
	ErrBadLogin  = errors.New("wrong user name or password")
	ErrNoSession = errors.New("no session, or it has ended")
)

// PasswordCost is bcrypt's cost for new password hashes: about 0.3 s on a
// server core. Tests lower it before they start.
var PasswordCost = 12

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 8

// CheckPassword tells why a password cannot be used, or nil. bcrypt reads
// 72 bytes at most, so a longer password is refused rather than cut.
func CheckPassword(password string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return fmt.Errorf("the password is too short: it must have %d characters at least", MinPasswordLength)
	case len(password) > 72:
		return errors.New("the password is too long: it must fit in 72 bytes")
	}
	return nil
}

// CheckUserName tells why a user name cannot be used, or nil: as Django's,
// 150 characters at most of letters, digits and @ . + - _.
func CheckUserName(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 150 {
		return errors.New("a user name has 1 to 150 characters")
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r > 127 || r == '@' || r == '.' || r == '+' || r == '-' || r == '_') {
			return fmt.Errorf("a user name has letters, digits and @ . + - _ only, not %q", r)
		}
	}
	return nil
}

func hashPassword(password string) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CreateUser adds a user; ErrUserExists when the name is taken.
func (s *DB) CreateUser(ctx context.Context, name, password string, superuser bool) (User, error) {
	if err := CheckUserName(name); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return User{}, err
	}
	now := s.Now().UTC()
	_, err = s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO healthjob_user (username, password, is_superuser, created_at) VALUES (?, ?, ?, ?)`),
		name, hash, superuser, s.dialect.time(now))
	if err != nil {
		// A unique violation reads differently on each engine: look.
		if u, lookErr := s.User(ctx, name); lookErr == nil {
			return u, ErrUserExists
		}
		return User{}, fmt.Errorf("create user %s: %w", name, err)
	}
	return s.User(ctx, name)
}

// SetPassword changes a user's password and superuser flag, and ends the
// user's sessions.
func (s *DB) SetPassword(ctx context.Context, name, password string, superuser bool) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	u, err := s.User(ctx, name)
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, s.dialect.rebind(`UPDATE healthjob_user SET password = ?, is_superuser = ? WHERE id = ?`), hash, superuser, u.ID); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, s.dialect.rebind(`DELETE FROM healthjob_session WHERE user_id = ?`), u.ID); err != nil {
		return fmt.Errorf("end sessions of %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	return nil
}

// User returns the user of that name, or ErrNoUser.
func (s *DB) User(ctx context.Context, name string) (User, error) {
	u, _, err := s.user(ctx, `SELECT id, username, is_superuser, created_at, last_login, password FROM healthjob_user WHERE username = ?`, name)
	return u, err
}

func (s *DB) user(ctx context.Context, query string, args ...any) (User, string, error) {
	var u User
	var hash string
	var created, lastLogin any
	err := s.db.QueryRowContext(ctx, s.dialect.rebind(query), args...).Scan(&u.ID, &u.Name, &u.Superuser, &created, &lastLogin, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, "", ErrNoUser
	}
	if err != nil {
		return User{}, "", fmt.Errorf("read user: %w", err)
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return User{}, "", fmt.Errorf("read user: %w", err)
	}
	if lastLogin != nil {
		if u.LastLogin, err = parseTime(lastLogin); err != nil {
			return User{}, "", fmt.Errorf("read user: %w", err)
		}
	}
	return u, hash, nil
}

// dummy is a hash at PasswordCost that an unknown user's password is
// compared with, so that an unknown name takes as long as a wrong password.
var dummy struct {
	sync.Mutex
	cost int
	hash []byte
}

func dummyHash() []byte {
	dummy.Lock()
	defer dummy.Unlock()
	if dummy.cost != PasswordCost {
		h, err := bcrypt.GenerateFromPassword([]byte("not a password of anybody"), PasswordCost)
		if err != nil {
			panic(err) // only a cost out of bcrypt's range fails
		}
		dummy.cost, dummy.hash = PasswordCost, h
	}
	return dummy.hash
}

// Authenticate returns the user whose name and password these are, and
// notes the login; ErrBadLogin for a wrong name or password, after the same
// work in both cases.
func (s *DB) Authenticate(ctx context.Context, name, password string) (User, error) {
	u, hash, err := s.user(ctx, `SELECT id, username, is_superuser, created_at, last_login, password FROM healthjob_user WHERE username = ?`, name)
	switch {
	case errors.Is(err, ErrNoUser):
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password)) //nolint:errcheck // it fails: only its time matters
		return User{}, ErrBadLogin
	case err != nil:
		return User{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return User{}, ErrBadLogin
	}
	now := s.Now().UTC()
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind(`UPDATE healthjob_user SET last_login = ? WHERE id = ?`), s.dialect.time(now), u.ID); err != nil {
		return User{}, fmt.Errorf("note login of %s: %w", name, err)
	}
	return u, nil
}

// tokenHash is what the sessions table keeps of a token.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSession logs u in for ttl, and drops the sessions that have ended.
func (s *DB) NewSession(ctx context.Context, u User, ttl time.Duration) (Session, error) {
	now := s.Now().UTC()
	sess := Session{Token: rand.Text(), Expires: now.Add(ttl)}
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM healthjob_session WHERE expires_at <= ?`), s.dialect.time(now)); err != nil {
		return Session{}, fmt.Errorf("drop ended sessions: %w", err)
	}
	_, err := s.db.ExecContext(ctx, s.dialect.rebind(`INSERT INTO healthjob_session (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		tokenHash(sess.Token), u.ID, s.dialect.time(now), s.dialect.time(sess.Expires))
	if err != nil {
		return Session{}, fmt.Errorf("new session: %w", err)
	}
	return sess, nil
}

// SessionUser returns the user logged in by token, or ErrNoSession when
// the token is unknown or its session has ended.
func (s *DB) SessionUser(ctx context.Context, token string) (User, error) {
	u, _, err := s.user(ctx, `SELECT u.id, u.username, u.is_superuser, u.created_at, u.last_login, u.password
		FROM healthjob_session s JOIN healthjob_user u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, tokenHash(token), s.dialect.time(s.Now().UTC()))
	if errors.Is(err, ErrNoUser) {
		return User{}, ErrNoSession
	}
	return u, err
}

// EndSession logs the session of token out.
func (s *DB) EndSession(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, s.dialect.rebind(`DELETE FROM healthjob_session WHERE token_hash = ?`), tokenHash(token)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
