package api

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestOpenAPIIsYAML parses openapi.yaml with a real YAML parser (the
// line scan of TestOpenAPI accepts text that generators and viewers
// refuse) and checks that every $ref names a component that exists.
func TestOpenAPIIsYAML(t *testing.T) {
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.yaml is not valid YAML: %v", err)
	}
	comps, _ := doc["components"].(map[string]any)
	for _, m := range regexp.MustCompile(`\$ref: "#/components/([A-Za-z]+)/([A-Za-z0-9_]+)"`).FindAllStringSubmatch(string(raw), -1) {
		group, _ := comps[m[1]].(map[string]any)
		if _, ok := group[m[2]]; !ok {
			t.Errorf("$ref to #/components/%s/%s, which is not defined", m[1], m[2])
		}
	}
	if n := strings.Count(string(raw), "$ref:"); n < 100 {
		t.Fatalf("only %d $refs found; the pattern no longer matches the file's style", n)
	}
}
