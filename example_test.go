package healthjob_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/healthjob/healthjob"
)

// Register checks of your own, as django-health-check's plugin_dir.register,
// and run them once.
func Example() {
	reg := &healthjob.Registry{}
	reg.Register(healthjob.CheckFunc("MyService", func(ctx context.Context) error {
		if err := errors.New("connection reset"); err != nil { // my_service.ping()
			return healthjob.Unavailable("Service error: %v", err)
		}
		return nil
	}))
	reg.Register(healthjob.CheckFunc("Queue", func(ctx context.Context) error {
		return healthjob.Warning("1200 messages waiting")
	}), healthjob.NonCritical(), healthjob.Timeout(2*time.Second))

	run, _ := healthjob.NewRunner(reg).Run(context.Background(), "")
	for _, c := range run.Checks {
		fmt.Printf("%s: status %d, %s\n", c.Name, c.Status, c.Message)
	}
	fmt.Println("all critical checks passed:", run.OK())
	// Output:
	// MyService: status 0, unavailable: Service error: connection reset
	// Queue: status 0, warning: 1200 messages waiting
	// all critical checks passed: false
}
