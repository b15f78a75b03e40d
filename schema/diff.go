package schema

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	entschema "entgo.io/ent/dialect/sql/schema"
)

// Diff writes the next migration file of dir, named name: the statements
// that take the schema dir's files build to the schema of tables. It
// replays dir on dev, a scratch libSQL database that must be empty (it is
// emptied again afterwards: tables, views, triggers, indexes, virtual and
// vector shadow tables, sqlite_sequence's rows), and never on the database
// you migrate. The
// file is written in Atlas's format with atlas.sum updated, so the Atlas
// CLI accepts the directory. It returns the new file's name, or "" when
// the directory already builds tables.
//
// opts are ent's migrate options (WithDropColumn, WithDropIndex, ...).
// Not WithLibSQL: its NOT NULL checks run when ent applies a plan, and a
// file has no such step; files keep Atlas's table rebuilds.
func Diff(ctx context.Context, dev dialect.Driver, dir migrate.Dir, name string, tables []*entschema.Table, opts ...entschema.MigrateOption) (_ string, err error) {
	if err := checkSum(dir); err != nil {
		return "", err
	}
	before, err := dir.Files()
	if err != nil {
		return "", err
	}
	dev, release, err := pinned(ctx, dev)
	if err != nil {
		return "", err
	}
	defer release()
	if err := checkEmptyDev(ctx, dev); err != nil {
		return "", err
	}
	defer func() {
		if cerr := emptyDev(ctx, dev); cerr != nil && err == nil {
			err = cerr
		}
	}()
	opts = append([]entschema.MigrateOption{
		entschema.WithDir(dir),
		entschema.WithMigrationMode(entschema.ModeReplay),
		entschema.WithErrNoPlan(true),
		entschema.WithFormatter(migrate.DefaultFormatter),
		vectorIndexesOf(tables),
	}, opts...)
	m, err := entschema.NewMigrate(dev, opts...)
	if err != nil {
		return "", err
	}
	err = m.NamedDiff(ctx, name, tables...)
	var nc *migrate.NotCleanError
	switch {
	case errors.Is(err, migrate.ErrNoPlan):
		return "", nil
	case errors.As(err, &nc):
		return "", fmt.Errorf("the dev database must be empty (%s): give a scratch database, never the one you migrate", nc.Reason)
	case err != nil:
		return "", err
	}
	after, err := dir.Files()
	if err != nil {
		return "", err
	}
	return newFile(before, after), nil
}

// pinned runs everything on one connection of dev, when dev has a pool:
// Atlas replays files and empties the dev database with pool-level
// statements, PRAGMA foreign_keys among them, which must reach the
// connection the rest runs on. The connection is discarded after, its
// session state being whatever the replay left.
func pinned(ctx context.Context, dev dialect.Driver) (dialect.Driver, func(), error) {
	p, ok := dev.(interface{ DB() *sql.DB })
	if !ok {
		return dev, func() {}, nil
	}
	conn, err := p.DB().Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	release := func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}
	return entsql.NewDriver(dev.Dialect(), entsql.Conn{ExecQuerier: conn}), release, nil
}

// newFile is the name in after that is not in before.
func newFile(before, after []migrate.File) string {
	old := make(map[string]bool, len(before))
	for _, f := range before {
		old[f.Name()] = true
	}
	for _, f := range after {
		if !old[f.Name()] {
			return f.Name()
		}
	}
	return ""
}
