package libsql

import (
	"errors"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// result is what an Exec reports.
type result struct {
	res *hrana.StmtResult
}

var errNoRowID = errors.New("libsql: the server reported no last insert rowid for this statement")

func (r *result) LastInsertId() (int64, error) {
	if !r.res.LastInsertRowID.Valid {
		return 0, errNoRowID
	}
	return r.res.LastInsertRowID.Value, nil
}

func (r *result) RowsAffected() (int64, error) { return r.res.AffectedRowCount, nil }
