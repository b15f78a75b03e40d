package libsql

import (
	"database/sql/driver"
	"fmt"
	"io"
	"strings"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// rows iterates over a statement's result.
type rows struct {
	cols  []string
	decl  []string
	kinds []declKind
	data  [][]hrana.Value
	pos   int
}

var _ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)

func newRows(res *hrana.StmtResult) (*rows, error) {
	r := &rows{
		cols:  make([]string, len(res.Cols)),
		decl:  make([]string, len(res.Cols)),
		kinds: make([]declKind, len(res.Cols)),
		data:  res.Rows,
	}
	for i, c := range res.Cols {
		r.cols[i], r.decl[i], r.kinds[i] = c.Name, c.Decltype, classifyDecltype(c.Decltype)
	}
	return r, nil
}

func (r *rows) Columns() []string { return r.cols }

func (r *rows) Close() error {
	r.data, r.pos = nil, 0
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	if r.pos >= len(r.data) {
		return io.EOF
	}
	row := r.data[r.pos]
	r.data[r.pos] = nil // let the row go once read
	r.pos++
	if len(row) != len(r.cols) {
		return fmt.Errorf("libsql: protocol error: row has %d values for %d columns", len(row), len(r.cols))
	}
	for i := range dest {
		dest[i] = columnValue(row[i].V, r.kinds[i])
	}
	return nil
}

// ColumnTypeDatabaseTypeName is the column's declared type, upper-cased
// (empty for expressions).
func (r *rows) ColumnTypeDatabaseTypeName(i int) string { return strings.ToUpper(r.decl[i]) }
