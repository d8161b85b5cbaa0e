package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/schulit/cmdb/server/postgres/postgrestest"
)

// tourCommand is one "api ..." line of the README's tour, as curl would
// send it.
type tourCommand struct {
	line         string
	method, path string
	body         string
	// setVar names the shell variable the line sets to the first id of
	// the answer; "" for a plain api line.
	setVar string
}

// tourFirstID is the one shell idiom the tour may use besides api: a
// variable set to the first id of an answer.
var tourFirstID = regexp.MustCompile(`^(\w+)=\$\(api '?([^' ]+)'? \| grep -o '"id":\[0-9\]\*' \| head -1 \| cut -d: -f2\)$`)

// readmeTour returns the README's section "A tour" and its api commands.
func readmeTour(t *testing.T) (string, []tourCommand) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n## A tour\n")
	if i < 0 {
		t.Fatal("README.md has no section \"A tour\"")
	}
	s = s[i+1:]
	if j := strings.Index(s[3:], "\n## "); j >= 0 {
		s = s[:j+3]
	}
	var cmds []tourCommand
	lines := strings.Split(s, "\n")
	for k := 0; k < len(lines); k++ {
		l := strings.TrimPrefix(lines[k], "    ")
		if m := tourFirstID.FindStringSubmatch(l); l != lines[k] && m != nil {
			cmds = append(cmds, tourCommand{line: l, method: "GET", path: m[2], setVar: m[1]})
			continue
		}
		if l == lines[k] || !strings.HasPrefix(l, "api ") {
			if strings.Contains(l, "$(api") {
				t.Fatalf("README tour: the test does not know the shell of %q", l)
			}
			continue
		}
		// A quoted body may go on over the next lines.
		for !quotesClosed(l) && k+1 < len(lines) {
			k++
			l += "\n" + lines[k]
		}
		words, err := shellWords(l)
		if err != nil {
			t.Fatalf("README tour: %v in %q", err, l)
		}
		c := tourCommand{line: l, method: "GET", path: words[1]}
		for w := 2; w < len(words); w++ {
			switch {
			case words[w] == "-X" && w+1 < len(words):
				c.method = words[w+1]
				w++
			case words[w] == "-d" && w+1 < len(words):
				c.body = words[w+1]
				if c.method == "GET" {
					c.method = "POST" // as curl does
				}
				w++
			default:
				t.Fatalf("README tour: the test does not know %q in %q", words[w], l)
			}
		}
		cmds = append(cmds, c)
	}
	return s, cmds
}

func quotesClosed(s string) bool {
	_, err := shellWords(s)
	return err == nil
}

// shellWords splits a command line as the shell would: quotes, and a
// comment from an unquoted #.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '\'' || ch == '"':
			j := strings.IndexByte(s[i+1:], ch)
			if j < 0 {
				return nil, fmt.Errorf("unclosed %c", ch)
			}
			w.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == ' ' || ch == '\t' || ch == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case ch == '#' && !inWord:
			i = len(s)
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// TestReadmeTour runs every api command of the README's tour, in order,
// against a fresh demo, as the tour's curl would send it: each must
// succeed, and each GET must show something (the tour promises content
// for every one of them).
func TestReadmeTour(t *testing.T) {
	t.Parallel()
	text, cmds := readmeTour(t)
	if len(cmds) < 20 {
		t.Fatalf("found only %d api commands in the tour", len(cmds))
	}
	for _, want := range []string{"    TOKEN=$(bin/cmdbd token create --admin --name tour)\n",
		`"http://127.0.0.1:8080/api/v1/$@"`} {
		if !strings.Contains(text, want) {
			t.Fatalf("the tour no longer says %q; update this test", want)
		}
	}
	script, err := os.ReadFile(filepath.Join("..", "..", "scripts", "demo"))
	if err != nil || !regexp.MustCompile(`go build (-ldflags "[^"]*" )?-o bin/cmdbd ./cmd/cmdbd`).Match(script) {
		t.Fatalf("scripts/demo no longer builds the bin/cmdbd the tour uses: %v", err)
	}

	// The demo's first polling round runs before Run returns; the
	// scheduled rounds that open health events come every second here.
	url := postgrestest.NewDatabase(t)
	m, _, logs := runMain(t, "demo", "--listen", "127.0.0.1:0", "--db", url, "--snmp-interval", "1s", "--log-format", "json")
	_, out, _ := runMain(t, "token", "create", "--admin", "--name", "tour", "--db", url)
	token := strings.TrimSpace(out)
	base := "http://" + m.Addr() + "/api/v1/"

	do := func(c tourCommand) (int, any) {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if c.body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // curl -d
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var v any
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Errorf("%s: not JSON: %v\n%s", c.line, err, raw)
			}
		}
		return resp.StatusCode, v
	}
	seen := map[string]bool{}
	for _, c := range cmds {
		seen[c.path] = true
	}
	for p := range tourPromises {
		if !seen[p] {
			t.Errorf("the tour no longer runs api %s; update tourPromises", p)
		}
	}
	vars := map[string]string{}
	for _, c := range cmds {
		c.path = os.Expand(c.path, func(name string) string {
			if v, ok := vars[name]; ok {
				return v
			}
			t.Fatalf("%s: $%s is not set by an earlier line of the tour", c.line, name)
			return ""
		})
		code, v := do(c)
		// Health events open after the second poll; the demo's come a
		// minute after it starts, this one's a second after. Bounded.
		for i := 0; i < 120 && c.method == "GET" && strings.HasSuffix(c.path, "/health-events") && empty(v); i++ {
			time.Sleep(500 * time.Millisecond)
			code, v = do(c)
		}
		if code < 200 || code > 299 {
			t.Errorf("%s: status %d: %v\nlogs:\n%s", c.line, code, v, logs.String())
			continue
		}
		if c.method == "GET" && empty(v) {
			t.Errorf("%s: shows nothing: %v", c.line, v)
		}
		if c.setVar != "" {
			vars[c.setVar] = firstID(v)
			if vars[c.setVar] == "" {
				t.Fatalf("%s: no id in the answer %v", c.line, v)
			}
		}
		raw, _ := json.Marshal(v)
		for _, want := range tourPromises[c.path] {
			if !strings.Contains(string(raw), want) {
				t.Errorf("%s: the text promises %s, the answer lacks it:\n%s", c.line, want, raw)
			}
		}
	}
}

// tourPromises are what the tour's text says particular answers show,
// beyond being non-empty.
var tourPromises = map[string][]string{
	"cis/12":               {`"class":"mfp"`, `"school_id":1`, `"short_code":"AKNNBW"`},
	"cis/aknn-bw":          {`"id":12,`},
	"cis/12/provenance":    {`"source":"connector:demo"`, `"source":"snmp"`},
	"cis/54":               {`"class":"projector"`},
	"cis/54/locks":         {`"attribute":"room"`},
	"cis/12/metrics":       {`"name":"counter.pages"`, `"name":"supply.`},
	"cis/12/health-events": {`"kind":"jam"`},
	"cis/1/history":        {`"attribute":"merged"`},
	"cis?q=RVH3K90254":     {`"id":12,`},
	// The demo's lived-in ticket year (server/demo/tickets.go).
	"tickets?sla=breached":            {`"state":"breached"`},
	"repeat-failures":                 {`"class":"printer"`, `"count":5`},
	"failure-patterns?authority_id=1": {`"vendor":"Epson"`, `"model":"EB-695Wi"`},
	"kb-articles?public_only=true":    {`Papierstau am Kopierer beheben`},
}

// firstID is what grep -o '"id":[0-9]*' | head -1 finds in an answer: the
// first item's id of a list.
func firstID(v any) string {
	m, _ := v.(map[string]any)
	items, _ := m["items"].([]any)
	if len(items) == 0 {
		return ""
	}
	first, _ := items[0].(map[string]any)
	if id, ok := first["id"].(float64); ok {
		return strconv.FormatInt(int64(id), 10)
	}
	return ""
}

// empty reports whether an answer shows nothing: no body, an empty list,
// or a list object with no items.
func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		if items, ok := v["items"]; ok {
			l, _ := items.([]any)
			return len(l) == 0
		}
		return len(v) == 0
	}
	return false
}

// TestReadmePathsExist checks that the files and directories the README
// tells to pass to commands are in the repository.
func TestReadmePathsExist(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, m := range regexp.MustCompile(`(?m)^ +bin/cmdbd .*--data (\S+)`).FindAllStringSubmatch(string(b), -1) {
		found++
		if _, err := os.Stat(filepath.Join("..", "..", m[1])); err != nil {
			t.Errorf("README: --data %s: %v", m[1], err)
		}
	}
	if found == 0 {
		t.Fatal("README names no --data path; update this test")
	}
	if strings.Contains(string(b), "../shared/") {
		t.Error("README names ../shared/, which a clone does not have")
	}
}
