package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/healthjob/healthjob/internal/store"
)

// runAPIKey manages serve's API keys in DATABASE_URL: create APP (the key
// is printed once, as the last line), list, revoke ID.
func runAPIKey(ctx context.Context, e *env, args []string) error {
	synopses := map[string]string{
		"create": "[--config FILE] APP    (APP * for every app)",
		"list":   "[--config FILE]",
		"revoke": "[--config FILE] ID",
	}
	argument := map[string]string{"create": "one argument, the app id (* for every app)", "list": "no arguments", "revoke": "one argument, the key's ID"}
	if len(args) == 0 || synopses[args[0]] == "" {
		return usageErr(errors.New("want create APP, list or revoke ID"))
	}
	sub := args[0]
	f := newFlags(e, "apikey "+sub, synopses[sub])
	if err := f.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage}
	}
	if want := map[string]int{"create": 1, "list": 0, "revoke": 1}[sub]; f.NArg() != want {
		return usageErr(fmt.Errorf("%s: want %s; got %d", sub, argument[sub], f.NArg()))
	}
	var id int64
	if sub == "revoke" {
		var err error
		if id, err = strconv.ParseInt(f.Arg(0), 10, 64); err != nil {
			return usageErr(fmt.Errorf("revoke: want the key's ID, a number from `healthjob apikey list`, got %q", f.Arg(0)))
		}
	}
	cfg, err := f.load(e)
	if err != nil {
		return err
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		k, key, err := db.CreateAPIKey(ctx, f.Arg(0))
		if err != nil {
			return usageErr(err)
		}
		fmt.Fprintf(e.stdout, "API key %d for %s; it is shown only this once. Give it to the monitor as SYNC_API_KEY:\n%s\n", k.ID, apps(k.App), key)
	case "list":
		keys, err := db.APIKeys(ctx)
		if err != nil {
			return err
		}
		w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tAPP\tKEY\tCREATED\tREVOKED")
		for _, k := range keys {
			revoked := "-"
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%d\t%s\t%s…\t%s\t%s\n", k.ID, k.App, k.Prefix, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return w.Flush()
	case "revoke":
		k, err := db.RevokeAPIKey(ctx, id)
		if errors.Is(err, store.ErrNoAPIKey) {
			return fmt.Errorf("no valid API key %d; see `healthjob apikey list`", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Revoked API key %d (%s…) for %s.\n", k.ID, k.Prefix, apps(k.App))
	}
	return nil
}

// apps names what a key is for.
func apps(app string) string {
	if app == store.AllApps {
		return "every app"
	}
	return strconv.Quote(app)
}
