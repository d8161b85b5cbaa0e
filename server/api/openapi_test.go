package api

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The test scans openapi.yaml line by line, for the line numbers of its
// findings (TestOpenAPIIsYAML parses it as YAML besides). That relies on
// the file's regular layout: 2-space indentation,
// top-level keys at indent 0, path keys at indent 2, method keys at
// indent 4, operation keys at indent 6 and response codes at indent 8.

// specOp is one operation of the spec.
type specOp struct {
	method, path string
	line         int
	operationID  string
	noSecurity   bool     // has "security: []"
	security     []string // the schemes of a "security:" block of its own, e.g. deviceAuth
	responses    int
}

func (o *specOp) key() string { return o.method + " " + o.path }

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true}

// yamlLine is one meaningful line: its indentation and its text.
type yamlLine struct {
	n      int // 1-based line number
	indent int
	text   string
}

func readSpecLines(t *testing.T) []yamlLine {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []yamlLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		if strings.ContainsRune(raw, '\t') {
			t.Fatalf("openapi.yaml:%d: tab character; indent with spaces", n)
		}
		text := strings.TrimLeft(raw, " ")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		indent := len(raw) - len(text)
		if indent%2 != 0 {
			t.Fatalf("openapi.yaml:%d: indentation of %d is not a multiple of 2", n, indent)
		}
		out = append(out, yamlLine{n: n, indent: indent, text: strings.TrimRight(text, " ")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mapKey returns the key of a "key:" or "key: value" line, unquoted.
func mapKey(text string) (key, value string, ok bool) {
	if strings.HasPrefix(text, "- ") {
		return "", "", false
	}
	k, v, found := strings.Cut(text, ":")
	if !found || (v != "" && v[0] != ' ') {
		return "", "", false
	}
	return strings.Trim(k, `"'`), strings.TrimSpace(v), true
}

// parseSpecOps returns the operations under "paths:".
func parseSpecOps(t *testing.T, lines []yamlLine) []*specOp {
	t.Helper()
	var ops []*specOp
	var path string
	var op *specOp
	inPaths, inResponses, inSecurity := false, false, false
	for _, l := range lines {
		if l.indent == 0 {
			inPaths = l.text == "paths:"
			path, op = "", nil
			continue
		}
		if !inPaths {
			continue
		}
		key, value, isKey := mapKey(l.text)
		switch {
		case l.indent == 2:
			if !isKey || value != "" || !strings.HasPrefix(key, "/") {
				t.Fatalf("openapi.yaml:%d: want a path key such as /api/v1/cis: at indent 2, got %q", l.n, l.text)
			}
			path, op = key, nil
		case l.indent == 4:
			op = nil
			if isKey && httpMethods[key] {
				if value != "" {
					t.Fatalf("openapi.yaml:%d: method %s must open a block", l.n, key)
				}
				op = &specOp{method: strings.ToUpper(key), path: path, line: l.n}
				ops = append(ops, op)
			}
		case op == nil:
			// Inside path-level parameters and the like.
		case l.indent == 6:
			inResponses = isKey && key == "responses"
			inSecurity = isKey && key == "security" && value == ""
			switch {
			case isKey && key == "operationId":
				op.operationID = value
			case isKey && key == "security":
				op.noSecurity = value == "[]"
				if value != "" && value != "[]" {
					t.Fatalf("openapi.yaml:%d: write an operation's security as [] or as a block of - scheme: [] lines", l.n)
				}
			}
		case l.indent == 8 && inResponses && isKey:
			op.responses++
		case l.indent == 8 && inSecurity:
			scheme, scopes, ok := mapKey(strings.TrimPrefix(l.text, "- "))
			if !strings.HasPrefix(l.text, "- ") || !ok || scopes != "[]" {
				t.Fatalf("openapi.yaml:%d: want a security requirement such as - deviceAuth: [], got %q", l.n, l.text)
			}
			op.security = append(op.security, scheme)
		}
	}
	return ops
}

// normalizePattern turns a ServeMux pattern path into an OpenAPI path:
// {name...} becomes {name} and a trailing {$} is dropped.
func normalizePattern(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

// TestOpenAPI keeps openapi.yaml true to the route table.
func TestOpenAPI(t *testing.T) {
	lines := readSpecLines(t)
	if len(lines) == 0 || !strings.HasPrefix(lines[0].text, "openapi: 3.1.") {
		t.Fatal("openapi.yaml must start with openapi: 3.1.x")
	}
	ops := parseSpecOps(t, lines)
	if len(ops) == 0 {
		t.Fatal("openapi.yaml: no operations found under paths:")
	}

	// The routes: the table plus the routes New registers apart: GET
	// /metrics always, the single sign-on routes when OIDCLogin is set and
	// the agent door when AgentEnroll is set. Of these only the agent's
	// report needs authentication, and with the device credential
	// (deviceAuth) instead of the global bearer token or session cookie.
	noop := func(http.ResponseWriter, *http.Request) {}
	srv := New(Options{OIDCLogin: noop, OIDCCallback: noop, AgentEnroll: noop, AgentReport: noop})
	routes := map[string]string{} // "METHOD /path" → its security: secNone, secGlobal or a scheme of its own
	for _, rt := range srv.Routes() {
		routes[rt.Method+" "+normalizePattern(rt.Pattern)] = map[bool]string{false: secNone, true: secGlobal}[rt.Auth]
	}
	for p, sec := range map[string]string{
		"GET /metrics":                        secNone,
		"GET /auth/oidc/{authority}/login":    secNone,
		"GET /auth/oidc/{authority}/callback": secNone,
		"POST /api/v1/agent/enroll":           "enrolmentAuth",
		"POST /api/v1/agent/report":           "deviceAuth",
	} {
		if _, dup := routes[p]; dup {
			t.Errorf("%s is in the route table and registered apart", p)
		}
		routes[p] = sec
		// Keep the list above true to what New registers.
		method, path, _ := strings.Cut(p, " ")
		req := httptest.NewRequest(method, regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "x"), nil)
		if _, pattern := srv.mux.Handler(req); pattern != p {
			t.Errorf("New does not register %s (the request is routed to %q)", p, pattern)
		}
	}

	specOps := map[string]*specOp{}
	for _, op := range ops {
		if prev := specOps[op.key()]; prev != nil {
			t.Errorf("openapi.yaml:%d: %s is described twice (first at line %d)", op.line, op.key(), prev.line)
		}
		specOps[op.key()] = op
	}

	var missing, extra []string
	for r := range routes {
		if specOps[r] == nil {
			missing = append(missing, r)
		}
	}
	for k, op := range specOps {
		if _, ok := routes[k]; !ok {
			extra = append(extra, k+" (line "+strconv.Itoa(op.line)+")")
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.yaml:\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations in openapi.yaml with no route:\n\t%s", strings.Join(extra, "\n\t"))
	}

	ids := map[string]string{}
	for _, op := range ops {
		if op.operationID == "" {
			t.Errorf("openapi.yaml:%d: %s has no operationId", op.line, op.key())
		} else if prev, dup := ids[op.operationID]; dup {
			t.Errorf("openapi.yaml:%d: %s reuses operationId %s of %s", op.line, op.key(), op.operationID, prev)
		} else {
			ids[op.operationID] = op.key()
		}
		if op.responses == 0 {
			t.Errorf("openapi.yaml:%d: %s has no responses", op.line, op.key())
		}
		sec, ok := routes[op.key()]
		switch {
		case !ok:
		case sec == secGlobal && op.noSecurity:
			t.Errorf("openapi.yaml:%d: %s needs a bearer token or session cookie but says security: []", op.line, op.key())
		case sec == secGlobal && op.security != nil:
			t.Errorf("openapi.yaml:%d: %s needs a bearer token or session cookie (the global security) but lists security %v of its own",
				op.line, op.key(), op.security)
		case sec == secNone && !op.noSecurity:
			t.Errorf("openapi.yaml:%d: %s needs no authentication but lacks security: []", op.line, op.key())
		case sec != secGlobal && sec != secNone && (op.noSecurity || !slices.Equal(op.security, []string{sec})):
			t.Errorf("openapi.yaml:%d: %s needs %s alone: want security: with the one line - %s: []", op.line, op.key(), sec, sec)
		}
	}

	// Global security, bearer token or session cookie, which the
	// operations above override; both schemes must be defined.
	defined := componentNames(lines)
	for _, scheme := range []string{"bearerAuth", "cookieAuth"} {
		if !hasTopLevelBlock(lines, "security:", "- "+scheme+": []") {
			t.Errorf("openapi.yaml: want top-level security to list - %s: []", scheme)
		}
		if !defined["#/components/securitySchemes/"+scheme] {
			t.Errorf("openapi.yaml: security scheme %s is not defined under components.securitySchemes", scheme)
		}
	}
	// Schemes of single operations, such as the agents' deviceAuth: defined,
	// and not part of the global security, which they must not widen.
	for _, sec := range routes {
		if sec == secNone || sec == secGlobal {
			continue
		}
		if !defined["#/components/securitySchemes/"+sec] {
			t.Errorf("openapi.yaml: security scheme %s is not defined under components.securitySchemes", sec)
		}
		if hasTopLevelBlock(lines, "security:", "- "+sec+": []") {
			t.Errorf("openapi.yaml: top-level security lists - %s: [], which only its own operations accept", sec)
		}
	}
	checkRefs(t, lines, defined)
}

// Security of a route: none, the global bearer token or session cookie,
// or else the name of a scheme of its own.
const (
	secNone   = ""
	secGlobal = "global"
)

// hasTopLevelBlock reports whether top-level key head has child line child.
func hasTopLevelBlock(lines []yamlLine, head, child string) bool {
	for i, l := range lines {
		if l.indent == 0 && l.text == head {
			for _, c := range lines[i+1:] {
				if c.indent == 0 {
					break
				}
				if c.text == child {
					return true
				}
			}
		}
	}
	return false
}

// componentNames returns the components the spec defines, as local
// references such as #/components/schemas/Error.
func componentNames(lines []yamlLine) map[string]bool {
	defined := map[string]bool{}
	section, inComponents := "", false
	for _, l := range lines {
		if l.indent == 0 {
			inComponents = l.text == "components:"
			continue
		}
		key, _, isKey := mapKey(l.text)
		if !inComponents || !isKey {
			continue
		}
		switch l.indent {
		case 2:
			section = key
		case 4:
			defined["#/components/"+section+"/"+key] = true
		}
	}
	return defined
}

// checkRefs checks that every local $ref names a defined component.
func checkRefs(t *testing.T, lines []yamlLine, defined map[string]bool) {
	t.Helper()
	refRE := regexp.MustCompile(`\$ref: ["']?([^"'\s]+)["']?$`)
	for _, l := range lines {
		m := refRE.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		if !defined[m[1]] {
			t.Errorf("openapi.yaml:%d: $ref %s names no component", l.n, m[1])
		}
	}
}
