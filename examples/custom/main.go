// Command mymonitor is healthjob with a check written in Go: the same
// command line (monitor, check, serve, …), the same configuration file,
// plus MyService, registered as django-health-check's plugin_dir.register
// registers a plugin.
//
//	go build -o mymonitor . && ./mymonitor check
package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/healthjob/healthjob"
	"github.com/healthjob/healthjob/cli"
)

// myService checks what only this program knows how to check. Here: that
// the address in MY_SERVICE_ADDR accepts connections, when it is set.
func myService(ctx context.Context) error {
	addr := os.Getenv("MY_SERVICE_ADDR")
	if addr == "" {
		return nil
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if errors.Is(err, syscall.ECONNREFUSED) {
		return healthjob.Unavailable("Service is not responding")
	}
	if err != nil {
		return healthjob.Unavailable("Service error: %v", err)
	}
	return conn.Close()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:],
		cli.WithCheck(healthjob.CheckFunc("MyService", myService), healthjob.Timeout(2*time.Second)))
	stop()
	os.Exit(code)
}
