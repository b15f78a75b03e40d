package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// counts tallies tests by outcome.
type counts struct{ run, pass, fail, skip int }

func (c *counts) add(action string) {
	switch action {
	case "pass":
		c.run++
		c.pass++
	case "fail":
		c.run++
		c.fail++
	case "skip":
		c.skip++
	}
}

// suiteResult is one package's outcome.
type suiteResult struct {
	name           string
	tests, subs    counts
	failed         []string            // tests that failed, subtests included
	output         map[string][]string // output lines per test
	packageOutput  []string
	packageFailure bool
}

// goTest runs the suites and collects their results by package.
func goTest(dir string, o options, skip string) (map[string]*suiteResult, error) {
	args := []string{"test", "-json", "-count=1", "-timeout", o.timeout.String()}
	if skip != "" {
		args = append(args, "-skip", skip)
	}
	if o.run != "" {
		args = append(args, "-run", o.run)
	}
	args = append(args, "./...")
	fmt.Fprintf(o.out, "running: go %s\n", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	results := map[string]*suiteResult{}
	readEvents(stdout, results, o)
	// go test exits 1 when a test fails; the events say which.
	if err := cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return nil, err
		}
	}
	return results, nil
}

func readEvents(r io.Reader, results map[string]*suiteResult, o options) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a build error line, say: go test prints them on stderr
		}
		name := strings.TrimPrefix(strings.TrimPrefix(e.Package, suitesModule), "/")
		if name == "" {
			name = "integration"
		}
		s := results[name]
		if s == nil {
			s = &suiteResult{name: name, output: map[string][]string{}}
			results[name] = s
		}
		if o.verbose && e.Output != "" {
			fmt.Fprint(o.out, e.Output)
		}
		switch {
		case e.Action == "output" && e.Test != "":
			s.output[e.Test] = append(s.output[e.Test], e.Output)
		case e.Action == "output":
			s.packageOutput = append(s.packageOutput, e.Output)
		case e.Test == "" && e.Action == "fail":
			s.packageFailure = true
		case e.Test != "" && (e.Action == "pass" || e.Action == "fail" || e.Action == "skip"):
			if strings.Contains(e.Test, "/") {
				s.subs.add(e.Action)
			} else {
				s.tests.add(e.Action)
			}
			if e.Action == "fail" {
				s.failed = append(s.failed, e.Test)
			}
		}
	}
}

// printTable prints per suite: top-level tests and subtests, run (passed
// plus failed), passed, failed, skipped, and the tests left out.
func printTable(w io.Writer, results map[string]*suiteResult, left map[string]map[string]string) {
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	for n := range left {
		if results[n] == nil {
			results[n] = &suiteResult{name: n}
			names = append(names, n)
		}
	}
	sort.Strings(names)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "suite\ttests run\tpass\tfail\tskip\t\tsubtests run\tpass\tfail\tskip\t\tleft out (needs another database)\t")
	var total, totalSubs counts
	for _, n := range names {
		s := results[n]
		if s.tests.run+s.tests.skip == 0 && len(left[n]) == 0 && !s.packageFailure {
			continue // no tests in this package
		}
		t, u := s.tests, s.subs
		if s.packageFailure && t.fail == 0 {
			t.fail++ // a build failure or a panic outside any test
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\t%d\t%d\t%d\t%d\t\t%s\t\n", n, t.run, t.pass, t.fail, t.skip, u.run, u.pass, u.fail, u.skip, leftOut(left[n]))
		total.run, total.pass, total.fail, total.skip = total.run+t.run, total.pass+t.pass, total.fail+t.fail, total.skip+t.skip
		totalSubs.run, totalSubs.pass, totalSubs.fail, totalSubs.skip = totalSubs.run+u.run, totalSubs.pass+u.pass, totalSubs.fail+u.fail, totalSubs.skip+u.skip
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t\t%d\t%d\t%d\t%d\t\t\t\n", total.run, total.pass, total.fail, total.skip, totalSubs.run, totalSubs.pass, totalSubs.fail, totalSubs.skip)
	tw.Flush()
}

func leftOut(tests map[string]string) string {
	var parts []string
	for t, db := range tests {
		parts = append(parts, t+" ("+db+")")
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// knownFailures are failures explained by sqld itself, by test and the
// text that shows the cause.
var knownFailures = []struct{ suite, test, marker, why string }{
	{"migrate", "TestSQLite", "case_sensitive_like", "sqld refuses PRAGMA case_sensitive_like (README: sqld behaviour to know)"},
}

// exitCode prints each failure with its output, and returns 1 if any is
// not a known one.
func exitCode(w io.Writer, results map[string]*suiteResult) int {
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	code := 0
	for _, n := range names {
		s := results[n]
		if s.packageFailure && s.tests.fail == 0 {
			fmt.Fprintf(w, "\nFAIL %s (outside any test):\n%s", n, tail(s.packageOutput, 40))
			code = 1
		}
		for _, t := range s.failed {
			if hasFailedChild(s.failed, t) {
				continue // its failing subtest is reported instead
			}
			out := strings.Join(s.output[t], "")
			if why := known(n, t, out, s); why != "" {
				fmt.Fprintf(w, "\nknown failure %s %s: %s\n", n, t, why)
				continue
			}
			fmt.Fprintf(w, "\nFAIL %s %s:\n%s", n, t, tail(s.output[t], 40))
			code = 1
		}
	}
	return code
}

func known(suite, test, out string, s *suiteResult) string {
	for _, k := range knownFailures {
		root, _, _ := strings.Cut(test, "/")
		if k.suite == suite && k.test == root && strings.Contains(out+strings.Join(s.output[root], ""), k.marker) {
			return k.why
		}
	}
	return ""
}

func hasFailedChild(failed []string, t string) bool {
	for _, f := range failed {
		if strings.HasPrefix(f, t+"/") {
			return true
		}
	}
	return false
}

func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = append([]string{"    …\n"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "")
}
