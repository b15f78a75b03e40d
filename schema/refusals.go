package schema

import (
	"errors"
	"fmt"
)

// Refusals of Apply and Status that the caller fixes, for errors.Is: the
// entlibsql command adds the command line that fixes each.
var (
	// ErrNotHashed: the directory does not match its atlas.sum (a file
	// edited, added or removed since it was hashed), or has none. Nothing
	// ran. Hash records an intended change.
	ErrNotHashed = errors.New("the migration directory does not match its atlas.sum")
	// ErrNeedsBaseline: the database has tables but no migration
	// revisions. ApplyOptions.Baseline (and Status's baseline) names the
	// version it is at.
	ErrNeedsBaseline = errors.New("the database has tables but no migration revisions")
)

// refusalError is a refusal of kind, in words of its own.
type refusalError struct {
	kind error
	msg  string
}

func refusal(kind error, format string, args ...any) error {
	return &refusalError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func (e *refusalError) Error() string        { return e.msg }
func (e *refusalError) Is(target error) bool { return target == e.kind }
