package readmetest

import (
	"strings"
	"testing"
)

func TestSteps(t *testing.T) {
	md := "# T\n## A\ntext\n```sh\n# comment\ngo build \\\n    ./...\n\ngo test ./...\n```\n```go\n// x/y.go\npackage y\n```\n## B\n```go\npackage z\n```\n"
	got, err := steps(md, "## A")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].command != "go build ./..." || got[1].command != "go test ./..." || got[2].file != "x/y.go" || !strings.HasPrefix(got[2].content, "// x/y.go\npackage y") {
		t.Fatalf("steps = %+v", got)
	}
	for heading, want := range map[string]string{
		"## B": "without its file name",
		"## C": "has no",
	} {
		if _, err := steps(md, heading); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", heading, err, want)
		}
	}
	if _, err := steps("## A\n```\nplain\n```\n", "## A"); err == nil {
		t.Error("a block of no language passed")
	}
}
