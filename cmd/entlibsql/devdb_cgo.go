//go:build cgo

package main

import (
	"os"
	"path/filepath"

	// file: URLs, for the default dev database and local targets.
	_ "github.com/entlibsql/entlibsql/dialect/embedded"
)

// defaultDevURL is a fresh embedded libSQL file in a temporary directory,
// removed by cleanup: a dev database that needs nothing from the user.
func defaultDevURL() (url string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "entlibsql-dev-")
	if err != nil {
		return "", nil, err
	}
	return "file:" + filepath.Join(dir, "dev.db"), func() { os.RemoveAll(dir) }, nil
}
