package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"ariga.io/atlas/sql/migrate"

	"github.com/entlibsql/entlibsql/dialect/libsql"
)

// parse parses flags wherever they are among the positional arguments
// (`diff NAME --dir ...` as well as `diff --dir ... NAME`) and returns the
// positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			return nil, helpRequest{fs}
		} else if err != nil {
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// openDir opens a migration directory given as file://DIR (or a plain
// path); create makes it if missing.
func openDir(raw string, create bool) (*migrate.LocalDir, error) {
	if raw == "" {
		return nil, usageError("--dir is required")
	}
	path := raw
	if p, ok := strings.CutPrefix(raw, "file:"); ok && !strings.HasPrefix(p, "//") {
		path = p // file:DIR
	} else if strings.Contains(raw, "://") {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, usageError(fmt.Sprintf("--dir: %v", err))
		}
		if u.Scheme != "file" {
			return nil, usageError(fmt.Sprintf("--dir: %q is not a file:// URL", raw))
		}
		if u.RawQuery != "" && u.Query().Get("format") != "" && u.Query().Get("format") != "atlas" {
			return nil, usageError("--dir: only Atlas's directory format is supported")
		}
		path = filepath.Join(u.Host, u.Path)
	}
	if create {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, err
		}
	}
	dir, err := migrate.NewLocalDir(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("the migration directory %s does not exist", path)
	}
	return dir, err
}

// openDB opens a libSQL database from a URL flag, with the auth token
// from tokenEnv unless the URL carries one.
func openDB(flagName, raw, tokenEnv string) (*libsql.Driver, error) {
	if raw == "" {
		return nil, usageError(flagName + " is required")
	}
	var opts []libsql.Option
	if tok := os.Getenv(tokenEnv); tok != "" && !hasToken(raw) {
		opts = append(opts, libsql.WithAuthToken(tok))
	}
	drv, err := libsql.Open(raw, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	return drv, nil
}

// hasToken reports whether a URL carries an auth token of its own.
func hasToken(raw string) bool {
	_, query, _ := strings.Cut(raw, "?")
	q, err := url.ParseQuery(query)
	return err == nil && (q.Has("authToken") || q.Has("auth_token") || q.Has("jwt"))
}

// target is the flags apply and status share: a directory and a database.
type target struct {
	dir, url, baseline *string
	// mustExist refuses a local database file that does not exist, which
	// opening would create: status only reads.
	mustExist bool
}

func targetFlags(fs *flag.FlagSet) *target {
	return &target{
		dir:      fs.String("dir", "", "the migration directory, `file://DIR`"),
		url:      fs.String("url", "", "the database, any libsql.Open `URL` (token: LIBSQL_AUTH_TOKEN)"),
		baseline: fs.String("baseline", "", "the `VERSION` an existing database (tables, no revisions) is at"),
	}
}

// open parses args, which take no positional argument, and opens the
// directory and the database.
func (t *target) open(fs *flag.FlagSet, args []string) (*migrate.LocalDir, *libsql.Driver, error) {
	if pos, err := parse(fs, args); err != nil {
		return nil, nil, err
	} else if len(pos) > 0 {
		return nil, nil, usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	dir, err := openDir(*t.dir, false)
	if err != nil {
		return nil, nil, err
	}
	if t.mustExist {
		if path, ok := localFile(*t.url); ok {
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return nil, nil, fmt.Errorf("--url: the database file %s does not exist (status never creates one; apply does)", path)
			}
		}
	}
	drv, err := openDB("--url", *t.url, "LIBSQL_AUTH_TOKEN")
	return dir, drv, err
}

// localFile is the path of a file: URL's database, if it names a file
// (not :memory:).
func localFile(raw string) (string, bool) {
	rest, ok := strings.CutPrefix(raw, "file:")
	if !ok {
		return "", false
	}
	path, _, _ := strings.Cut(rest, "?")
	path = strings.TrimPrefix(path, "//")
	if path == "" || path == ":memory:" {
		return "", false
	}
	return path, true
}
