package samtemplate_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"partnerportal/shared/api"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/functions"
	"partnerportal/shared/samtemplate"
)

// projectTemplate reads the repository's template.yaml.
func projectTemplate(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, err := samtemplate.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// TestTemplateRoutesMatchHandlers holds template.yaml, the single source of
// truth for routes, and the code's routers equal: a template route without
// a handler fails, and so does a handler without a template route.
func TestTemplateRoutesMatchHandlers(t *testing.T) {
	tpl := projectTemplate(t)
	svc := &api.Service{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var folders []string
	for _, f := range tpl.Functions {
		folder := f.Folder()
		folders = append(folders, folder)
		if _, err := os.Stat(filepath.Join("..", "..", "functions", folder, "main.go")); err != nil {
			t.Errorf("%s: no functions/%s/main.go: %v", f.LogicalID, folder, err)
		}
		var inTemplate []string
		for _, r := range f.Routes {
			inTemplate = append(inTemplate, r.Key())
		}
		slices.Sort(inTemplate)
		if !slices.Contains(api.Groups, api.Group(folder)) {
			if len(inTemplate) > 0 {
				t.Errorf("%s has HttpApi routes but %q is not an HTTP group: %v", f.LogicalID, folder, inTemplate)
			}
			continue
		}
		inCode := svc.Router(api.Group(folder)).Routes()
		for _, k := range inTemplate {
			if !slices.Contains(inCode, k) {
				t.Errorf("%s: template route %q has no handler in group %q", f.LogicalID, k, folder)
			}
		}
		for _, k := range inCode {
			if !slices.Contains(inTemplate, k) {
				t.Errorf("%s: handler %q has no route in template.yaml", f.LogicalID, k)
			}
		}
	}
	slices.Sort(folders)
	if d := cmp.Diff(functions.Names(), folders); d != "" {
		t.Errorf("functions in code (-) and in the template (+):\n%s", d)
	}
	billing, ok := tpl.Function("BillingFunction")
	if !ok || len(billing.Schedules) != 1 {
		t.Errorf("BillingFunction should have one schedule: %+v", billing)
	}
}

// TestTemplatePlatformRoutesUseIAM checks that every /v1/platform route, and
// only those, is IAM-authorized.
func TestTemplatePlatformRoutesUseIAM(t *testing.T) {
	for _, r := range projectTemplate(t).Routes() {
		platform := len(r.Path) >= len("/v1/platform/") && r.Path[:len("/v1/platform/")] == "/v1/platform/"
		if r.IAM != platform {
			t.Errorf("%s %s: AWS_IAM = %v", r.Function, r.Key(), r.IAM)
		}
	}
}

// TestTemplateTableMatchesSchema keeps the deployed table and the one local
// engines and tests create (dynamo.TableSchema) identical.
func TestTemplateTableMatchesSchema(t *testing.T) {
	tpl := projectTemplate(t)
	if len(tpl.Tables) != 1 {
		t.Fatalf("want one table, found %d", len(tpl.Tables))
	}
	got := tpl.Tables[0]
	in := dynamo.TableSchema("x")
	want := samtemplate.Table{
		LogicalID: got.LogicalID, TableName: got.TableName,
		BillingMode:  string(in.BillingMode),
		Attributes:   map[string]string{},
		TTLAttribute: dynamo.AttrTTL, TTLEnabled: true,
	}
	for _, a := range in.AttributeDefinitions {
		want.Attributes[aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	keys := func(ks []typesKey) (h, r string) {
		for _, k := range ks {
			if k.typ == "HASH" {
				h = k.name
			} else {
				r = k.name
			}
		}
		return h, r
	}
	var ks []typesKey
	for _, k := range in.KeySchema {
		ks = append(ks, typesKey{aws.ToString(k.AttributeName), string(k.KeyType)})
	}
	want.HashKey, want.RangeKey = keys(ks)
	for _, g := range in.GlobalSecondaryIndexes {
		ks = ks[:0]
		for _, k := range g.KeySchema {
			ks = append(ks, typesKey{aws.ToString(k.AttributeName), string(k.KeyType)})
		}
		ix := samtemplate.Index{Name: aws.ToString(g.IndexName), Projection: string(g.Projection.ProjectionType)}
		ix.HashKey, ix.RangeKey = keys(ks)
		want.Indexes = append(want.Indexes, ix)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("dynamo.TableSchema (-) and template.yaml (+) differ:\n%s", d)
	}
}

type typesKey struct{ name, typ string }

// TestSampleEvents checks each function's sample event.json (used with
// `sam local invoke -e`): valid JSON, and an API event's routeKey is one of
// that function's template routes.
func TestSampleEvents(t *testing.T) {
	for _, f := range projectTemplate(t).Functions {
		raw, err := os.ReadFile(filepath.Join("..", "..", "functions", f.Folder(), "event.json"))
		if err != nil {
			t.Errorf("%s: %v", f.LogicalID, err)
			continue
		}
		var ev struct {
			RouteKey string `json:"routeKey"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Errorf("%s: event.json: %v", f.LogicalID, err)
			continue
		}
		if len(f.Routes) == 0 {
			continue
		}
		found := false
		for _, r := range f.Routes {
			found = found || r.Key() == ev.RouteKey
		}
		if !found {
			t.Errorf("%s: event.json's routeKey %q is not one of its routes", f.LogicalID, ev.RouteKey)
		}
	}
}
