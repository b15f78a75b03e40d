package hrana

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Stmt is one SQL statement with its arguments.
type Stmt struct {
	SQL       string
	Args      []any      // positional, bound to ? and ?NNN
	NamedArgs []NamedArg // bound to :name, @name and $name
	// SkipRows asks the server not to send rows back (want_rows: false),
	// for statements run only for their effect.
	SkipRows bool
	// ReplicationIndex, when not 0, makes a replica wait until it has
	// applied that index of the primary before running the statement.
	ReplicationIndex uint64
}

// NamedArg is an argument bound by name. The name may carry its prefix
// (":", "@" or "$"); without one the server guesses it.
type NamedArg struct {
	Name  string
	Value any
}

// Request is one stream request of a pipeline. Build it with the
// constructors below.
type Request struct {
	kind  string
	stmt  *Stmt
	batch *Batch
	sql   string
}

// Execute runs one statement.
func Execute(s Stmt) Request { return Request{kind: "execute", stmt: &s} }

// ExecuteBatch runs the steps of b in order, each subject to its condition.
func ExecuteBatch(b Batch) Request { return Request{kind: "batch", batch: &b} }

// Sequence runs SQL text of several statements separated by semicolons,
// ignoring rows and stopping at the first error.
func Sequence(sql string) Request { return Request{kind: "sequence", sql: sql} }

// Close closes the stream; it rolls back a transaction left open.
func Close() Request { return Request{kind: "close"} }

// GetAutocommit asks whether the stream is outside an explicit transaction.
func GetAutocommit() Request { return Request{kind: "get_autocommit"} }

// Kind is the request's type name on the wire.
func (r Request) Kind() string { return r.kind }

// SQL is the statement of an execute request, the text of a sequence, or
// "" for other kinds.
func (r Request) SQL() string {
	if r.stmt != nil {
		return r.stmt.SQL
	}
	return r.sql
}

// Batch is a list of statements run in order, each subject to its condition.
type Batch struct {
	Steps []BatchStep
	// ReplicationIndex is as in Stmt, for the whole batch.
	ReplicationIndex uint64
}

// BatchStep is one statement of a batch; a nil Condition always runs.
type BatchStep struct {
	Condition *Cond
	Stmt      Stmt
}

// Cond is a batch step condition.
type Cond struct {
	kind  string
	step  int
	conds []Cond
}

// OK is true when step ran and succeeded.
func OK(step int) *Cond { return &Cond{kind: "ok", step: step} }

// Failed is true when step ran and failed.
func Failed(step int) *Cond { return &Cond{kind: "error", step: step} }

// Not negates c.
func Not(c *Cond) *Cond { return &Cond{kind: "not", conds: []Cond{*c}} }

// And is true when every one of cs is.
func And(cs ...*Cond) *Cond { return &Cond{kind: "and", conds: deref(cs)} }

// Or is true when any one of cs is.
func Or(cs ...*Cond) *Cond { return &Cond{kind: "or", conds: deref(cs)} }

// IsAutocommit is true when the stream is outside a transaction (Hrana 3).
func IsAutocommit() *Cond { return &Cond{kind: "is_autocommit"} }

func deref(cs []*Cond) []Cond {
	out := make([]Cond, len(cs))
	for i, c := range cs {
		out[i] = *c
	}
	return out
}

// appendPipeline encodes a pipeline request body:
// {"baton":...,"requests":[...]}.
func appendPipeline(b []byte, baton string, reqs []Request) ([]byte, error) {
	b = appendBaton(b, baton)
	b = append(b, `,"requests":[`...)
	for i, r := range reqs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendRequest(b, r); err != nil {
			return b, err
		}
	}
	return append(b, "]}"...), nil
}

// appendBaton opens a request body: {"baton":"..." or {"baton":null.
func appendBaton(b []byte, baton string) []byte {
	b = append(b, `{"baton":`...)
	if baton == "" {
		return append(b, "null"...)
	}
	return appendString(b, baton)
}

func appendRequest(b []byte, r Request) ([]byte, error) {
	b = append(b, `{"type":"`...)
	b = append(b, r.kind...)
	b = append(b, '"')
	switch r.kind {
	case "execute", "batch", "sequence", "close", "get_autocommit":
	default:
		return b, fmt.Errorf("unknown request type %q", r.kind)
	}
	b, err := appendRequestFields(b, &r)
	return append(b, '}'), err
}

// appendRequestFields writes what a request carries besides its type
// and stream: the statement, the batch or the SQL text. HTTP and
// WebSocket requests share them.
func appendRequestFields(b []byte, r *Request) ([]byte, error) {
	switch r.kind {
	case "execute":
		b = append(b, `,"stmt":`...)
		return appendStmt(b, r.stmt)
	case "batch":
		b = append(b, `,"batch":`...)
		return appendBatch(b, r.batch)
	case "sequence":
		b = append(b, `,"sql":`...)
		return appendSQL(b, r.sql)
	}
	return b, nil
}

func appendSQL(b []byte, sql string) ([]byte, error) {
	if !validUTF8(sql) {
		return b, fmt.Errorf("SQL text is not valid UTF-8")
	}
	return appendString(b, sql), nil
}

func appendStmt(b []byte, s *Stmt) ([]byte, error) {
	b = append(b, `{"sql":`...)
	b, err := appendSQL(b, s.SQL)
	if err != nil {
		return b, err
	}
	if len(s.Args) > 0 {
		b = append(b, `,"args":[`...)
		for i, a := range s.Args {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, a); err != nil {
				return b, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		b = append(b, ']')
	}
	if len(s.NamedArgs) > 0 {
		b = append(b, `,"named_args":[`...)
		for i, a := range s.NamedArgs {
			if i > 0 {
				b = append(b, ',')
			}
			if !validUTF8(a.Name) {
				return b, fmt.Errorf("argument name is not valid UTF-8")
			}
			b = append(b, `{"name":`...)
			b = appendString(b, a.Name)
			b = append(b, `,"value":`...)
			if b, err = appendValue(b, a.Value); err != nil {
				return b, fmt.Errorf("argument %q: %w", a.Name, err)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if s.SkipRows {
		b = append(b, `,"want_rows":false`...)
	}
	return appendReplicationIndex(b, s.ReplicationIndex), nil
}

// appendReplicationIndex ends an object with its replication_index, a
// JSON number as sqld reads it.
func appendReplicationIndex(b []byte, idx uint64) []byte {
	if idx > 0 {
		b = append(b, `,"replication_index":`...)
		b = strconv.AppendUint(b, idx, 10)
	}
	return append(b, '}')
}

func appendBatch(b []byte, bt *Batch) ([]byte, error) {
	b = append(b, `{"steps":[`...)
	for i := range bt.Steps {
		if i > 0 {
			b = append(b, ',')
		}
		st := &bt.Steps[i]
		b = append(b, '{')
		if st.Condition != nil {
			b = append(b, `"condition":`...)
			b = appendCond(b, st.Condition)
			b = append(b, ',')
		}
		b = append(b, `"stmt":`...)
		var err error
		if b, err = appendStmt(b, &st.Stmt); err != nil {
			return b, fmt.Errorf("batch step %d: %w", i, err)
		}
		b = append(b, '}')
	}
	return appendReplicationIndex(append(b, ']'), bt.ReplicationIndex), nil
}

func appendCond(b []byte, c *Cond) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, c.kind...)
	b = append(b, '"')
	switch c.kind {
	case "ok", "error":
		b = append(b, `,"step":`...)
		b = strconv.AppendInt(b, int64(c.step), 10)
	case "not":
		b = append(b, `,"cond":`...)
		b = appendCond(b, &c.conds[0])
	case "and", "or":
		b = append(b, `,"conds":[`...)
		for i := range c.conds {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCond(b, &c.conds[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// Col describes one result column.
type Col struct {
	Name     string `json:"name"`
	Decltype string `json:"decltype"` // declared type; empty for expressions
}

// StmtResult is what one statement produced.
type StmtResult struct {
	Cols             []Col     `json:"cols"`
	Rows             [][]Value `json:"rows"`
	AffectedRowCount int64     `json:"affected_row_count"`
	LastInsertRowID  OptInt    `json:"last_insert_rowid"`
	ReplicationIndex OptInt    `json:"replication_index"`
}

// BatchResult holds, per step, either a result or an error; both are nil
// for a step whose condition was false.
type BatchResult struct {
	StepResults      []*StmtResult `json:"step_results"`
	StepErrors       []*Error      `json:"step_errors"`
	ReplicationIndex OptInt        `json:"-"` // decoded by wireResponse
}

// Response is the successful answer to one Request. Result is set for
// execute, Batch for batch, IsAutocommit for get_autocommit.
type Response struct {
	Type         string
	Result       *StmtResult
	Batch        *BatchResult
	IsAutocommit bool
}

// wireResponse decodes every response shape in one pass: the keys of a
// statement result and of a batch result never collide.
type wireResponse struct {
	Type   string `json:"type"`
	Result *struct {
		StmtResult
		BatchResult
		// Both results carry it; decoded here, then copied to the one
		// that answers.
		ReplicationIndex OptInt `json:"replication_index"`
	} `json:"result"`
	IsAutocommit bool `json:"is_autocommit"`
	// fetch_cursor, over WebSocket.
	Entries []CursorEntry `json:"entries"`
	Done    bool          `json:"done"`
}

type wireResult struct {
	Type     string        `json:"type"`
	Response *wireResponse `json:"response"`
	Error    *Error        `json:"error"`
}

type pipelineResponse struct {
	Baton   *string      `json:"baton"`
	BaseURL *string      `json:"base_url"`
	Results []wireResult `json:"results"`
	results []Result     // decoded, one per request
}

// decodePipeline parses a pipeline response body and checks that it
// answers the requests that were sent, one result each, in kind.
func decodePipeline(body []byte, reqs []Request) (*pipelineResponse, []Result, error) {
	if len(reqs) == 1 && reqs[0].kind == "execute" {
		if pr, r, ok := parseExecuteAnswer(body); ok {
			return pr, []Result{{Response: &Response{Type: "execute", Result: r}}}, nil
		}
	}
	return decodePipelineJSON(body, reqs)
}

// decodePipelineJSON is decodePipeline for any answer, through
// encoding/json: the reference the fast path is held to.
func decodePipelineJSON(body []byte, reqs []Request) (*pipelineResponse, []Result, error) {
	var pr pipelineResponse
	if err := json.Unmarshal(body, &pr); err != nil {
		return nil, nil, &ProtocolError{Msg: "malformed pipeline response", Err: err}
	}
	if len(pr.Results) != len(reqs) {
		return nil, nil, &ProtocolError{Msg: fmt.Sprintf("pipeline response has %d results for %d requests", len(pr.Results), len(reqs))}
	}
	out := make([]Result, len(reqs))
	for i, wr := range pr.Results {
		switch wr.Type {
		case "ok":
			resp, err := toResponse(wr.Response, reqs[i].kind, reqs[i].kind)
			if err != nil {
				return nil, nil, &ProtocolError{Msg: fmt.Sprintf("result %d: %s", i, err.Msg)}
			}
			out[i].Response = resp
		case "error":
			if wr.Error == nil {
				return nil, nil, &ProtocolError{Msg: fmt.Sprintf("error result %d has no error", i)}
			}
			out[i].Err = wr.Error
		default:
			return nil, nil, &ProtocolError{Msg: fmt.Sprintf("result %d has an unknown type", i), Quote: wr.Type}
		}
	}
	return &pr, out, nil
}

// toResponse checks that w answers a request of kind (whose answer has
// type wireType) and turns it into a Response.
func toResponse(w *wireResponse, kind, wireType string) (*Response, *ProtocolError) {
	if w == nil || w.Type != wireType {
		return nil, &ProtocolError{Msg: fmt.Sprintf("does not answer a %q request", kind)}
	}
	resp := &Response{Type: kind, IsAutocommit: w.IsAutocommit}
	if r := w.Result; r != nil {
		switch kind {
		case "execute":
			resp.Result = &r.StmtResult
			resp.Result.ReplicationIndex = r.ReplicationIndex
		case "batch":
			resp.Batch = &r.BatchResult
			resp.Batch.ReplicationIndex = r.ReplicationIndex
		}
	}
	if (kind == "execute" && resp.Result == nil) || (kind == "batch" && resp.Batch == nil) {
		return nil, &ProtocolError{Msg: kind + " answer without a result"}
	}
	return resp, nil
}

// OptInt is an optional 64-bit integer; JSON carries it as a decimal
// string or null.
type OptInt struct {
	Value int64
	Valid bool
}

func (o *OptInt) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*o = OptInt{}
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		// Tolerate a bare number from servers that send one.
		n, err2 := strconv.ParseInt(string(data), 10, 64)
		if err2 != nil {
			return &valueError{format: "%s is not an integer", val: string(data)}
		}
		*o = OptInt{n, true}
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &valueError{format: "%q is not an integer", val: s}
	}
	*o = OptInt{n, true}
	return nil
}
