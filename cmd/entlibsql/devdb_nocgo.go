//go:build !cgo

package main

import "errors"

// defaultDevURL has no embedded libSQL to offer in a build without cgo.
func defaultDevURL() (string, func(), error) {
	return "", nil, errors.New("this build has no embedded libSQL (it was built without cgo): give a scratch database with --dev-url")
}
