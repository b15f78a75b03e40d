package libsql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/entlibsql/entlibsql/internal/hrana"
)

// query runs a statement whose rows the caller reads, streamed: its rows
// are decoded as they arrive, rather than in one body decoded whole, so
// memory holds one row at a time.
//
// A read goes as a pipeline (Stream.Query), which costs sqld about a
// seventh of what a cursor costs per row. sqld refuses to build an
// answer over its --max-response-size (10 MB by default), after running
// the statement: a read can run again, so it then goes through a cursor,
// which has no such bound, and the driver remembers the statement as one
// with a large answer (see largeAnswers). Any other statement that
// returns rows (WITH, a write's RETURNING) streams through a cursor, since
// running it twice could write twice. Where there are no cursors (Hrana
// 2 servers) it is run as any statement.
func (c *conn) query(ctx context.Context, st hrana.Stmt) (driver.Rows, error) {
	if c.bad {
		return nil, driver.ErrBadConn
	}
	if c.tx == txBroken {
		return nil, c.txErr
	}
	if !streams(st.SQL) {
		// A handful of rows (a LIMIT, the RETURNING of a write) comes
		// whole.
		return c.queryWhole(ctx, st)
	}
	c.coolIfIdle()
	pipelined := isRead(st.SQL) && !c.opts.shared.large.has(st.SQL)
	for {
		first := c.tx == txPending
		batch := hrana.Batch{Steps: []hrana.BatchStep{{Stmt: st}}}
		if first {
			batch.Steps = []hrana.BatchStep{
				{Stmt: hrana.Stmt{SQL: c.begin, SkipRows: true}},
				{Condition: hrana.OK(0), Stmt: st},
			}
		}
		var cur *hrana.Cursor
		var err error
		if pipelined {
			if cur, err = c.openQuery(ctx, batch); errors.Is(err, errLargeAnswer) {
				if first {
					c.tx = txActive // the statement ran, so BEGIN did
				}
				c.opts.shared.large.add(st.SQL)
				pipelined = false
				continue
			}
		} else if cur, err = c.openCursor(ctx, batch); errors.Is(err, hrana.ErrNoCursor) {
			return c.queryWhole(ctx, st)
		}
		if err != nil {
			return nil, err
		}
		rows, err := c.startRows(ctx, cur, st, first, pipelined)
		if errors.Is(err, errLargeAnswer) {
			c.opts.shared.large.add(st.SQL)
			pipelined = false
			continue
		}
		return rows, err
	}
}

// errLargeAnswer is sqld's refusal of a read's answer as too large.
var errLargeAnswer = errors.New("the answer is over the server's size limit")

// startRows reads cur up to the statement's first row. pipelined says
// cur reads a pipeline's answer, where an error of the request as a
// whole leaves the stream as it was.
func (c *conn) startRows(ctx context.Context, cur *hrana.Cursor, st hrana.Stmt, first, pipelined bool) (driver.Rows, error) {
	stmtStep := 0
	if first {
		stmtStep = 1
	}
	for {
		e, err := cur.Next()
		if err == io.EOF {
			err = &hrana.ProtocolError{Msg: "the server's answer ended before the statement started"}
		}
		if err != nil {
			// No row has reached the caller: the policy of a failed
			// exchange applies (retry.go).
			cur.Close()
			c.stream.Reset()
			return nil, c.failed(ctx, c.sticky || c.tx != txNone, isRead(st.SQL), err)
		}
		switch e.Type {
		case "step_begin":
			if e.Step != stmtStep {
				continue
			}
			if first {
				c.tx = txActive
			}
			if c.tx == txNone && keepsStream(st.SQL) {
				c.sticky = true
			}
			return newStreamRows(c, cur, e.Cols), nil
		case "step_error":
			if first && e.Step == 0 {
				err := wrapError(c.begin+" failed", serverError(e.Error))
				c.breakTx(err)
				cur.Close()
				return nil, err
			}
			if first {
				c.tx = txActive
			}
			cur.Close()
			return nil, c.stmtFailed(e.Error)
		case "error":
			if !pipelined {
				return nil, c.cursorFailed(cur, mapError(e.Error))
			}
			cur.Close()
			if e.Error.Code == hrana.ResponseTooLargeCode {
				if first {
					c.tx = txActive // the statement ran, so BEGIN did
				}
				return nil, errLargeAnswer
			}
			// The request was refused whole (a statement sqld's parser
			// rejects): nothing ran, and a transaction that was to
			// begin with it has not.
			return nil, c.stmtFailed(e.Error)
		}
	}
}

// queryWhole runs a query in a pipeline and holds its rows whole.
func (c *conn) queryWhole(ctx context.Context, st hrana.Stmt) (driver.Rows, error) {
	res, err := c.run(ctx, st)
	if err != nil {
		return nil, err
	}
	return newRows(res)
}

// streams reports whether a query's rows are worth a cursor: a read
// (SELECT, WITH, VALUES) without a small LIMIT.
func streams(sql string) bool {
	switch kw, _ := nextKeyword(sql); kw {
	case "SELECT", "WITH", "VALUES":
		return !smallResult(sql)
	}
	return false
}

// smallLimit is the largest LIMIT for which a query's rows come whole.
const smallLimit = 1000

// smallResult reports whether sql ends in LIMIT n [OFFSET m] with n at
// most smallLimit, as ent's Get, Only and First do. It reads only the
// tail; anything else streams.
func smallResult(sql string) bool {
	f := lastWords(strings.TrimRight(sql, "; \t\r\n"), 4)
	if len(f) >= 4 && strings.EqualFold(f[len(f)-2], "OFFSET") {
		f = f[:len(f)-2]
	}
	if len(f) < 2 || !strings.EqualFold(f[len(f)-2], "LIMIT") {
		return false
	}
	n, err := strconv.Atoi(f[len(f)-1])
	return err == nil && n >= 0 && n <= smallLimit
}

// lastWords returns up to n whitespace-separated words from the end of
// s, in order, without splitting the rest: it runs on every query.
func lastWords(s string, n int) []string {
	var words []string
	end := len(s)
	for i := len(s) - 1; i >= -1 && len(words) < n; i-- {
		if i >= 0 && !unicode.IsSpace(rune(s[i])) {
			continue
		}
		if i+1 < end {
			words = append(words, s[i+1:end])
		}
		end = i
	}
	slices.Reverse(words)
	return words
}

// openCursor opens a cursor with the error handling of pipeline: a warm
// stream the server refuses is replaced once; a request never sent on a
// conn holding nothing is a bad connection database/sql retries.
func (c *conn) openCursor(ctx context.Context, b hrana.Batch) (*hrana.Cursor, error) {
	held := c.sticky || c.tx != txNone
	c.stream.Holding = held
	var cur *hrana.Cursor
	err := c.attempt(ctx, held, func() (err error) {
		cur, err = c.stream.Cursor(ctx, b)
		return err
	})
	c.lastUsed = time.Now()
	if err == nil || errors.Is(err, hrana.ErrNoCursor) {
		return cur, err
	}
	var se *hrana.Error
	if errors.As(err, &se) {
		// A statement the server refused before running the batch: its
		// own error. sqld drops the stream with it, and what it held.
		// A transaction whose BEGIN was to go with it has not begun.
		err = mapError(err)
		if c.sticky || c.tx == txActive {
			c.lose(err)
		}
		return nil, err
	}
	return nil, c.failed(ctx, held, len(b.Steps) == 1 && isRead(b.Steps[0].Stmt.SQL), err)
}

// openQuery sends a read's pipeline with the error handling of pipeline.
func (c *conn) openQuery(ctx context.Context, b hrana.Batch) (*hrana.Cursor, error) {
	held := c.sticky || c.tx != txNone
	c.stream.Holding = held
	var cur *hrana.Cursor
	err := c.attempt(ctx, held, func() (err error) {
		cur, err = c.stream.Query(ctx, b)
		return err
	})
	c.lastUsed = time.Now()
	var tl *hrana.ResponseTooLargeError
	if errors.As(err, &tl) && c.stream.Open() {
		// Over WebSocket, an answer over the driver's own bound: the
		// statement ran, its stream goes on (see hrana's wsSocket.refuse),
		// and a cursor reads the rows one by one.
		return nil, errLargeAnswer
	}
	if err != nil {
		return nil, c.failed(ctx, held, len(b.Steps) == 1 && isRead(b.Steps[0].Stmt.SQL), err)
	}
	return cur, nil
}

// cursorFailed ends a cursor that broke while being read: what the stream
// held is gone.
func (c *conn) cursorFailed(cur *hrana.Cursor, err error) error {
	cur.Close()
	err = mapError(err)
	c.lose(err)
	return err
}

// streamRows reads a statement's rows from its cursor.
type streamRows struct {
	c     *conn
	cur   *hrana.Cursor
	cols  []string
	decl  []string
	kinds []declKind
	done  bool
}

var _ driver.RowsColumnTypeDatabaseTypeName = (*streamRows)(nil)

func newStreamRows(c *conn, cur *hrana.Cursor, cols []hrana.Col) *streamRows {
	r := &streamRows{c: c, cur: cur, cols: make([]string, len(cols)), decl: make([]string, len(cols)), kinds: make([]declKind, len(cols))}
	for i, col := range cols {
		r.cols[i], r.decl[i], r.kinds[i] = col.Name, col.Decltype, classifyDecltype(col.Decltype)
	}
	return r
}

func (r *streamRows) Columns() []string { return r.cols }

func (r *streamRows) ColumnTypeDatabaseTypeName(i int) string { return strings.ToUpper(r.decl[i]) }

func (r *streamRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	for {
		e, err := r.cur.Next()
		if err != nil {
			r.done = true
			if err == io.EOF {
				return mapError(&hrana.ProtocolError{Msg: "cursor ended inside a statement"})
			}
			return r.c.cursorFailed(r.cur, err)
		}
		switch e.Type {
		case "row":
			if len(e.Row) != len(r.cols) {
				return fmt.Errorf("libsql: protocol error: row has %d values for %d columns", len(e.Row), len(r.cols))
			}
			for i := range dest {
				dest[i] = columnValue(e.Row[i].V, r.kinds[i])
			}
			return nil
		case "step_end":
			r.done = true
			return io.EOF
		case "step_error", "error":
			r.done = true
			return mapError(e.Error)
		}
	}
}

// Close reads what is left of the cursor, so that the connection can run
// its next statement.
func (r *streamRows) Close() error {
	r.done = true
	if err := r.cur.Close(); err != nil {
		err = mapError(err)
		r.c.lose(err)
		return err
	}
	r.c.lastUsed = time.Now()
	return nil
}
