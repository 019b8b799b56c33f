package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// withCPUProfile runs main's work under Go's CPU profiler when the hidden
// variable HEALTHJOB_CPUPROFILE names a file, and writes the profile there
// when the work returns: how the bench (go run ./bench -cpuprofile DIR)
// finds where a cycle's CPU goes. Unset, it only runs the work.
func withCPUProfile(work func() int) int {
	path := os.Getenv("HEALTHJOB_CPUPROFILE")
	if path == "" {
		return work()
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthjob: HEALTHJOB_CPUPROFILE:", err)
		return work()
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "healthjob: HEALTHJOB_CPUPROFILE:", err)
		return work()
	}
	defer pprof.StopCPUProfile()
	return work()
}
