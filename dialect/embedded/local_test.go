//go:build cgo && (linux || darwin) && (amd64 || arm64)

package embedded

import (
	"strings"
	"testing"
	"time"
)

func TestParseLocal(t *testing.T) {
	ok := []struct {
		dsn  string
		want localURL
	}{
		{"file:app.db", localURL{path: "app.db", busyTimeout: DefaultBusyTimeout}},
		{"file:///var/data/app.db", localURL{path: "/var/data/app.db", busyTimeout: DefaultBusyTimeout}},
		{"file::memory:", localURL{path: ":memory:", busyTimeout: DefaultBusyTimeout}},
		{":memory:", localURL{path: ":memory:", busyTimeout: DefaultBusyTimeout}},
		{"file:r.db?syncUrl=http://127.0.0.1:8080&authToken=T&syncInterval=30s",
			localURL{path: "r.db", syncURL: "http://127.0.0.1:8080", authToken: "T", syncInterval: 30 * time.Second, busyTimeout: DefaultBusyTimeout}},
		{"file:r.db?sync_url=libsql://db.turso.io&jwt=T", localURL{path: "r.db", syncURL: "libsql://db.turso.io", authToken: "T", busyTimeout: DefaultBusyTimeout}},
		{"file:a.db?busyTimeout=0", localURL{path: "a.db"}},
		{"file:a.db?busy_timeout=250ms", localURL{path: "a.db", busyTimeout: 250 * time.Millisecond}},
	}
	for _, tt := range ok {
		got, err := parseLocal(tt.dsn)
		if err != nil || *got != tt.want {
			t.Errorf("parseLocal(%q) = %+v, %v", tt.dsn, got, err)
		}
	}
	bad := map[string]string{
		"file:":                                          "names no file",
		"file:a.db?cache=shared":                         `unknown parameter "cache"`,
		"file:a.db?authToken=SECRET":                     "need syncUrl",
		"file:a.db?syncUrl=x&syncInterval=soon":          "not a positive duration",
		"file:a.db?syncUrl=x&authToken=SECRET&jwt=OTHER": "conflicting auth tokens",
		"file::memory:?syncUrl=http://x":                 "needs a file",
		"file:a.db?syncUrl=x&syncUrl=y":                  "given 2 times",
		"file:a.db?busyTimeout=5":                        "not a duration from 0",
		"file:a.db?busyTimeout=-1s":                      "not a duration from 0",
		"file:a.db?busyTimeout=1000h":                    "not a duration from 0",
		"file:r.db?syncUrl=x&busyTimeout=1s":             "for local files",
	}
	for dsn, want := range bad {
		_, err := parseLocal(dsn)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("parseLocal(%q): %v, want an error with %q and no token", dsn, err, want)
		}
	}
}
