//go:build !linux

package sqldtest

import "syscall"

// dieWithParent: only Linux can tie the child's life to ours; elsewhere
// Stop (run from Main) is what ends sqld.
func dieWithParent() *syscall.SysProcAttr { return nil }
