package readmetest

import (
	"fmt"
	"regexp"
	"strings"
)

// step is one thing the README tells the reader to do: write a file, or
// run a command.
type step struct {
	file    string // the path a Go block names in its first line
	content string
	command string // a shell command line
	line    int    // where it is in the README
}

var fileLine = regexp.MustCompile(`^// ([\w./-]+\.go)$`)

// steps reads the section under heading (up to the next heading) into
// steps, in order. Every Go block must name its file in its first line
// ("// ent/entc.go"), so that nothing in the section goes unchecked; sh
// blocks are commands (comments dropped, continued lines joined); any
// other block is an error.
func steps(readme, heading string) ([]step, error) {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, l := range lines {
		if l == heading {
			start = i + 1
			break
		}
	}
	if start < 0 {
		return nil, fmt.Errorf("the README has no %q", heading)
	}
	var out []step
	for i := start; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") {
			break // the next heading
		}
		if !strings.HasPrefix(l, "```") {
			continue
		}
		lang, first := strings.TrimPrefix(l, "```"), i+1
		end := first
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("README line %d: unclosed code block", i+1)
		}
		block := lines[first:end]
		i = end
		switch lang {
		case "go":
			var m []string
			if len(block) > 0 {
				m = fileLine.FindStringSubmatch(strings.TrimSpace(block[0]))
			}
			if m == nil {
				return nil, fmt.Errorf("README line %d: a Go block in %q without its file name as first line (// path/to/file.go)", first, heading)
			}
			out = append(out, step{file: m[1], content: strings.Join(block, "\n") + "\n", line: first})
		case "sh":
			var cmd string
			for j, c := range block {
				c = strings.TrimSpace(c)
				if c == "" || strings.HasPrefix(c, "#") {
					continue
				}
				if cont, ok := strings.CutSuffix(c, `\`); ok {
					cmd += strings.TrimSpace(cont) + " "
					continue
				}
				out = append(out, step{command: cmd + c, line: first + j + 1})
				cmd = ""
			}
		default:
			return nil, fmt.Errorf("README line %d: a %q block in %q: only go (with a file name) and sh blocks are checked", first-1, lang, heading)
		}
	}
	return out, nil
}
