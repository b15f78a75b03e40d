//go:build !linux

package sqldtest

import "syscall"

// sysProcAttr: only Linux can tie a child's life to its parent's. Elsewhere
// Stop, which Main always runs after the tests, is what ends sqld; a test
// binary that crashes leaves it running.
func sysProcAttr() *syscall.SysProcAttr { return nil }
