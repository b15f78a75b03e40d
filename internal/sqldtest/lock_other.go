//go:build !unix

package sqldtest

import "context"

// lockFile: there is no prebuilt sqld off unix, so nothing installs here
// to take turns on.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
