// Package system checks the resources of the machine healthjob runs on, as
// django-health-check's contrib.psutil does, with gopsutil for the readings.
// It holds four checks; each reports a warning, not a failure, when its
// resource crosses the threshold, and names the host in the message:
//
//   - Disk (DiskUsage): reads the percent of the file system at Path that is
//     used (as df counts it: used / (used + available to users)), rounded to
//     one decimal, and warns when it is at or above Max (DISK_USAGE_MAX).
//     "warning: <host> 93.4% disk usage exceeds 90%";
//     "unexpected result: ValueError: <path>: no such file or directory"
//     when the path cannot be read.
//   - Memory (MemoryUsage): reads the memory available to new processes
//     (MemAvailable) in whole MB and warns when it is below Min (MEMORY_MIN).
//     "warning: <host> 87 MB available RAM below 100 MB".
//   - CPU (CPUUsage): samples the busy share of all CPUs over Interval,
//     rounded to one decimal, and warns when it is above Max.
//     "warning: <host> 97.5% CPU usage exceeds 90%".
//   - Load (LoadAverage): reads the 1, 5 and 15 minute load averages,
//     divided by the number of CPUs when PerCPU is set, and warns when one
//     is above its threshold (Max1, Max5, Max15; 0 ignores that average).
//     "warning: <host> load average 5.10 3.20 1.00 exceeds max1 4".
//
// A reading that fails is "unexpected result: <what>: <reason>". When the
// context ends first, Check returns its plain error, which the runner
// reports as "unavailable: check timed out after …" or "… check cancelled".
package system
