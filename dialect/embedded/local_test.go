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
		{"file:app.db", localURL{path: "app.db"}},
		{"file:///var/data/app.db", localURL{path: "/var/data/app.db"}},
		{"file::memory:", localURL{path: ":memory:"}},
		{":memory:", localURL{path: ":memory:"}},
		{"file:r.db?syncUrl=http://127.0.0.1:8080&authToken=T&syncInterval=30s",
			localURL{path: "r.db", syncURL: "http://127.0.0.1:8080", authToken: "T", syncInterval: 30 * time.Second}},
		{"file:r.db?sync_url=libsql://db.turso.io&jwt=T", localURL{path: "r.db", syncURL: "libsql://db.turso.io", authToken: "T"}},
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
	}
	for dsn, want := range bad {
		_, err := parseLocal(dsn)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("parseLocal(%q): %v, want an error with %q and no token", dsn, err, want)
		}
	}
}
