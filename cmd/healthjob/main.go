// Command healthjob runs health checks against everything a service depends
// on, on an interval, prints them as django-health-check-job's monitor does,
// keeps every result and delivers it to a monitoring server. See the
// README, or run `healthjob help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/healthjob/healthjob/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := withCPUProfile(func() int { return cli.Main(ctx, os.Args[1:]) })
	stop()
	os.Exit(code)
}
