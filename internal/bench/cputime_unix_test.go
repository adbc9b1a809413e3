//go:build unix

package bench

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process has used (user and system), as
// the kernel counts it: time the machine gave to other tenants is not in it.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
