package apidoc

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The repository root, seen from this package's directory.
const root = "../.."

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// load parses a YAML file of the repository into its document node.
func load(t *testing.T, name string) *yaml.Node {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: not a YAML mapping", name)
	}
	return doc.Content[0]
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// pairs calls f for each key and value of a mapping node, in order.
func pairs(n *yaml.Node, f func(k string, v *yaml.Node)) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		f(n.Content[i].Value, n.Content[i+1])
	}
}

// templateRoutes lists "METHOD /path" for every HttpApi event of every
// function in template.yaml. It walks nodes rather than decoding, so the
// CloudFormation tags (!Ref, !GetAtt, !Sub) need no special handling.
func templateRoutes(t *testing.T) []string {
	t.Helper()
	var out []string
	pairs(get(load(t, "template.yaml"), "Resources"), func(name string, res *yaml.Node) {
		pairs(get(get(res, "Properties"), "Events"), func(event string, ev *yaml.Node) {
			if v := get(ev, "Type"); v == nil || v.Value != "HttpApi" {
				return
			}
			p := get(ev, "Properties")
			method, path := get(p, "Method"), get(p, "Path")
			if method == nil || path == nil {
				t.Errorf("template.yaml: %s.%s: HttpApi event without Method and Path", name, event)
				return
			}
			out = append(out, strings.ToUpper(method.Value)+" "+path.Value)
		})
	})
	slices.Sort(out)
	return out
}

type operation struct {
	key  string // "METHOD /path"
	path *yaml.Node
	op   *yaml.Node
}

// operations lists every operation of openapi.yaml.
func operations(t *testing.T, doc *yaml.Node) []operation {
	t.Helper()
	var out []operation
	pairs(get(doc, "paths"), func(path string, item *yaml.Node) {
		pairs(item, func(k string, op *yaml.Node) {
			if slices.Contains(httpMethods, k) {
				out = append(out, operation{key: strings.ToUpper(k) + " " + path, path: item, op: op})
			}
		})
	})
	return out
}

func TestDocumentIsOpenAPI31(t *testing.T) {
	doc := load(t, "openapi.yaml")
	if v := get(doc, "openapi"); v == nil || !strings.HasPrefix(v.Value, "3.1.") {
		t.Errorf("openapi version = %v, want 3.1.x", v)
	}
	servers := get(doc, "servers")
	if servers == nil || len(servers.Content) == 0 || get(servers.Content[0], "url").Value != "http://127.0.0.1:3000" {
		t.Errorf("the first server must be the local runner, http://127.0.0.1:3000")
	}
}

func TestRoutesMatchTemplate(t *testing.T) {
	routes := templateRoutes(t)
	if len(routes) == 0 {
		t.Fatal("template.yaml has no HttpApi routes")
	}
	var documented []string
	for _, o := range operations(t, load(t, "openapi.yaml")) {
		documented = append(documented, o.key)
	}
	slices.Sort(documented)
	for _, r := range routes {
		if _, found := slices.BinarySearch(documented, r); !found {
			t.Errorf("template route %s is not in openapi.yaml", r)
		}
	}
	for _, d := range documented {
		if _, found := slices.BinarySearch(routes, d); !found {
			t.Errorf("openapi.yaml documents %s, which template.yaml does not route", d)
		}
	}
}

// resolve follows a local $ref ("#/a/b") from the document root. It returns
// nil when the pointer names nothing.
func resolve(doc *yaml.Node, ref string) *yaml.Node {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	n := doc
	for _, tok := range strings.Split(ptr, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		n = get(n, tok)
		if n == nil {
			return nil
		}
	}
	return n
}

// deref follows $ref chains.
func deref(doc, n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 10; i++ {
		r := get(n, "$ref")
		if r == nil {
			return n
		}
		n = resolve(doc, r.Value)
	}
	return n
}

func TestRefsResolve(t *testing.T) {
	doc := load(t, "openapi.yaml")
	count := 0
	var walk func(n *yaml.Node, at string)
	walk = func(n *yaml.Node, at string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				if k == "$ref" {
					count++
					if resolve(doc, v.Value) == nil {
						t.Errorf("%s: $ref %q does not resolve (line %d)", at, v.Value, v.Line)
					}
					continue
				}
				walk(v, at+"/"+k)
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, at+"[]")
			}
		}
	}
	walk(doc, "#")
	if count == 0 {
		t.Error("openapi.yaml has no $ref at all; components are meant to be reused")
	}
}

// isProblem reports whether schema is the Problem schema or builds on it.
func isProblem(doc, schema *yaml.Node) bool {
	if schema == nil {
		return false
	}
	if r := get(schema, "$ref"); r != nil {
		return r.Value == "#/components/schemas/Problem" || isProblem(doc, resolve(doc, r.Value))
	}
	if all := get(schema, "allOf"); all != nil {
		for _, s := range all.Content {
			if isProblem(doc, s) {
				return true
			}
		}
	}
	return false
}

func TestEveryOperationDocumentsProblems(t *testing.T) {
	doc := load(t, "openapi.yaml")
	for _, o := range operations(t, doc) {
		problems := 0
		pairs(get(o.op, "responses"), func(status string, resp *yaml.Node) {
			resp = deref(doc, resp)
			problem := get(get(get(resp, "content"), "application/problem+json"), "schema")
			if len(status) == 3 && status[0] == '4' {
				if problem == nil || !isProblem(doc, problem) {
					t.Errorf("%s %s: not an application/problem+json Problem", o.key, status)
					return
				}
				problems++
			}
			if status[0] == '5' && (problem == nil || !isProblem(doc, problem)) {
				t.Errorf("%s %s: not an application/problem+json Problem", o.key, status)
			}
		})
		if problems == 0 {
			t.Errorf("%s documents no 4xx problem response", o.key)
		}
	}
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func TestOperationsAreWellFormed(t *testing.T) {
	doc := load(t, "openapi.yaml")
	ids := map[string]string{}
	for _, o := range operations(t, doc) {
		id := get(o.op, "operationId")
		switch {
		case id == nil || id.Value == "":
			t.Errorf("%s has no operationId", o.key)
		case ids[id.Value] != "":
			t.Errorf("operationId %q used by %s and %s", id.Value, ids[id.Value], o.key)
		default:
			ids[id.Value] = o.key
		}
		if s := get(o.op, "summary"); s == nil || s.Value == "" {
			t.Errorf("%s has no summary", o.key)
		}

		// Every {param} of the path is declared in: path, and nothing more.
		declared := map[string]bool{}
		for _, list := range []*yaml.Node{get(o.path, "parameters"), get(o.op, "parameters")} {
			if list == nil {
				continue
			}
			for _, p := range list.Content {
				p = deref(doc, p)
				if in := get(p, "in"); in != nil && in.Value == "path" {
					declared[get(p, "name").Value] = true
				}
			}
		}
		path := strings.SplitN(o.key, " ", 2)[1]
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s is not declared", o.key, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s: declares path parameter %s that the path lacks", o.key, name)
		}

		// Request bodies are closed objects: unknown fields are a 400.
		if body := deref(doc, get(o.op, "requestBody")); body != nil {
			schema := deref(doc, get(get(get(body, "content"), "application/json"), "schema"))
			if schema == nil {
				t.Errorf("%s: request body has no application/json schema", o.key)
				continue
			}
			variants := []*yaml.Node{schema}
			if one := get(schema, "oneOf"); one != nil {
				variants = one.Content
			}
			for _, v := range variants {
				v = deref(doc, v)
				if ap := get(v, "additionalProperties"); ap == nil || ap.Value != "false" {
					t.Errorf("%s: request body schema lacks additionalProperties: false", o.key)
				}
			}
		}

		// Security: platform routes take SigV4, the rest inherit bearer or
		// opt out explicitly.
		sec := get(o.op, "security")
		if strings.Contains(path, "/v1/platform/") {
			if sec == nil || len(sec.Content) != 1 || get(sec.Content[0], "sigv4") == nil {
				t.Errorf("%s: a platform route must require only the sigv4 scheme", o.key)
			}
		} else if sec != nil {
			for _, req := range sec.Content {
				if get(req, "sigv4") != nil {
					t.Errorf("%s: only platform routes take sigv4", o.key)
				}
			}
		}
	}
}
