package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/entlibsql/entlibsql/entc"
	"github.com/entlibsql/entlibsql/schema"
)

// diffCmd writes the next migration file: the ent schema against what the
// directory replays to on the dev database.
func diffCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("diff", flag.ContinueOnError)
	dirURL := fs.String("dir", "", "the migration directory, `file://DIR` (made if missing)")
	to := fs.String("to", "", "the ent schema package, `ent://PATH` (ent://./ent/schema, ent://ent/schema or an import path)")
	devURL := fs.String("dev-url", "", "a scratch libSQL database `URL`, emptied before and after (token: LIBSQL_DEV_AUTH_TOKEN; default: a temporary embedded libSQL file)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("diff takes one NAME for the new file")
	}
	name := pos[0]
	path, ok := strings.CutPrefix(*to, "ent://")
	if !ok || path == "" {
		return usageError("--to must be ent://PATH/TO/SCHEMA")
	}
	dir, err := openDir(*dirURL, true)
	if err != nil {
		return err
	}
	tables, err := entc.Tables(path)
	if err != nil {
		return err
	}
	if *devURL == "" {
		u, cleanup, err := defaultDevURL()
		if err != nil {
			return err
		}
		defer cleanup()
		*devURL = u
	}
	dev, err := openDB("--dev-url", *devURL, "LIBSQL_DEV_AUTH_TOKEN")
	if err != nil {
		return err
	}
	defer dev.Close()
	file, err := schema.Diff(ctx, dev, dir, name, tables)
	if err != nil {
		return err
	}
	if file == "" {
		fmt.Fprintf(out, "%s is up to date with the ent schema: no file written\n", dir.Path())
		return nil
	}
	fmt.Fprintf(out, "wrote %s/%s and updated atlas.sum\n", dir.Path(), file)
	return nil
}

// applyCmd runs the pending files on the database.
func applyCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	t := targetFlags(fs)
	dryRun := fs.Bool("dry-run", false, "print what would run, and change nothing")
	verbose := fs.Bool("v", false, "print every statement")
	dir, drv, err := t.open(fs, args)
	if err != nil {
		return err
	}
	defer drv.Close()
	verb := "applying"
	if *dryRun {
		verb = "would apply"
	}
	log := func(e schema.ApplyEvent) {
		switch {
		case e.Stmt != "" && (*verbose || *dryRun):
			fmt.Fprintf(out, "    %s\n", indent(e.Stmt))
		case e.Err != nil:
			fmt.Fprintf(out, "  %s: FAILED, rolled back\n", e.File.Name())
		case e.Done && *dryRun:
			fmt.Fprintf(out, "  %s: %d statements\n", e.File.Name(), e.Stmts)
		case e.Done:
			fmt.Fprintf(out, "  %s: ok, %d statements in %s\n", e.File.Name(), e.Stmts, e.Took.Round(time.Millisecond))
		}
	}
	fmt.Fprintf(out, "%s pending files of %s\n", verb, dir.Path())
	applied, err := schema.Apply(ctx, drv, dir, schema.ApplyOptions{DryRun: *dryRun, Baseline: *t.baseline, Log: log})
	if err != nil {
		return err
	}
	switch {
	case len(applied) == 0:
		fmt.Fprintln(out, "nothing to do: the database is up to date")
	case *dryRun:
		fmt.Fprintf(out, "dry run: %s would be applied; nothing was changed\n", files(len(applied)))
	default:
		fmt.Fprintf(out, "applied %s; the database is at version %s\n", files(len(applied)), applied[len(applied)-1].Version())
	}
	return nil
}

// statusCmd says whether the database is up to date, and what is pending.
func statusCmd(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	t := targetFlags(fs)
	t.mustExist = true
	dir, drv, err := t.open(fs, args)
	if err != nil {
		return err
	}
	defer drv.Close()
	st, err := schema.Status(ctx, drv, dir, *t.baseline)
	if err != nil {
		return err
	}
	writeStatus(out, st)
	return nil
}

func writeStatus(out io.Writer, st *schema.StatusReport) {
	current := st.Current
	if current == "" {
		current = "none (no migration applied)"
	}
	if st.UpToDate() {
		fmt.Fprintf(out, "up to date: the database is at version %s, %s applied\n", current, files(len(st.Applied)))
		return
	}
	fmt.Fprintf(out, "pending: %s; the database is at version %s\n", files(len(st.Pending)), current)
	if f := st.Failed; f != nil {
		fmt.Fprintf(out, "version %s failed (%d of %d statements kept): %s\n", f.Version, f.Applied, f.Total, f.Error)
		if f.ErrorStmt != "" {
			fmt.Fprintf(out, "  at: %s\n", indent(f.ErrorStmt))
		}
	}
	for _, p := range st.Pending {
		fmt.Fprintf(out, "  %s\n", p.Name())
	}
}

// hashCmd rewrites atlas.sum after files were edited on purpose.
func hashCmd(_ context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("hash", flag.ContinueOnError)
	dirURL := fs.String("dir", "", "the migration directory, `file://DIR`")
	if pos, err := parse(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	dir, err := openDir(*dirURL, false)
	if err != nil {
		return err
	}
	if err := schema.Hash(dir); err != nil {
		return err
	}
	all, err := dir.Files()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "wrote %s/atlas.sum for %s\n", dir.Path(), files(len(all)))
	return nil
}

// files is "1 file" or "n files".
func files(n int) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}

func indent(stmt string) string {
	return strings.ReplaceAll(strings.TrimSpace(stmt), "\n", "\n      ")
}
