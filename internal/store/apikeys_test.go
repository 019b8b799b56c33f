package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/healthjob/healthjob/internal/store"
)

// TestAPIKeys: a key is returned once, stored as its hash, found by the
// key until revoked, and listed with its prefix.
func TestAPIKeys(t *testing.T) {
	eachEngine(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := migrated(t, url)
		now := time.Date(2023, 11, 20, 12, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		k, key, err := db.CreateAPIKey(ctx, "billing")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(key, "hj_") || len(key) != 46 || k.Prefix != key[:9] || k.App != "billing" || k.ID == 0 || !k.CreatedAt.Equal(now) {
			t.Errorf("CreateAPIKey = %+v, %q", k, key)
		}
		all, allKey, err := db.CreateAPIKey(ctx, store.AllApps)
		if err != nil || !all.Allows("anything") || k.Allows("payroll") || !k.Allows("billing") {
			t.Errorf("AllApps key %+v, %v", all, err)
		}
		var stored int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM ` + store.APIKeyTable + ` WHERE hash = '` + key + `' OR prefix = '` + key + `'`).Scan(&stored); err != nil || stored != 0 {
			t.Errorf("the key itself is stored: %d rows, %v", stored, err)
		}
		if got, err := db.LookupAPIKey(ctx, key); err != nil || got.ID != k.ID || got.App != "billing" {
			t.Errorf("LookupAPIKey = %+v, %v", got, err)
		}
		for _, wrong := range []string{"", "hj_", key + "x", key[:len(key)-1], strings.ToUpper(key)} {
			if _, err := db.LookupAPIKey(ctx, wrong); !errors.Is(err, store.ErrNoAPIKey) {
				t.Errorf("LookupAPIKey(%q) = %v, want ErrNoAPIKey", wrong, err)
			}
		}
		now = now.Add(time.Hour)
		revoked, err := db.RevokeAPIKey(ctx, k.ID)
		if err != nil || !revoked.RevokedAt.Equal(now) || revoked.App != "billing" {
			t.Errorf("RevokeAPIKey = %+v, %v", revoked, err)
		}
		if _, err := db.LookupAPIKey(ctx, key); !errors.Is(err, store.ErrNoAPIKey) {
			t.Errorf("a revoked key: %v", err)
		}
		for _, id := range []int64{k.ID, 999} {
			if _, err := db.RevokeAPIKey(ctx, id); !errors.Is(err, store.ErrNoAPIKey) {
				t.Errorf("RevokeAPIKey(%d) = %v, want ErrNoAPIKey", id, err)
			}
		}
		if _, err := db.LookupAPIKey(ctx, allKey); err != nil {
			t.Errorf("the other key after a revocation: %v", err)
		}
		keys, err := db.APIKeys(ctx)
		if err != nil || len(keys) != 2 || keys[0].ID != k.ID || keys[0].RevokedAt.IsZero() || !keys[1].RevokedAt.IsZero() || keys[1].App != "*" {
			t.Errorf("APIKeys = %+v, %v", keys, err)
		}
		for app, want := range map[string]string{
			"":                       `app "": want an application id, got an empty string`,
			strings.Repeat("a", 101): `app "` + strings.Repeat("a", 101) + `": want at most 100 characters, got 101`,
			"bill\ning":              `app "bill\ning": want no control characters, got "bill\ning"`,
		} {
			if _, _, err := db.CreateAPIKey(ctx, app); err == nil || err.Error() != want {
				t.Errorf("CreateAPIKey(%q) = %v, want %s", app, err, want)
			}
		}
	})
}
