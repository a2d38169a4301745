package samtemplate

import (
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is the part of a SAM template the local tools use.
type Template struct {
	// Parameters by logical name.
	Parameters map[string]Parameter
	// Functions are the AWS::Serverless::Function resources, sorted by
	// logical id.
	Functions []Function
	// Tables are the AWS::DynamoDB::Table resources, sorted by logical id.
	Tables []Table
}

// Parameter is a template parameter.
type Parameter struct {
	Type    string
	Default string
	// HasDefault tells an empty default from none.
	HasDefault bool
}

// Value is a scalar property that may be an intrinsic function in short form.
type Value struct {
	// Tag is "" for a literal, or the short-form tag without its "!", such as
	// "Ref", "GetAtt" or "Sub".
	Tag string
	// Text is the literal, or the intrinsic's argument.
	Text string
}

func (v Value) String() string {
	if v.Tag == "" {
		return v.Text
	}
	return "!" + v.Tag + " " + v.Text
}

// Function is one AWS::Serverless::Function, with Globals applied.
type Function struct {
	LogicalID string
	// CodeURI is the function's CodeUri property as written.
	CodeURI     string
	Handler     string
	Runtime     string
	BuildMethod string
	// Timeout in seconds and MemorySize in MB (Globals applied).
	Timeout    int
	MemorySize int
	// Environment is Globals' variables overlaid with the function's own.
	Environment map[string]Value
	Routes      []Route
	Schedules   []Schedule
}

// Folder is the function's folder under functions/, which is also its name
// in the code (functions.Handler). It comes from CodeUri
// ("functions/<folder>") and, when CodeUri points elsewhere (for instance
// "." for Makefile builds), from the logical id ("PlatformFunction" →
// "platform").
func (f Function) Folder() string {
	if dir, name := path.Split(strings.TrimSuffix(path.Clean(f.CodeURI), "/")); strings.TrimSuffix(dir, "/") == "functions" {
		return name
	}
	return strings.ToLower(strings.TrimSuffix(f.LogicalID, "Function"))
}

// Route is an HttpApi event.
type Route struct {
	// Event is the event's logical name.
	Event  string
	Method string
	Path   string
	// IAM is true when the route's authorizer is AWS_IAM.
	IAM bool
}

// Key is the route key API Gateway puts in events: "METHOD /path".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Schedule is a Schedule or ScheduleV2 event.
type Schedule struct {
	Event      string
	Expression string
	Timezone   string
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	LogicalID   string
	TableName   Value
	BillingMode string
	// Attributes maps attribute names to their types (S, N, B).
	Attributes   map[string]string
	HashKey      string
	RangeKey     string
	Indexes      []Index
	TTLAttribute string
	TTLEnabled   bool
}

// Index is a global secondary index.
type Index struct {
	Name       string
	HashKey    string
	RangeKey   string
	Projection string
}

// ReadFile parses the template at path.
func ReadFile(name string) (*Template, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// Parse parses a SAM template.
func Parse(raw []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("samtemplate: the template is not a YAML mapping")
	}
	root := doc.Content[0]
	t := &Template{Parameters: map[string]Parameter{}}
	for name, p := range pairs(get(root, "Parameters")) {
		par := Parameter{Type: scalar(get(p, "Type")).Text}
		if d := get(p, "Default"); d != nil {
			par.Default, par.HasDefault = scalar(d).Text, true
		}
		t.Parameters[name] = par
	}
	globals := get(get(root, "Globals"), "Function")
	resources := get(root, "Resources")
	if resources == nil {
		return nil, fmt.Errorf("samtemplate: no Resources")
	}
	for id, res := range pairs(resources) {
		switch scalar(get(res, "Type")).Text {
		case "AWS::Serverless::Function":
			f, err := parseFunction(id, res, globals)
			if err != nil {
				return nil, err
			}
			t.Functions = append(t.Functions, f)
		case "AWS::DynamoDB::Table":
			t.Tables = append(t.Tables, parseTable(id, get(res, "Properties")))
		}
	}
	sort.Slice(t.Functions, func(i, j int) bool { return t.Functions[i].LogicalID < t.Functions[j].LogicalID })
	sort.Slice(t.Tables, func(i, j int) bool { return t.Tables[i].LogicalID < t.Tables[j].LogicalID })
	return t, nil
}

// Function returns the function with a logical id.
func (t *Template) Function(logicalID string) (Function, bool) {
	for _, f := range t.Functions {
		if f.LogicalID == logicalID {
			return f, true
		}
	}
	return Function{}, false
}

// Routes lists every HttpApi route of every function, with the function's
// logical id, in template order per function.
func (t *Template) Routes() []FunctionRoute {
	var out []FunctionRoute
	for _, f := range t.Functions {
		for _, r := range f.Routes {
			out = append(out, FunctionRoute{Function: f.LogicalID, Route: r})
		}
	}
	return out
}

// FunctionRoute is a route and the function that serves it.
type FunctionRoute struct {
	Function string
	Route
}

// Resolve turns an environment value into a string: literals as they are,
// !Ref of a parameter to refs[name] or else the parameter's default, and
// !Ref of anything else to refs[name]. Other intrinsics are resolved only
// through refs, keyed by their String form.
func (t *Template) Resolve(v Value, refs map[string]string) (string, error) {
	switch v.Tag {
	case "":
		return v.Text, nil
	case "Ref":
		if s, ok := refs[v.Text]; ok {
			return s, nil
		}
		if p, ok := t.Parameters[v.Text]; ok && p.HasDefault {
			return p.Default, nil
		}
		return "", fmt.Errorf("samtemplate: cannot resolve !Ref %s", v.Text)
	}
	if s, ok := refs[v.String()]; ok {
		return s, nil
	}
	return "", fmt.Errorf("samtemplate: cannot resolve %s", v)
}

// Env resolves a function's environment (see Resolve).
func (t *Template) Env(f Function, refs map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(f.Environment))
	for k, v := range f.Environment {
		s, err := t.Resolve(v, refs)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.LogicalID, k, err)
		}
		out[k] = s
	}
	return out, nil
}

func parseFunction(id string, res, globals *yaml.Node) (Function, error) {
	props := get(res, "Properties")
	prop := func(name string) *yaml.Node {
		if n := get(props, name); n != nil {
			return n
		}
		return get(globals, name)
	}
	f := Function{
		LogicalID:   id,
		CodeURI:     scalar(get(props, "CodeUri")).Text,
		Handler:     scalar(prop("Handler")).Text,
		Runtime:     scalar(prop("Runtime")).Text,
		BuildMethod: scalar(get(get(res, "Metadata"), "BuildMethod")).Text,
		Environment: map[string]Value{},
	}
	var err error
	if f.Timeout, err = intOr(prop("Timeout"), 3); err != nil {
		return f, fmt.Errorf("%s: Timeout: %w", id, err)
	}
	if f.MemorySize, err = intOr(prop("MemorySize"), 128); err != nil {
		return f, fmt.Errorf("%s: MemorySize: %w", id, err)
	}
	for _, src := range []*yaml.Node{globals, props} {
		for k, v := range pairs(get(get(src, "Environment"), "Variables")) {
			f.Environment[k] = scalar(v)
		}
	}
	for name, ev := range pairs(get(props, "Events")) {
		p := get(ev, "Properties")
		switch typ := scalar(get(ev, "Type")).Text; typ {
		case "HttpApi":
			r := Route{Event: name, Method: strings.ToUpper(scalar(get(p, "Method")).Text), Path: scalar(get(p, "Path")).Text}
			if r.Method == "" || r.Path == "" {
				return f, fmt.Errorf("%s: event %s: an HttpApi event needs Method and Path", id, name)
			}
			if r.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				r.Method = "ANY"
			}
			r.IAM = scalar(get(get(p, "Auth"), "Authorizer")).Text == "AWS_IAM"
			f.Routes = append(f.Routes, r)
		case "Schedule", "ScheduleV2":
			f.Schedules = append(f.Schedules, Schedule{Event: name,
				Expression: scalar(get(p, "ScheduleExpression")).Text, Timezone: scalar(get(p, "ScheduleExpressionTimezone")).Text})
			if f.Schedules[len(f.Schedules)-1].Expression == "" {
				f.Schedules[len(f.Schedules)-1].Expression = scalar(get(p, "Schedule")).Text
			}
		}
	}
	return f, nil
}

func parseTable(id string, props *yaml.Node) Table {
	t := Table{LogicalID: id, TableName: scalar(get(props, "TableName")), BillingMode: scalar(get(props, "BillingMode")).Text, Attributes: map[string]string{}}
	for _, a := range items(get(props, "AttributeDefinitions")) {
		t.Attributes[scalar(get(a, "AttributeName")).Text] = scalar(get(a, "AttributeType")).Text
	}
	t.HashKey, t.RangeKey = keySchema(get(props, "KeySchema"))
	for _, g := range items(get(props, "GlobalSecondaryIndexes")) {
		ix := Index{Name: scalar(get(g, "IndexName")).Text, Projection: scalar(get(get(g, "Projection"), "ProjectionType")).Text}
		ix.HashKey, ix.RangeKey = keySchema(get(g, "KeySchema"))
		t.Indexes = append(t.Indexes, ix)
	}
	ttl := get(props, "TimeToLiveSpecification")
	t.TTLAttribute = scalar(get(ttl, "AttributeName")).Text
	t.TTLEnabled = scalar(get(ttl, "Enabled")).Text == "true"
	return t
}

func keySchema(n *yaml.Node) (hash, rng string) {
	for _, k := range items(n) {
		switch scalar(get(k, "KeyType")).Text {
		case "HASH":
			hash = scalar(get(k, "AttributeName")).Text
		case "RANGE":
			rng = scalar(get(k, "AttributeName")).Text
		}
	}
	return hash, rng
}

// get returns the value of key in a mapping node, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// pairs iterates over a mapping node's entries in document order.
func pairs(n *yaml.Node) func(yield func(string, *yaml.Node) bool) {
	return func(yield func(string, *yaml.Node) bool) {
		n = deref(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !yield(n.Content[i].Value, deref(n.Content[i+1])) {
				return
			}
		}
	}
}

// items returns a sequence node's elements.
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = deref(c)
	}
	return out
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// scalar reads a scalar, keeping a short-form intrinsic tag. A long-form
// {"Ref": x} mapping is read as the tag too.
func scalar(n *yaml.Node) Value {
	n = deref(n)
	if n == nil {
		return Value{}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			return Value{Tag: strings.TrimPrefix(n.Tag, "!"), Text: n.Value}
		}
		return Value{Text: n.Value}
	case yaml.SequenceNode:
		// !GetAtt [Res, Attr] and similar.
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			parts := make([]string, 0, len(n.Content))
			for _, c := range n.Content {
				parts = append(parts, c.Value)
			}
			return Value{Tag: strings.TrimPrefix(n.Tag, "!"), Text: strings.Join(parts, ".")}
		}
	case yaml.MappingNode:
		if len(n.Content) == 2 {
			k := n.Content[0].Value
			if k == "Ref" || strings.HasPrefix(k, "Fn::") {
				return Value{Tag: strings.TrimPrefix(k, "Fn::"), Text: scalar(n.Content[1]).Text}
			}
		}
	}
	return Value{}
}

func intOr(n *yaml.Node, def int) (int, error) {
	v := scalar(n)
	if n == nil || v.Text == "" {
		return def, nil
	}
	if v.Tag != "" {
		return def, nil
	}
	return strconv.Atoi(v.Text)
}
