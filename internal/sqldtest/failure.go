package sqldtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// A failed install is remembered in the cache dir for the rest of the
// `go test` run that made it: the test binaries of one run share their
// parent process (the go command), and each would otherwise spend npm's
// full retry time (about 70 s) failing the same way. A new run, with a new
// parent, tries again.

const (
	failureFile = ".install-failed.json"
	// failureTTL bounds the reuse if the parent's pid is reused later.
	failureTTL = time.Hour
)

type failureRecord struct {
	PPID    int       `json:"ppid"`
	Time    time.Time `json:"time"`
	Problem string    `json:"problem"`
	Command string    `json:"command,omitempty"`
	Output  string    `json:"output,omitempty"`
	Fixes   []string  `json:"fixes,omitempty"`
	Pkg     string    `json:"pkg,omitempty"`
	Root    string    `json:"root,omitempty"`
}

// earlierFailure returns the failure an earlier process of this run
// recorded at path, or nil.
func earlierFailure(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var r failureRecord
	if json.Unmarshal(b, &r) != nil || r.PPID != os.Getppid() || time.Since(r.Time) > failureTTL || time.Since(r.Time) < 0 {
		return nil
	}
	return &SetupError{
		Problem: r.Problem, Command: r.Command, Output: r.Output, Fixes: r.Fixes, pkg: r.Pkg, root: r.Root,
		Earlier: fmt.Sprintf("(this failure is from an earlier test process of this run, at %s; it is not retried until the next run, or once you remove %s)",
			r.Time.Format(time.TimeOnly), path),
	}
}

// recordFailure keeps err at path for the rest of the run.
func recordFailure(path string, err error) {
	var se *SetupError
	if !errors.As(err, &se) {
		return
	}
	r := failureRecord{PPID: os.Getppid(), Time: time.Now(), Problem: se.Problem, Command: se.Command,
		Output: se.Output, Fixes: se.Fixes, Pkg: se.pkg, Root: se.root}
	if b, err := json.Marshal(r); err == nil {
		_ = os.WriteFile(path, b, 0o644)
	}
}
