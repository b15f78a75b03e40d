// Command entlibsql runs versioned ent migrations on libSQL (sqld, Turso,
// a local libSQL file), with migration directories the Atlas CLI also
// reads and writes:
//
//	entlibsql migrate diff NAME --dir file://DIR --to ent://PATH [--dev-url URL]
//	entlibsql migrate apply --dir file://DIR --url URL [--dry-run] [--baseline VERSION] [-v]
//	entlibsql migrate status --dir file://DIR --url URL [--baseline VERSION]
//	entlibsql migrate hash --dir file://DIR
//
// URLs are every form libsql.Open accepts (libsql://, https://, http://,
// wss://, ws://, file:). The auth token comes from the URL's authToken
// parameter or from LIBSQL_AUTH_TOKEN (LIBSQL_DEV_AUTH_TOKEN for
// --dev-url); it is never printed.
//
// Add it to a module as a tool (Go 1.24+) and run it with go tool:
//
//	go get -tool github.com/entlibsql/entlibsql/cmd/entlibsql
//	go tool entlibsql migrate --help
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/entlibsql/entlibsql/schema"
)

const usage = `usage:
  entlibsql migrate diff NAME --dir file://DIR --to ent://PATH/TO/SCHEMA [--dev-url URL]
  entlibsql migrate apply --dir file://DIR --url URL [--dry-run] [--baseline VERSION] [-v]
  entlibsql migrate status --dir file://DIR --url URL [--baseline VERSION]
  entlibsql migrate hash --dir file://DIR

URLs: libsql://, https://, http://, wss://, ws:// or file: (a local libSQL file).
The auth token is read from the URL's authToken parameter or from the
environment: LIBSQL_AUTH_TOKEN for --url, LIBSQL_DEV_AUTH_TOKEN for --dev-url.
"entlibsql migrate COMMAND --help" lists a command's flags.
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

// commands are the migrate subcommands.
var commands = map[string]struct {
	synopsis, about string
	run             func(context.Context, []string, io.Writer) error
}{
	"diff": {"entlibsql migrate diff NAME --dir file://DIR --to ent://PATH/TO/SCHEMA [--dev-url URL]",
		"Writes the next migration file, NAME, from the difference between the ent schema and what the\n" +
			"directory replays to on a dev database, and updates atlas.sum.", diffCmd},
	"apply": {"entlibsql migrate apply --dir file://DIR --url URL [--dry-run] [--baseline VERSION] [-v]",
		"Runs the pending files of the directory on the database, each in its own transaction.", applyCmd},
	"status": {"entlibsql migrate status --dir file://DIR --url URL [--baseline VERSION]",
		"Says whether the database is up to date with the directory, and what is pending or failed.", statusCmd},
	"hash": {"entlibsql migrate hash --dir file://DIR",
		"Rewrites atlas.sum after files were edited on purpose.", hashCmd},
}

// run is the command, for main and the tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "migrate":
		fmt.Fprint(stderr, usage)
		return exitUsage
	case isHelp(args[0]) || args[0] == "migrate" && isHelp(args[1]):
		fmt.Fprint(stdout, usage)
		return exitOK
	case args[0] != "migrate":
		fmt.Fprintf(stderr, "entlibsql: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	cmd, ok := commands[args[1]]
	if !ok {
		fmt.Fprintf(stderr, "entlibsql: unknown command %q\n\n%s", "migrate "+args[1], usage)
		return exitUsage
	}
	err := cmd.run(ctx, args[2:], stdout)
	var help helpRequest
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &help):
		fmt.Fprintf(stdout, "usage: %s\n\n%s\n\nflags:\n%s", cmd.synopsis, cmd.about, flagHelp(help.fs))
		return exitOK
	}
	if ue, ok := err.(usageError); ok {
		fmt.Fprintf(stderr, "entlibsql migrate %s: %s\n\nusage: %s\n(entlibsql migrate %s --help lists the flags)\n", args[1], ue, cmd.synopsis, args[1])
		return exitUsage
	}
	fmt.Fprintf(stderr, "entlibsql migrate %s: %v\n%s", args[1], err, fixFor(err, args[2:]))
	return exitError
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

// helpRequest is -h or --help among a command's flags.
type helpRequest struct{ fs *flag.FlagSet }

func (helpRequest) Error() string { return "help requested" }

// flagHelp lists a command's flags, as the README writes them (--name).
func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		name, about := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		arg := dash + f.Name
		if name != "" {
			arg += " " + name
		}
		fmt.Fprintf(&b, "  %-22s %s\n", arg, about)
	})
	return b.String()
}

// fixFor is the command line that fixes a refusal, if err is one.
func fixFor(err error, args []string) string {
	dir := flagValue(args, "dir")
	switch {
	case errors.Is(err, schema.ErrNotHashed):
		return fmt.Sprintf("fix: if the change is intended, record it with\n  entlibsql migrate hash --dir %s\nthen run the command again\n", dir)
	case errors.Is(err, schema.ErrNeedsBaseline):
		return "fix: run it again with --baseline VERSION, the version (file name prefix) of the last migration file\n" +
			"this database already has; files up to it are recorded as applied, not run\n"
	}
	return ""
}

// flagValue finds --name VALUE or --name=VALUE in args, for messages.
func flagValue(args []string, name string) string {
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "DIR"
}
