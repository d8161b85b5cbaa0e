package example

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadmeShowsThisFile: the README's guide shows example.go whole, so
// the example a reader copies is the one that builds and passes here.
func TestReadmeShowsThisFile(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example.go")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- plugins/example/example.go -->\n```go\n"
	i := strings.Index(string(readme), marker)
	if i < 0 {
		t.Fatal("README.md no longer shows plugins/example/example.go under its marker")
	}
	shown := string(readme)[i+len(marker):]
	if j := strings.Index(shown, "```"); j >= 0 {
		shown = shown[:j]
	}
	if shown != string(src) {
		t.Fatal("README.md shows another example.go than plugins/example/example.go: copy the file into the guide again")
	}
}
