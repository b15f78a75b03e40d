package sqldtest

import "syscall"

// sysProcAttr asks the kernel to SIGKILL sqld when the test binary dies
// (a panic, a -timeout, ^C), so no server outlives its tests. Linux ties
// this to the thread that started sqld, and Go ends a thread only when a
// goroutine locked to it exits, which the callers here never do.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
