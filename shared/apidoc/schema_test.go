package apidoc_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"

	"partnerportal/shared/portaltest"
)

// contract is openapi.yaml compiled for response validation.
type contract struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	mu       sync.Mutex
	schemas  map[string]*jsonschema.Schema
}

// docURL names the document as a JSON Schema resource; schemas are
// compiled as JSON pointers into it, so "#/components/..." refs resolve.
const docURL = "openapi.json"

// unchecked are response headers every route may send without the
// operation documenting them: the media type (checked on its own) and the
// request id the document describes once, in its conventions.
var unchecked = map[string]bool{"content-type": true, "x-request-id": true}

// loadContract reads openapi.yaml. Response schemas in the document are
// open, so that clients tolerate added fields; here every object schema that
// lists its properties is closed (unevaluatedProperties: false), so that a
// handler cannot grow an undocumented field without this test noticing.
// Schemas used as allOf members are left open, and the schema that composes
// them is closed instead.
func loadContract(t *testing.T) *contract {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	members := map[string]bool{}
	collectAllOfRefs(doc, members)
	closeSchemas(doc, "#", members, false)
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	if err := c.AddResource(docURL, bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return &contract{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}}
}

func collectAllOfRefs(n any, into map[string]bool) {
	switch v := n.(type) {
	case map[string]any:
		if all, ok := v["allOf"].([]any); ok {
			for _, m := range all {
				if mm, ok := m.(map[string]any); ok {
					if ref, ok := mm["$ref"].(string); ok {
						into[ref] = true
					}
				}
			}
		}
		for _, c := range v {
			collectAllOfRefs(c, into)
		}
	case []any:
		for _, c := range v {
			collectAllOfRefs(c, into)
		}
	}
}

// closeSchemas walks the document; at is the JSON pointer of n, member
// says n is an inline allOf member.
func closeSchemas(n any, at string, members map[string]bool, member bool) {
	switch v := n.(type) {
	case map[string]any:
		_, props := v["properties"].(map[string]any)
		_, all := v["allOf"].([]any)
		_, ap := v["additionalProperties"]
		_, up := v["unevaluatedProperties"]
		if (props || all) && !ap && !up && !member && !members[at] && strings.HasPrefix(at, "#/") {
			v["unevaluatedProperties"] = false
		}
		for k, c := range v {
			if k == "allOf" {
				if list, ok := c.([]any); ok {
					for i, m := range list {
						closeSchemas(m, at+"/allOf/"+strconv.Itoa(i), members, true)
					}
					continue
				}
			}
			closeSchemas(c, at+"/"+escape(k), members, false)
		}
	case []any:
		for i, c := range v {
			closeSchemas(c, at+"/"+strconv.Itoa(i), members, false)
		}
	}
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// lookup follows a JSON pointer ("#/a/b") from the document root.
func (c *contract) lookup(ptr string) map[string]any {
	var n any = c.doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "#/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := n.(map[string]any)
		if !ok {
			return nil
		}
		n = m[tok]
	}
	m, _ := n.(map[string]any)
	return m
}

// deref follows $ref chains and returns the node and its pointer.
func (c *contract) deref(n map[string]any, at string) (map[string]any, string) {
	for i := 0; n != nil && i < 10; i++ {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n, at
		}
		n, at = c.lookup(ref), ref
	}
	return n, at
}

func (c *contract) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[ptr]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(docURL + ptr)
	if err != nil {
		return nil, err
	}
	c.schemas[ptr] = s
	return s, nil
}

// operations lists "METHOD /path" of every operation, sorted.
func (c *contract) operations() []string {
	var out []string
	paths, _ := c.doc["paths"].(map[string]any)
	for path, item := range paths {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

// check validates one response against the operation's documented response
// for its status: the status must be documented, the media type must be one
// documented (or none when none is), the body must match that media type's
// schema, every required header must be present, every header sent must be
// documented, and each header value must match its schema.
func (c *contract) check(t *testing.T, op string, res *portaltest.Response) {
	t.Helper()
	method, path, _ := strings.Cut(op, " ")
	opPtr := "#/paths/" + escape(path) + "/" + strings.ToLower(method)
	if c.lookup(opPtr) == nil {
		t.Errorf("%s is not in openapi.yaml", op)
		return
	}
	status := strconv.Itoa(res.Status)
	resp, at := c.deref(c.lookup(opPtr+"/responses/"+status), opPtr+"/responses/"+status)
	if resp == nil {
		t.Errorf("%s answered %d, which openapi.yaml does not document; body %s", op, res.Status, res.Body)
		return
	}

	headers := map[string]string{}
	for k, v := range res.Headers {
		headers[strings.ToLower(k)] = v
	}
	if headers["x-request-id"] == "" {
		t.Errorf("%s %d: no X-Request-Id", op, res.Status)
	}
	content, _ := resp["content"].(map[string]any)
	ct := headers["content-type"]
	switch {
	case len(content) == 0:
		if ct != "" || res.Body != "" {
			t.Errorf("%s %d: documented without a body, got %q %q", op, res.Status, ct, res.Body)
		}
	case ct == "":
		t.Errorf("%s %d: no Content-Type; documented: %v", op, res.Status, keys(content))
	default:
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Errorf("%s %d: Content-Type %q: %v", op, res.Status, ct, err)
			break
		}
		if _, ok := content[mt]; !ok {
			t.Errorf("%s %d: Content-Type %s is not documented (documented: %v)", op, res.Status, mt, keys(content))
			break
		}
		s, err := c.schema(at + "/content/" + escape(mt) + "/schema")
		if err != nil {
			t.Errorf("%s %d %s: compiling the schema: %v", op, res.Status, mt, err)
			break
		}
		var body any = res.Body
		if mt == "application/json" || strings.HasSuffix(mt, "+json") {
			dec := json.NewDecoder(strings.NewReader(res.Body))
			dec.UseNumber()
			if err = dec.Decode(&body); err != nil {
				t.Errorf("%s %d: body is not JSON: %v: %q", op, res.Status, err, res.Body)
				break
			}
		}
		if err := s.Validate(body); err != nil {
			t.Errorf("%s %d: body does not match the documented %s schema:\n%#v\nbody: %s", op, res.Status, mt, err, res.Body)
		}
	}

	documented := map[string]bool{}
	hs, _ := resp["headers"].(map[string]any)
	for name, h := range hs {
		hm, hat := c.deref(h.(map[string]any), at+"/headers/"+escape(name))
		lname := strings.ToLower(name)
		documented[lname] = true
		v, present := headers[lname]
		if !present {
			if req, _ := hm["required"].(bool); req {
				t.Errorf("%s %d: required header %s is missing", op, res.Status, name)
			}
			continue
		}
		sch, _ := c.deref(hm["schema"].(map[string]any), hat+"/schema")
		s, err := c.schema(hat + "/schema")
		if err != nil {
			t.Errorf("%s %d: header %s: compiling the schema: %v", op, res.Status, name, err)
			continue
		}
		var val any = v
		if sch["type"] == "integer" {
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Errorf("%s %d: header %s = %q, not an integer", op, res.Status, name, v)
				continue
			}
			val = n
		}
		if err := s.Validate(val); err != nil {
			t.Errorf("%s %d: header %s = %q does not match its schema: %v", op, res.Status, name, v, err)
		}
	}
	for name := range headers {
		if !unchecked[name] && !documented[name] {
			t.Errorf("%s %d: header %s is sent but not documented", op, res.Status, name)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
