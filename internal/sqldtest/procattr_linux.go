package sqldtest

import "syscall"

// dieWithParent makes the kernel kill sqld when the test binary dies, so
// a crashed or interrupted test run leaves no server behind.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
