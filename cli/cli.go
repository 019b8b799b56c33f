// Package cli is the healthjob command line: monitor, check, serve and the
// other commands, with the table of check types and all the wiring. The
// healthjob binary is cli.Main; a Go program of its own calls cli.Main with
// WithCheck to run the same command line with checks written in Go, as
// django-health-check's plugin_dir.register adds plugins.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/internal/config"
)

// The exit codes every subcommand keeps.
const (
	exitOK      = 0
	exitFailure = 1 // a critical check failed, or healthjob cannot start
	exitUsage   = 2 // bad configuration, flags or arguments
)

// exitError ends the process with code after printing its message, if any.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr marks err as the user's mistake in configuration or flags: exit 2.
func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// env is the process's surroundings, injectable for tests.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	checks         []extraCheck // registered in Go with WithCheck
}

// extraCheck is a check a Go program adds to the configured ones.
type extraCheck struct {
	check healthjob.Check
	opts  []healthjob.Option
}

// Option changes how Main runs.
type Option func(*env)

// WithCheck registers c beside the checks of the configuration, with its
// registry options (healthjob.NonCritical(), healthjob.Timeout(d), …). Its
// name must not clash with a configured check's. SUBSETS may name it. A
// check that is an io.Closer is closed when the command ends, as the
// configured ones are.
func WithCheck(c healthjob.Check, opts ...healthjob.Option) Option {
	return func(e *env) { e.checks = append(e.checks, extraCheck{c, opts}) }
}

// Main runs the command line with args, the arguments after the program's
// name, on the process's standard streams and environment, and returns the
// exit code: 0 ok, 1 a critical check failed or healthjob cannot start, 2 bad
// configuration or flags. Cancelling ctx (on SIGINT or SIGTERM) stops a
// monitor or a server cleanly.
func Main(ctx context.Context, args []string, opts ...Option) int {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	for _, opt := range opts {
		opt(e)
	}
	silenceClientLogs()
	return run(ctx, args, e)
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

var commands = []command{
	{"monitor", "run the checks every HEALTH_CHECK_INTERVAL seconds until stopped", runMonitor},
	{"check", "run the checks once; exit 0 when every critical check passed, 1 otherwise", runCheck},
	{"migrate", "apply the database migrations of the records store", runMigrate},
	{"records", "list the stored records: filter, search, sort, or the latest of each check", runRecords},
	{"prune", "delete the records older than --older-than (or HEALTH_CHECK_RETENTION)", runPrune},
	{"createuser", "add a user of the admin web UI, or --update one's password", runCreateUser},
	{"status", "show the HA lease's holder, the alert states, maintenance and queued notifications", runStatus},
	{"notify", "send a test notification: notify test URL|N (an item of NOTIFICATIONS)", runNotify},
	{"serve", "run the monitoring server: take /v1/metrics and /v1/heartbeat from a fleet of monitors, answer the status API", runServe},
	{"apikey", "manage the API keys of serve: create APP, list, revoke ID", runAPIKey},
	{"config", "print the effective configuration, secrets masked, or --validate it", runConfig},
	{"version", "print the version", runVersion},
}

func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		if len(args) > 1 {
			args = []string{args[1], "--help"}
		} else {
			usage(e.stdout)
			if len(args) == 0 {
				return exitUsage
			}
			return exitOK
		}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		if err == nil || errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		var exit *exitError
		if errors.As(err, &exit) {
			if exit.err != nil && exit.err.Error() != "" {
				fmt.Fprintln(e.stderr, "healthjob "+c.name+": "+exit.err.Error())
			}
			return exit.code
		}
		fmt.Fprintln(e.stderr, "healthjob "+c.name+": "+err.Error())
		return exitFailure
	}
	fmt.Fprintf(e.stderr, "healthjob: unknown command %q; run `healthjob help` for the list\n", args[0])
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `healthjob runs health checks on an interval, keeps every result and delivers
it to a monitoring server.

Usage: healthjob <command> [flags]

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "healthjob <command> --help" for a command's flags. Settings come from
healthjob.yaml (or --config FILE) and from environment variables of the same
names; see the README.

Exit codes: 0 ok, 1 a critical check failed or healthjob cannot start,
2 bad configuration or flags.
`)
}

// flags is a subcommand's flag set with the flags most commands share.
type flags struct {
	*flag.FlagSet
	configFile string
}

func newFlags(e *env, name, synopsis string) *flags {
	f := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.SetOutput(e.stderr)
	f.StringVar(&f.configFile, "config", "", "read settings from `FILE` (default ./healthjob.yaml when present)")
	f.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: healthjob %s %s\n\nFlags:\n", name, synopsis)
		f.PrintDefaults()
	}
	return f
}

// parse parses args; a bad flag or a stray argument is a usage error.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: exitUsage} // flag already printed the problem and the usage
	}
	if f.NArg() > 0 {
		return usageErr(fmt.Errorf("unexpected argument %q; flags go before it? see --help", f.Arg(0)))
	}
	return nil
}

// load reads the configuration; every problem is a usage error naming the setting.
func (f *flags) load(e *env) (*config.Config, error) {
	cfg, err := config.Load(f.configFile, e.getenv)
	if err != nil {
		return nil, usageErr(err)
	}
	return cfg, nil
}

// newLogger logs to stderr at the configured level and format.
func newLogger(e *env, cfg *config.Config) *slog.Logger {
	levels := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}
	opts := &slog.HandlerOptions{Level: levels[cfg.LogLevel]}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}
