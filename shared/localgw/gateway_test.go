package localgw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/google/go-cmp/cmp"

	"partnerportal/shared/samtemplate"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const testTemplate = `
Resources:
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api
      Events:
        GetThing: {Type: HttpApi, Properties: {Method: GET, Path: "/v1/sites/{siteId}/administrators/{email}"}}
        PostUpload: {Type: HttpApi, Properties: {Method: POST, Path: /v1/uploads}}
        GetExact: {Type: HttpApi, Properties: {Method: GET, Path: /v1/a/b}}
        GetParam: {Type: HttpApi, Properties: {Method: GET, Path: "/v1/a/{x}"}}
        AnyGreedy: {Type: HttpApi, Properties: {Method: ANY, Path: "/v1/a/{rest+}"}}
  PlatformFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/platform
      Events:
        Post:
          Type: HttpApi
          Properties: {Method: POST, Path: /v1/platform/partners, Auth: {Authorizer: AWS_IAM}}
  JobFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/job
`

// recorder is an Invoker that keeps the events it gets and answers with a
// canned result.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayV2HTTPRequest
	raw    [][]byte
	out    []byte
	err    error
}

func (r *recorder) Invoke(_ context.Context, event []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ev events.APIGatewayV2HTTPRequest
	json.Unmarshal(event, &ev)
	r.events = append(r.events, ev)
	r.raw = append(r.raw, event)
	return r.out, r.err
}

func (r *recorder) last(t *testing.T) events.APIGatewayV2HTTPRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("the function was not invoked")
	}
	return r.events[len(r.events)-1]
}

var fixedNow = time.Date(2026, 11, 16, 9, 30, 15, 123e6, time.UTC)

func newGateway(t *testing.T) (*Gateway, map[string]*recorder) {
	t.Helper()
	tpl, err := samtemplate.Parse([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	recs := map[string]*recorder{}
	invokers := map[string]Invoker{}
	for _, id := range []string{"ApiFunction", "PlatformFunction", "JobFunction"} {
		recs[id] = &recorder{out: []byte(`{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{}"}`)}
		invokers[id] = recs[id]
	}
	g, err := New(tpl, invokers, Options{Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	return g, recs
}

// request sends a request through the gateway as a client on 127.0.0.1
// would, and returns the response.
func request(g *Gateway, method, target string, body []byte, header http.Header) *http.Response {
	req := httptest.NewRequest(method, "http://127.0.0.1:3000"+target, bytes.NewReader(body))
	req.RemoteAddr = "127.0.0.1:54321"
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, req)
	return rec.Result()
}

const signed = "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20261116/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc"

// TestEventGolden converts requests to events and compares them with the
// golden files under testdata/ (go test -run Golden -update rewrites them).
func TestEventGolden(t *testing.T) {
	for _, tc := range []struct {
		name, method, target, function string
		body                           []byte
		header                         http.Header
	}{
		{
			name: "get_params_query_cookies", method: "GET", function: "ApiFunction",
			target: "/v1/sites/s%201/administrators/ann%40example.com?limit=5&tag=a&tag=b%20c&empty=",
			header: http.Header{
				"User-Agent": {"test-agent/1.0"}, "X-Multi": {"one", "two"},
				"Cookie": {"session=abc; theme=dark"}, "Accept": {"application/json"},
			},
		},
		{
			name: "post_signed_json", method: "POST", function: "PlatformFunction", target: "/v1/platform/partners",
			body:   []byte(`{"name":"Acme","country":"FR","masterEmail":"boss@acme.example"}`),
			header: http.Header{"Content-Type": {"application/json"}, "Authorization": {signed}, "X-Amz-Date": {"20261116T093015Z"}},
		},
		{
			name: "post_binary", method: "POST", function: "ApiFunction", target: "/v1/uploads",
			body:   []byte{0x89, 'P', 'N', 'G', 0, 1, 2},
			header: http.Header{"Content-Type": {"image/png"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, recs := newGateway(t)
			resp := request(g, tc.method, tc.target, tc.body, tc.header)
			if resp.StatusCode != 200 {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			ev := recs[tc.function].last(t)
			if ev.RequestContext.RequestID == "" || resp.Header.Get("Apigw-Requestid") != ev.RequestContext.RequestID {
				t.Errorf("request id %q, header %q", ev.RequestContext.RequestID, resp.Header.Get("Apigw-Requestid"))
			}
			ev.RequestContext.RequestID = "REQUEST-ID"
			got, err := json.MarshalIndent(ev, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if d := cmp.Diff(strings.TrimSpace(string(want)), strings.TrimSpace(string(got))); d != "" {
				t.Errorf("event differs from %s (-want +got):\n%s", golden, d)
			}
		})
	}
}

// TestEventFields checks the fields that matter most one by one, so that a
// wrong golden file cannot hide them.
func TestEventFields(t *testing.T) {
	g, recs := newGateway(t)
	request(g, "GET", "/v1/sites/s%2F1/administrators/ann%40example.com?a=1&a=2&b=x%26y", nil,
		http.Header{"X-Multi": {"one", "two"}, "Cookie": {"c1=1; c2=2"}})
	ev := recs["ApiFunction"].last(t)
	checks := []struct{ name, got, want string }{
		{"version", ev.Version, "2.0"},
		{"routeKey", ev.RouteKey, "GET /v1/sites/{siteId}/administrators/{email}"},
		{"rawPath", ev.RawPath, "/v1/sites/s%2F1/administrators/ann%40example.com"},
		{"rawQueryString", ev.RawQueryString, "a=1&a=2&b=x%26y"},
		{"query a", ev.QueryStringParameters["a"], "1,2"},
		{"query b", ev.QueryStringParameters["b"], "x&y"},
		{"siteId", ev.PathParameters["siteId"], "s/1"},
		{"email", ev.PathParameters["email"], "ann@example.com"},
		{"x-multi", ev.Headers["x-multi"], "one,two"},
		{"cookie header", ev.Headers["cookie"], ""},
		{"cookies", strings.Join(ev.Cookies, "|"), "c1=1|c2=2"},
		{"stage", ev.RequestContext.Stage, "$default"},
		{"method", ev.RequestContext.HTTP.Method, "GET"},
		{"sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
		{"protocol", ev.RequestContext.HTTP.Protocol, "HTTP/1.1"},
		{"time", ev.RequestContext.Time, "16/Nov/2026:09:30:15 +0000"},
		{"accountId", ev.RequestContext.AccountID, LocalAccountID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if ev.RequestContext.TimeEpoch != fixedNow.UnixMilli() {
		t.Errorf("timeEpoch = %d", ev.RequestContext.TimeEpoch)
	}
	if ev.RequestContext.Authorizer != nil {
		t.Errorf("authorizer on a route without AWS_IAM: %+v", ev.RequestContext.Authorizer)
	}
}

func TestRouting(t *testing.T) {
	for _, tc := range []struct {
		method, target string
		status         int
		routeKey       string
		params         map[string]string
	}{
		{"GET", "/v1/a/b", 200, "GET /v1/a/b", nil},
		{"GET", "/v1/a/c", 200, "GET /v1/a/{x}", map[string]string{"x": "c"}},
		{"GET", "/v1/a/c/d/e", 200, "ANY /v1/a/{rest+}", map[string]string{"rest": "c/d/e"}},
		{"DELETE", "/v1/a/c", 200, "ANY /v1/a/{rest+}", map[string]string{"rest": "c"}},
		{"GET", "/v1/a", 404, "", nil},
		{"PUT", "/v1/uploads", 404, "", nil},
		{"GET", "/v1/nothing", 404, "", nil},
		{"GET", "/v1/sites//administrators/x", 404, "", nil},
	} {
		g, recs := newGateway(t)
		resp := request(g, tc.method, tc.target, nil, nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d %s", tc.method, tc.target, resp.StatusCode, body)
			continue
		}
		if tc.status == 404 {
			if string(body) != "{\"message\":\"Not Found\"}\n" {
				t.Errorf("%s %s: body %q", tc.method, tc.target, body)
			}
			continue
		}
		ev := recs["ApiFunction"].last(t)
		if ev.RouteKey != tc.routeKey || !cmp.Equal(ev.PathParameters, tc.params) {
			t.Errorf("%s %s: routed to %q with %v", tc.method, tc.target, ev.RouteKey, ev.PathParameters)
		}
	}
}

func TestIAMRoutes(t *testing.T) {
	g, recs := newGateway(t)
	resp := request(g, "POST", "/v1/platform/partners", []byte(`{}`), http.Header{"Content-Type": {"application/json"}})
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 403 || string(body) != "{\"message\":\"Forbidden\"}\n" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, body)
	}
	if len(recs["PlatformFunction"].events) != 0 {
		t.Error("an unsigned request reached the function")
	}
	resp = request(g, "POST", "/v1/platform/partners", []byte(`{}`), http.Header{"Authorization": {"Bearer x"}})
	if resp.StatusCode != 403 {
		t.Errorf("bearer token on an IAM route: %d", resp.StatusCode)
	}
	resp = request(g, "POST", "/v1/platform/partners?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDQ%2F20261116%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Signature=ab", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("presigned: %d", resp.StatusCode)
	}
	if iam := recs["PlatformFunction"].last(t).RequestContext.Authorizer.IAM; iam == nil || iam.AccessKey != "AKIDQ" {
		t.Errorf("presigned authorizer = %+v", iam)
	}
}

func TestResponses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		out     string
		err     error
		status  int
		headers map[string][]string
		body    string
	}{
		{
			name:    "structured",
			out:     `{"statusCode":201,"headers":{"content-type":"application/json","location":"/x"},"multiValueHeaders":{"x-many":["1","2"]},"cookies":["a=1; HttpOnly","b=2"],"body":"{\"ok\":true}"}`,
			status:  201,
			headers: map[string][]string{"Content-Type": {"application/json"}, "Location": {"/x"}, "X-Many": {"1", "2"}, "Set-Cookie": {"a=1; HttpOnly", "b=2"}},
			body:    `{"ok":true}`,
		},
		{
			name: "base64", out: `{"statusCode":200,"headers":{"content-type":"image/png"},"isBase64Encoded":true,"body":"iVBORw=="}`,
			status: 200, headers: map[string][]string{"Content-Type": {"image/png"}}, body: "\x89PNG",
		},
		{
			name: "no content", out: `{"statusCode":204}`, status: 204, body: "",
		},
		{
			name: "bare JSON", out: `{"hello":"world"}`, status: 200,
			headers: map[string][]string{"Content-Type": {"application/json"}}, body: `{"hello":"world"}`,
		},
		{
			name: "function error", err: &FunctionError{Type: "errorString", Message: "boom"}, status: 500,
			body: "{\"message\":\"Internal Server Error\"}\n",
		},
		{
			name: "bad status", out: `{"statusCode":42}`, status: 500, body: "{\"message\":\"Internal Server Error\"}\n",
		},
		{
			name: "not JSON", out: `nope`, status: 500, body: "{\"message\":\"Internal Server Error\"}\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, recs := newGateway(t)
			recs["ApiFunction"].out, recs["ApiFunction"].err = []byte(tc.out), tc.err
			resp := request(g, "GET", "/v1/a/b", nil, nil)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || string(body) != tc.body {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			for k, want := range tc.headers {
				if got := resp.Header.Values(k); !cmp.Equal(got, want) {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestHealthzAndLocalInvoke(t *testing.T) {
	g, recs := newGateway(t)
	if resp := request(g, "GET", "/healthz", nil, nil); resp.StatusCode != 200 {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	recs["JobFunction"].out = []byte(`{"charged":3}`)
	resp := request(g, "POST", "/_local/invoke/JobFunction", []byte(`{"time":"2026-11-01T00:15:00Z"}`), nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != `{"charged":3}` {
		t.Errorf("invoke: %d %s", resp.StatusCode, body)
	}
	if got := string(recs["JobFunction"].raw[0]); got != `{"time":"2026-11-01T00:15:00Z"}` {
		t.Errorf("the function got %s, want the raw body", got)
	}
	recs["JobFunction"].err = &FunctionError{Type: "portal.Error", Message: "not implemented"}
	resp = request(g, "POST", "/_local/invoke/JobFunction", nil, nil)
	body, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 502 || resp.Header.Get("X-Amz-Function-Error") != "Unhandled" || !strings.Contains(string(body), `"errorMessage":"not implemented"`) {
		t.Errorf("function error: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	recs["JobFunction"].err = errors.New("connection refused")
	if resp = request(g, "POST", "/_local/invoke/JobFunction", nil, nil); resp.StatusCode != 500 {
		t.Errorf("invoker failure: %d", resp.StatusCode)
	}
	if resp = request(g, "POST", "/_local/invoke/NoSuchFunction", nil, nil); resp.StatusCode != 404 {
		t.Errorf("unknown function: %d", resp.StatusCode)
	}
	if resp = request(g, "GET", "/_local/invoke/JobFunction", nil, nil); resp.StatusCode != 405 {
		t.Errorf("GET invoke: %d", resp.StatusCode)
	}
}

func TestNewNeedsInvokers(t *testing.T) {
	tpl, err := samtemplate.Parse([]byte(testTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(tpl, map[string]Invoker{"ApiFunction": &recorder{}}, Options{}); err == nil {
		t.Error("a gateway without the platform function's invoker was built")
	}
}

func TestInProcess(t *testing.T) {
	ok := &InProcess{Handler: lambda.NewHandler(func(ctx context.Context, in map[string]any) (map[string]any, error) {
		if _, has := ctx.Deadline(); !has {
			return nil, errors.New("no deadline")
		}
		return map[string]any{"echo": in["x"]}, nil
	})}
	out, err := ok.Invoke(context.Background(), []byte(`{"x":1}`))
	if err != nil || string(out) != `{"echo":1}` {
		t.Errorf("invoke: %s %v", out, err)
	}
	failing := &InProcess{Handler: lambda.NewHandler(func() error { return errors.New("boom") })}
	_, err = failing.Invoke(context.Background(), []byte(`{}`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Message != "boom" {
		t.Errorf("error: %v", err)
	}
	panicking := &InProcess{Handler: lambda.NewHandler(func() error { panic("oops") })}
	_, err = panicking.Invoke(context.Background(), []byte(`{}`))
	if !errors.As(err, &fe) || !strings.HasPrefix(fe.Message, "oops") {
		t.Errorf("panic: %v", err)
	}
}

func TestAsFunctionError(t *testing.T) {
	if fe := asFunctionError([]byte(`{"errorMessage":"m","errorType":"t","stackTrace":[]}`)); fe == nil || fe.Message != "m" {
		t.Errorf("error document not recognised: %v", fe)
	}
	for _, s := range []string{`{"statusCode":200}`, `{"errorMessage":"m","other":1}`, `[1]`, `nope`} {
		if fe := asFunctionError([]byte(s)); fe != nil {
			t.Errorf("%s taken for an error", s)
		}
	}
}
