package hrana

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Streamed answers. sqld spends about 7x more CPU on a row sent through a
// cursor (/v3/cursor, or a WebSocket cursor) than on the same row in the
// answer to a pipeline (measured on sqld 0.24.32: 152 ms against 20 ms for
// 10,000 rows, with and without gzip). So reads go as a pipeline of one
// batch, and its answer, one JSON document, is decoded as it arrives: the
// rows of its steps one at a time, handed out as a cursor's entries would
// be (step_begin, row, step_end, step_error, error), so that memory holds
// one row however many come. Everything else in the answer (columns,
// errors, counts) is small and read whole, within the size limit, as is
// any member that comes before one it depends on (a step's rows before
// its columns): sqld writes the order decoded here without buffering, any
// other order still decodes.

// jsonReader reads one JSON document a value at a time. A value it reads
// whole is bounded by max (0: no bound) and valid until the next read.
type jsonReader struct {
	r   *bufio.Reader
	max int64
	buf []byte
}

// errAnswerCut is a document that ended before it was complete.
var errAnswerCut = &ProtocolError{Msg: "the pipeline answer ended before it was complete"}

func malformedAnswer(what string) error {
	return &ProtocolError{Msg: "malformed pipeline answer: " + what}
}

// peek returns the next byte that is not blank, without consuming it.
func (j *jsonReader) peek() (byte, error) {
	for {
		b, err := j.r.Peek(1)
		if err == io.EOF {
			return 0, errAnswerCut
		}
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = j.r.Discard(1)
			continue
		}
		return b[0], nil
	}
}

// expect consumes the next byte that is not blank, which must be b.
func (j *jsonReader) expect(b byte) error {
	c, err := j.peek()
	if err != nil {
		return err
	}
	if c != b {
		return malformedAnswer(fmt.Sprintf("%q where %q belongs", c, b))
	}
	_, _ = j.r.Discard(1)
	return nil
}

// member reads the next member's key of an object being read, and its
// colon; first says it is the object's first. At the object's end it
// consumes the '}' and reports false.
func (j *jsonReader) member(first bool) (string, bool, error) {
	c, err := j.peek()
	if err != nil {
		return "", false, err
	}
	if c == '}' {
		_, _ = j.r.Discard(1)
		return "", false, nil
	}
	if !first {
		if err := j.expect(','); err != nil {
			return "", false, err
		}
	}
	raw, err := j.raw()
	if err != nil {
		return "", false, err
	}
	key, n, ok := parseString(raw)
	if !ok || n != len(raw) {
		return "", false, malformedAnswer("an object key is not a string")
	}
	return key, true, j.expect(':')
}

// element reports whether another element of an array being read
// follows, consuming the comma before it; at the array's end it consumes
// the ']' and reports false.
func (j *jsonReader) element(first bool) (bool, error) {
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	if c == ']' {
		_, _ = j.r.Discard(1)
		return false, nil
	}
	if !first {
		return true, j.expect(',')
	}
	return true, nil
}

// raw reads the next value whole: its exact bytes, bounded by max.
func (j *jsonReader) raw() ([]byte, error) {
	if _, err := j.peek(); err != nil {
		return nil, err
	}
	if cap(j.buf) > 1<<20 {
		j.buf = nil // let a past long value go
	}
	j.buf = j.buf[:0]
	var s rawScan
	for {
		if j.r.Buffered() == 0 {
			if _, err := j.r.Peek(1); err != nil {
				if err == io.EOF {
					if s.scalar {
						return j.buf, nil // a scalar ends the document
					}
					return nil, errAnswerCut
				}
				return nil, err
			}
		}
		chunk, _ := j.r.Peek(j.r.Buffered())
		n, done := s.scan(chunk)
		j.buf = append(j.buf, chunk[:n]...)
		_, _ = j.r.Discard(n)
		if j.max > 0 && int64(len(j.buf)) > j.max {
			return nil, &ResponseTooLargeError{What: "a value of a pipeline answer", Limit: j.max}
		}
		if done {
			return j.buf, nil
		}
	}
}

// rawScan finds the end of one JSON value, a chunk at a time. It checks
// only nesting and strings; the value's decoder checks the rest.
type rawScan struct {
	depth  int
	inStr  bool
	esc    bool
	scalar bool // a number or a literal: it ends before the next delimiter
}

// scan reads b and returns how many of its bytes belong to the value, and
// whether the value ended there.
func (s *rawScan) scan(b []byte) (int, bool) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case s.esc:
			s.esc = false
		case s.inStr:
			k := bytes.IndexAny(b[i:], "\"\\")
			if k < 0 {
				return len(b), false
			}
			i += k
			if b[i] == '\\' {
				s.esc = true
				continue
			}
			s.inStr = false
			if s.depth == 0 {
				return i + 1, true
			}
		case s.scalar:
			switch c {
			case ',', '}', ']', ':', ' ', '\t', '\r', '\n':
				return i, true
			}
		default:
			switch c {
			case '"':
				s.inStr = true
			case '{', '[':
				s.depth++
			case '}', ']':
				s.depth--
				if s.depth <= 0 {
					return i + 1, true
				}
			default:
				if s.depth == 0 {
					s.scalar = true
				}
			}
		}
	}
	return len(b), false
}

// list opens the array that comes next, or reads a null in its place
// (encoding/json reads null as an empty list): it reports whether an
// array was opened.
func (j *jsonReader) list() (bool, error) {
	c, err := j.peek()
	if err != nil {
		return false, err
	}
	if c == '[' {
		_, _ = j.r.Discard(1)
		return true, nil
	}
	raw, err := j.raw()
	if err == nil && string(raw) != "null" {
		err = malformedAnswer("a list is neither a list nor null")
	}
	return false, err
}

// decode reads the next value whole into v through encoding/json.
func (j *jsonReader) decode(v any, what string) error {
	raw, err := j.raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &ProtocolError{Msg: "malformed pipeline answer: " + what, Err: err}
	}
	return nil
}

// skip reads the next value and drops it.
func (j *jsonReader) skip() error {
	_, err := j.raw()
	return err
}

// A streamed answer is read as nested frames, sqld's order being
//
//	{"baton":…,"base_url":…,"results":[{"type":"ok","response":{"type":"batch",
//	"result":{"step_results":[null|{"cols":[…],"rows":[[…],…],
//	"affected_row_count":…,"last_insert_rowid":…,…},…],"step_errors":[…],
//	"replication_index":…}}}]}
type frameKind uint8

const (
	frameTop      frameKind = iota // the document: baton, base_url, results
	frameResults                   // the results: one, for the one request
	frameResult                    // a result: type, then response or error
	frameResponse                  // the response: type, then result
	frameBatch                     // the batch result: step_results, step_errors, replication_index
	frameSteps                     // step_results: null or a step result each
	frameStep                      // a step result: cols, then rows, then the counts
	frameRows                      // a step's rows, streamed
)

type frame struct {
	kind  frameKind
	first bool   // no member or element read yet
	n     int    // elements read (arrays)
	typ   string // frameResult, frameResponse: the "type" member
	got   bool   // frameResult, frameResponse: its response or result came
	raw   []byte // a response or result read whole, its type coming after it
	err   *Error // frameResult: its error
}

// answer decodes a streamed answer into cursor entries.
type answer struct {
	j     jsonReader
	c     *Client
	stack []frame
	queue []CursorEntry // decided and not handed out yet
	head  cursorHead
	// over says the step results are all read: what is left of the
	// answer is small.
	over bool
	// The step being read.
	step     int
	cols     []Col
	hasCols  bool
	begun    bool // its step_begin is handed out
	rows     []byte
	hasRows  bool // its rows were read whole (they came before the columns)
	affected int64
	lastID   OptInt
	errs     []*Error // step_errors
}

func newAnswer(c *Client, r *bufio.Reader) *answer {
	return &answer{c: c, j: jsonReader{r: r, max: c.maxSize}}
}

func (a *answer) push(k frameKind) { a.stack = append(a.stack, frame{kind: k, first: true}) }
func (a *answer) pop()             { a.stack = a.stack[:len(a.stack)-1] }

// readHead reads the document up to its results: the stream's baton and
// base URL. Results that come before the baton are read whole.
func (a *answer) readHead() (*cursorHead, error) {
	if err := a.j.expect('{'); err != nil {
		return nil, err
	}
	a.push(frameTop)
	var results []byte
	seenBaton := false
	for first := true; ; first = false {
		key, ok, err := a.j.member(first)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		switch key {
		case "baton":
			seenBaton = true
			err = a.j.decode(&a.head.Baton, "baton")
		case "base_url":
			err = a.j.decode(&a.head.BaseURL, "base_url")
		case "results":
			if seenBaton && results == nil {
				a.stack[0].first = false
				if err := a.j.expect('['); err != nil {
					return nil, err
				}
				a.push(frameResults)
				return &a.head, nil
			}
			var raw []byte
			if raw, err = a.j.raw(); err == nil {
				results = bytes.Clone(raw)
			}
		default:
			err = a.j.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	a.pop()
	if err := a.end(); err != nil {
		return nil, err
	}
	if results == nil {
		return nil, &ProtocolError{Msg: "pipeline response has 0 results for 1 requests"}
	}
	var wrs []wireResult
	if err := json.Unmarshal(results, &wrs); err != nil {
		return nil, &ProtocolError{Msg: "malformed pipeline response", Err: err}
	}
	if len(wrs) != 1 {
		return nil, &ProtocolError{Msg: fmt.Sprintf("pipeline response has %d results for 1 requests", len(wrs))}
	}
	if err := a.whole(wrs[0].Type, wrs[0].Error, wrs[0].Response); err != nil {
		return nil, err
	}
	return &a.head, nil
}

// end checks that nothing but blanks follows the document.
func (a *answer) end() error {
	if _, err := a.j.peek(); err != errAnswerCut {
		if err == nil {
			err = malformedAnswer("data after the document")
		}
		return err
	}
	return nil
}

// whole queues the entries of a result decoded whole.
func (a *answer) whole(typ string, e *Error, w *wireResponse) error {
	switch typ {
	case "ok":
		resp, perr := toResponse(w, "batch", "batch")
		if perr != nil {
			return &ProtocolError{Msg: "result 0: " + perr.Msg}
		}
		a.queueBatch(resp.Batch)
	case "error":
		if e == nil {
			return &ProtocolError{Msg: "error result 0 has no error"}
		}
		a.queue = append(a.queue, CursorEntry{Type: "error", Error: e})
	default:
		return &ProtocolError{Msg: "result 0 has an unknown type", Quote: typ}
	}
	return nil
}

// queueBatch queues the entries of a batch result decoded whole.
func (a *answer) queueBatch(br *BatchResult) {
	for i, r := range br.StepResults {
		if r == nil {
			continue
		}
		a.queue = append(a.queue, CursorEntry{Type: "step_begin", Step: i, Cols: r.Cols})
		for _, row := range r.Rows {
			a.queue = append(a.queue, CursorEntry{Type: "row", Row: row})
		}
		a.queue = append(a.queue, CursorEntry{Type: "step_end", AffectedRowCount: r.AffectedRowCount, LastInsertRowID: r.LastInsertRowID})
	}
	a.queueErrors(br.StepErrors)
	a.c.observe(br.ReplicationIndex)
	a.over = true
}

func (a *answer) queueErrors(errs []*Error) {
	for i, e := range errs {
		if e != nil {
			a.queue = append(a.queue, CursorEntry{Type: "step_error", Step: i, Error: e})
		}
	}
}

// next returns the next entry, or io.EOF after the document's end.
func (a *answer) next() (*CursorEntry, error) {
	for {
		if len(a.queue) > 0 {
			e := a.queue[0]
			a.queue = a.queue[1:]
			return &e, nil
		}
		if len(a.stack) == 0 {
			return nil, io.EOF
		}
		f := &a.stack[len(a.stack)-1]
		first := f.first
		f.first = false
		var (
			e   *CursorEntry
			err error
		)
		switch f.kind {
		case frameRows:
			e, err = a.nextRow(first)
		case frameSteps:
			err = a.nextStep(f, first)
		case frameStep:
			e, err = a.stepMember(first)
		case frameBatch:
			err = a.batchMember(first)
		case frameResponse:
			err = a.responseMember(f, first)
		case frameResult:
			err = a.resultMember(f, first)
		case frameResults:
			err = a.nextResult(f, first)
		case frameTop:
			err = a.topMember(first)
		}
		if err != nil || e != nil {
			return e, err
		}
	}
}

func (a *answer) nextRow(first bool) (*CursorEntry, error) {
	more, err := a.j.element(first)
	if err != nil || !more {
		a.pop()
		return nil, err
	}
	raw, err := a.j.raw()
	if tl, ok := err.(*ResponseTooLargeError); ok {
		tl.What = "a row"
	}
	if err != nil {
		return nil, err
	}
	row, err := decodeRow(raw)
	if err != nil {
		return nil, err
	}
	return &CursorEntry{Type: "row", Row: row}, nil
}

func (a *answer) nextStep(f *frame, first bool) error {
	more, err := a.j.element(first)
	if err != nil {
		return err
	}
	if !more {
		a.pop()
		a.over = true
		return nil
	}
	a.step = f.n
	f.n++
	c, err := a.j.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		raw, err := a.j.raw()
		if err != nil {
			return err
		}
		if string(raw) != "null" {
			return malformedAnswer("a step result is neither an object nor null")
		}
		return nil
	}
	_, _ = a.j.r.Discard(1)
	a.cols, a.hasCols, a.begun, a.rows, a.hasRows, a.affected, a.lastID = nil, false, false, nil, false, 0, OptInt{}
	a.push(frameStep)
	return nil
}

func (a *answer) stepMember(first bool) (*CursorEntry, error) {
	key, ok, err := a.j.member(first)
	if err != nil {
		return nil, err
	}
	if !ok {
		a.pop()
		return nil, a.endStep()
	}
	switch key {
	case "cols":
		a.hasCols = true
		err = a.j.decode(&a.cols, "cols")
	case "rows":
		if a.hasCols && !a.begun && !a.hasRows {
			if open, err := a.j.list(); err != nil || !open {
				return nil, err
			}
			a.begun = true
			a.push(frameRows)
			return &CursorEntry{Type: "step_begin", Step: a.step, Cols: a.cols}, nil
		}
		var raw []byte
		if raw, err = a.j.raw(); err == nil {
			a.rows, a.hasRows = bytes.Clone(raw), true
		}
	case "affected_row_count":
		err = a.j.decode(&a.affected, "affected_row_count")
	case "last_insert_rowid":
		err = a.j.decode(&a.lastID, "last_insert_rowid")
	default:
		err = a.j.skip()
	}
	return nil, err
}

// endStep queues what is left of a step at its result's end.
func (a *answer) endStep() error {
	if !a.begun {
		a.queue = append(a.queue, CursorEntry{Type: "step_begin", Step: a.step, Cols: a.cols})
		if a.hasRows {
			var rows [][]Value
			if err := json.Unmarshal(a.rows, &rows); err != nil {
				return &ProtocolError{Msg: "malformed pipeline answer: rows", Err: err}
			}
			for _, row := range rows {
				a.queue = append(a.queue, CursorEntry{Type: "row", Row: row})
			}
		}
	}
	a.queue = append(a.queue, CursorEntry{Type: "step_end", AffectedRowCount: a.affected, LastInsertRowID: a.lastID})
	a.rows = nil
	return nil
}

func (a *answer) batchMember(first bool) error {
	key, ok, err := a.j.member(first)
	if err != nil {
		return err
	}
	if !ok {
		a.pop()
		a.queueErrors(a.errs)
		a.over = true
		return nil
	}
	switch key {
	case "step_results":
		if open, err := a.j.list(); err != nil || !open {
			return err
		}
		a.push(frameSteps)
		return nil
	case "step_errors":
		return a.j.decode(&a.errs, "step_errors")
	case "replication_index":
		var idx OptInt
		if err := a.j.decode(&idx, "replication_index"); err != nil {
			return err
		}
		a.c.observe(idx)
		return nil
	}
	return a.j.skip()
}

func (a *answer) responseMember(f *frame, first bool) error {
	key, ok, err := a.j.member(first)
	if err != nil {
		return err
	}
	if !ok {
		typ, got, raw := f.typ, f.got, f.raw
		a.pop()
		if typ != "batch" || !got {
			return &ProtocolError{Msg: `result 0: does not answer a "batch" request`}
		}
		if raw == nil {
			return nil // streamed
		}
		var br BatchResult
		var idx struct {
			ReplicationIndex OptInt `json:"replication_index"`
		}
		if json.Unmarshal(raw, &br) != nil || json.Unmarshal(raw, &idx) != nil {
			return malformedAnswer("batch result")
		}
		br.ReplicationIndex = idx.ReplicationIndex
		a.queueBatch(&br)
		return nil
	}
	switch key {
	case "type":
		return a.j.decode(&f.typ, "response type")
	case "result":
		f.got = true
		if f.typ == "batch" && f.raw == nil {
			if err := a.j.expect('{'); err != nil {
				return err
			}
			a.push(frameBatch)
			return nil
		}
		raw, err := a.j.raw()
		if err == nil {
			f.raw = bytes.Clone(raw)
		}
		return err
	}
	return a.j.skip()
}

func (a *answer) resultMember(f *frame, first bool) error {
	key, ok, err := a.j.member(first)
	if err != nil {
		return err
	}
	if !ok {
		typ, got, raw, e := f.typ, f.got, f.raw, f.err
		a.pop()
		switch {
		case typ == "ok" && got && raw == nil:
			return nil // streamed
		case typ == "ok" && got:
			var w wireResponse
			if err := json.Unmarshal(raw, &w); err != nil {
				return &ProtocolError{Msg: "malformed pipeline response", Err: err}
			}
			return a.whole(typ, nil, &w)
		case typ == "ok":
			return a.whole(typ, nil, nil)
		}
		return a.whole(typ, e, nil)
	}
	switch key {
	case "type":
		return a.j.decode(&f.typ, "result type")
	case "response":
		f.got = true
		if f.typ == "ok" && f.raw == nil {
			if err := a.j.expect('{'); err != nil {
				return err
			}
			a.push(frameResponse)
			return nil
		}
		raw, err := a.j.raw()
		if err == nil {
			f.raw = bytes.Clone(raw)
		}
		return err
	case "error":
		return a.j.decode(&f.err, "error")
	}
	return a.j.skip()
}

func (a *answer) nextResult(f *frame, first bool) error {
	more, err := a.j.element(first)
	if err != nil {
		return err
	}
	if !more {
		n := f.n
		a.pop()
		if n != 1 {
			return &ProtocolError{Msg: "pipeline response has 0 results for 1 requests"}
		}
		return nil
	}
	if f.n++; f.n > 1 {
		return &ProtocolError{Msg: "pipeline response has more than 1 results for 1 requests"}
	}
	if err := a.j.expect('{'); err != nil {
		return err
	}
	a.push(frameResult)
	return nil
}

func (a *answer) topMember(first bool) error {
	_, ok, err := a.j.member(first)
	if err != nil {
		return err
	}
	if !ok {
		a.pop()
		return a.end()
	}
	return a.j.skip() // a member after the results: a late baton is no use now
}

// decodeRow decodes one row, [value, …], in sqld's exact form on the fast
// path, or through encoding/json.
func decodeRow(raw []byte) ([]Value, error) {
	if len(raw) > 1 && raw[0] == '[' {
		if row, n, ok := parseValues(raw[1:]); ok && n == len(raw)-1 {
			return row, nil
		}
	}
	var row []Value
	if err := json.Unmarshal(raw, &row); err != nil {
		return nil, &ProtocolError{Msg: "malformed pipeline answer: a row", Err: err}
	}
	if row == nil {
		return nil, malformedAnswer("a row is not a list")
	}
	return row, nil
}
