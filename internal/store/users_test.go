package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// lowCost makes password hashing fast for the test.
func lowCost(t *testing.T) {
	old := store.PasswordCost
	store.PasswordCost = bcrypt.MinCost
	t.Cleanup(func() { store.PasswordCost = old })
}

func TestUsersAndSessions(t *testing.T) {
	lowCost(t)
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := mustOpen(t, url)
		mustMigrate(t, db)
		now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }

		u, err := db.CreateUser(ctx, "ada", "correct horse", true)
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "ada" || !u.Superuser || !u.CreatedAt.Equal(now) || !u.LastLogin.IsZero() {
			t.Errorf("created %+v", u)
		}
		if _, err := db.CreateUser(ctx, "ada", "another one", false); !errors.Is(err, store.ErrUserExists) {
			t.Errorf("second ada: %v, want ErrUserExists", err)
		}
		for _, tc := range []struct{ name, password, want string }{
			{"", "correct horse", "a user name has 1 to 150 characters"},
			{strings.Repeat("a", 151), "correct horse", "a user name has 1 to 150 characters"},
			{"ada lovelace", "correct horse", "a user name has letters, digits and @ . + - _ only, not ' '"},
			{"bob", "short", "the password is too short: it must have 8 characters at least"},
			{"bob", strings.Repeat("é", 37), "the password is too long: it must fit in 72 bytes"},
		} {
			if _, err := db.CreateUser(ctx, tc.name, tc.password, false); err == nil || err.Error() != tc.want {
				t.Errorf("CreateUser(%q, %q) = %v, want %q", tc.name, tc.password, err, tc.want)
			}
		}

		if _, err := db.Authenticate(ctx, "ada", "wrong horse"); !errors.Is(err, store.ErrBadLogin) {
			t.Errorf("wrong password: %v, want ErrBadLogin", err)
		}
		if _, err := db.Authenticate(ctx, "nobody", "correct horse"); !errors.Is(err, store.ErrBadLogin) {
			t.Errorf("unknown user: %v, want ErrBadLogin", err)
		}
		now = now.Add(time.Minute)
		u, err = db.Authenticate(ctx, "ada", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		if !u.LastLogin.IsZero() {
			t.Errorf("Authenticate returned the login it notes: %v", u.LastLogin)
		}
		if u, _ := db.User(ctx, "ada"); !u.LastLogin.Equal(now) {
			t.Errorf("last login %v, want %v", u.LastLogin, now)
		}

		sess, err := db.NewSession(ctx, u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !sess.Expires.Equal(now.Add(time.Hour)) || len(sess.Token) < 26 {
			t.Errorf("session %+v", sess)
		}
		if got, err := db.SessionUser(ctx, sess.Token); err != nil || got.ID != u.ID || got.Name != "ada" {
			t.Errorf("SessionUser = %+v, %v", got, err)
		}
		if _, err := db.SessionUser(ctx, sess.Token+"x"); !errors.Is(err, store.ErrNoSession) {
			t.Errorf("unknown token: %v, want ErrNoSession", err)
		}
		now = now.Add(time.Hour)
		if _, err := db.SessionUser(ctx, sess.Token); !errors.Is(err, store.ErrNoSession) {
			t.Errorf("ended session: %v, want ErrNoSession", err)
		}

		other, err := db.NewSession(ctx, u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.EndSession(ctx, other.Token); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionUser(ctx, other.Token); !errors.Is(err, store.ErrNoSession) {
			t.Errorf("logged out: %v, want ErrNoSession", err)
		}

		third, err := db.NewSession(ctx, u, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(ctx, "ada", "battery staple", false); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SessionUser(ctx, third.Token); !errors.Is(err, store.ErrNoSession) {
			t.Errorf("session after a new password: %v, want ErrNoSession", err)
		}
		if u, err := db.Authenticate(ctx, "ada", "battery staple"); err != nil || u.Superuser {
			t.Errorf("new password: %+v, %v; want a user who is no superuser", u, err)
		}
		if err := db.SetPassword(ctx, "nobody", "battery staple", false); !errors.Is(err, store.ErrNoUser) {
			t.Errorf("SetPassword of nobody: %v, want ErrNoUser", err)
		}
	})
}

// An unknown user name costs a bcrypt comparison, as a wrong password does.
func TestAuthenticateUnknownUserTakesAsLong(t *testing.T) {
	old := store.PasswordCost
	store.PasswordCost = 10
	t.Cleanup(func() { store.PasswordCost = old })
	ctx := context.Background()
	db := mustOpen(t, freshDatabase(t, "sqlite"))
	mustMigrate(t, db)
	if _, err := db.CreateUser(ctx, "ada", "correct horse", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Authenticate(ctx, "nobody", "warm up"); !errors.Is(err, store.ErrBadLogin) {
		t.Fatal(err) // the first call hashes the dummy
	}
	timed := func(name string) time.Duration {
		best := time.Hour
		for range 3 {
			start := time.Now()
			if _, err := db.Authenticate(ctx, name, "wrong horse"); !errors.Is(err, store.ErrBadLogin) {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	known, unknown := timed("ada"), timed("nobody")
	if unknown < known/2 || unknown > known*2 {
		t.Errorf("an unknown user took %v, a wrong password %v: want about the same", unknown, known)
	}
}
