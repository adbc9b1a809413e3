package bench

import "syscall"

// childAttr makes the kernel kill the baseline if this process dies
// without stopping it (SIGKILL, a crash), so that it never outlives a run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
