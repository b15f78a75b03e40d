// Command entlibsql runs versioned ent migrations on libSQL (sqld, Turso,
// a local libSQL file), with migration directories the Atlas CLI also
// reads and writes:
//
//	entlibsql migrate diff NAME --dir file://DIR --to ent://PATH [--dev-url URL]
//	entlibsql migrate apply --dir file://DIR --url URL [--dry-run] [--baseline VERSION] [-v]
//	entlibsql migrate status --dir file://DIR --url URL
//	entlibsql migrate hash --dir file://DIR
//
// URLs are every form libsql.Open accepts (libsql://, https://, http://,
// wss://, ws://, file:). The auth token comes from the URL's authToken
// parameter or from LIBSQL_AUTH_TOKEN (LIBSQL_DEV_AUTH_TOKEN for
// --dev-url); it is never printed.
//
// Run it with: go run github.com/entlibsql/entlibsql/cmd/entlibsql
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `usage:
  entlibsql migrate diff NAME --dir file://DIR --to ent://PATH/TO/SCHEMA [--dev-url URL]
  entlibsql migrate apply --dir file://DIR --url URL [--dry-run] [--baseline VERSION] [-v]
  entlibsql migrate status --dir file://DIR --url URL
  entlibsql migrate hash --dir file://DIR

URLs: libsql://, https://, http://, wss://, ws:// or file: (a local libSQL file).
The auth token is read from the URL's authToken parameter or from the
environment: LIBSQL_AUTH_TOKEN for --url, LIBSQL_DEV_AUTH_TOKEN for --dev-url.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exit codes
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// run is the command, for main and the tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 || args[0] != "migrate" {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmds := map[string]func(context.Context, []string, io.Writer) error{
		"diff":   diffCmd,
		"apply":  applyCmd,
		"status": statusCmd,
		"hash":   hashCmd,
	}
	cmd, ok := cmds[args[1]]
	if !ok {
		fmt.Fprintf(stderr, "entlibsql: unknown command %q\n\n%s", "migrate "+args[1], usage)
		return exitUsage
	}
	if err := cmd(ctx, args[2:], stdout); err != nil {
		if ue, ok := err.(usageError); ok {
			fmt.Fprintf(stderr, "entlibsql migrate %s: %s\n\n%s", args[1], ue, usage)
			return exitUsage
		}
		fmt.Fprintf(stderr, "entlibsql migrate %s: %v\n", args[1], err)
		return exitError
	}
	return exitOK
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }
