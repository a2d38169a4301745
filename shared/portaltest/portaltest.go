// Package portaltest is the test harness shared by every package's tests:
// a fresh embedded DynamoDB (minidyn's HTTP server, driven by the real SDK
// client), the real store and handlers, a recording mailer, a round-trip
// counter, and helpers to call routes as API Gateway would and to create
// partners and signed-in administrators.
package portaltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"

	"partnerportal/shared/api"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

// Table is the table name tests use on the embedded engine.
const Table = "portal-test"

// EndpointEnv names the environment variable that points the tests at
// another DynamoDB engine (moto, DynamoDB Local) instead of a fresh
// embedded one per test: each test then gets a fresh, uniquely named table
// there, deleted when it ends. .ci/run sets it to run the suite against
// moto as a second engine.
const EndpointEnv = "PORTAL_TEST_DYNAMODB_ENDPOINT"

// External reports whether the tests run against an external engine
// (EndpointEnv is set), for the few tests that must skip a difference of
// that engine, with the reason.
func External() bool { return os.Getenv(EndpointEnv) != "" }

// SkipOnExternal skips the test when it runs against an external engine.
func SkipOnExternal(t testing.TB, why string) {
	t.Helper()
	if External() {
		t.Skipf("%s=%s: %s", EndpointEnv, os.Getenv(EndpointEnv), why)
	}
}

var tableSeq atomic.Int64

// NewTable returns a client and a fresh table for one test: on a new
// embedded engine, or on the engine EndpointEnv names. The counter, if not
// nil, is attached to the client.
func NewTable(t testing.TB, counter *dynamo.Counter) (*dynamodb.Client, string) {
	t.Helper()
	ctx := context.Background()
	endpoint, table := os.Getenv(EndpointEnv), Table
	if endpoint == "" {
		srv := httptest.NewServer(miniserver.NewServer())
		t.Cleanup(srv.Close)
		endpoint = srv.URL
	} else {
		table = fmt.Sprintf("portal-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9, tableSeq.Add(1))
	}
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: endpoint, Counter: counter})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	if table != Table {
		t.Cleanup(func() {
			db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		})
	}
	return db, table
}

// PublicURL is the base of email links in tests.
const PublicURL = "https://portal.test"

// Env is one isolated Partner Portal over its own embedded DynamoDB.
type Env struct {
	DB *dynamodb.Client
	// Table is the test's table on DB.
	Table   string
	Store   *dynamo.Store
	Service *api.Service
	Mail    *Mailbox
	// Counter counts DynamoDB round trips of every request.
	Counter *dynamo.Counter
	// Clock is the store's time; Advance moves it.
	Clock *Clock

	routes []compiledRoute
	seq    int
	mu     sync.Mutex
}

// Options adjust a new Env.
type Options struct {
	Rates portal.Rates
}

// New starts an Env; it is torn down when the test ends.
func New(t testing.TB, opts ...Options) *Env {
	t.Helper()
	o := Options{Rates: portal.Rates{PerDeviceMonth: 1}}
	if len(opts) > 0 {
		o = opts[0]
	}
	counter := &dynamo.Counter{}
	db, table := NewTable(t, counter)
	clock := &Clock{now: time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)}
	store := dynamo.New(db, table, o.Rates)
	store.Now = clock.Now
	box := &Mailbox{}
	svc := &api.Service{Store: store, Mail: box, PublicURL: PublicURL, Log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	e := &Env{DB: db, Table: table, Store: store, Service: svc, Mail: box, Counter: counter, Clock: clock}
	for _, g := range api.Groups {
		rt := svc.Router(g)
		for _, k := range rt.Routes() {
			e.routes = append(e.routes, compile(k, rt))
		}
	}
	counter.Reset()
	return e
}

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the current test time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

type compiledRoute struct {
	key    string
	method string
	re     *regexp.Regexp
	params []string
	router *httpapi.Router
}

func compile(routeKey string, rt *httpapi.Router) compiledRoute {
	method, path, _ := strings.Cut(routeKey, " ")
	var params []string
	pattern := "^"
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, strings.Trim(seg, "{}"))
			pattern += "/([^/]+)"
		} else {
			pattern += "/" + regexp.QuoteMeta(seg)
		}
	}
	return compiledRoute{key: routeKey, method: method, re: regexp.MustCompile(pattern + "$"), params: params, router: rt}
}

// PlatformAuth is an Authorization header value that marks a request as
// SigV4-signed, as the local runner and API Gateway's IAM authorizer would.
const PlatformAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261116/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"

// Response is a route's answer.
type Response struct {
	Status  int
	Headers map[string]string
	Body    string
}

// Decode unmarshals the body into v, failing the test on error.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("decoding %q: %v", r.Body, err)
	}
}

// Map returns the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// Code returns the problem+json code of an error response, or "".
func (r *Response) Code() string {
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal([]byte(r.Body), &p)
	return p.Code
}

// Do calls a route as API Gateway would: target is the path with its query
// string; body is marshalled as JSON unless it is a string; headers come in
// name, value pairs. A token header pair "Bearer x" is written as
// Do(..., "authorization", "Bearer x").
func (e *Env) Do(t testing.TB, method, target string, body any, headers ...string) *Response {
	t.Helper()
	ev := e.Event(t, method, target, body, headers...)
	for _, r := range e.routes {
		if r.key == ev.RouteKey {
			out, err := r.router.Serve(context.Background(), ev)
			if err != nil {
				t.Fatalf("%s %s: %v", method, target, err)
			}
			return &Response{Status: out.StatusCode, Headers: out.Headers, Body: out.Body}
		}
	}
	return &Response{Status: 404, Headers: map[string]string{}, Body: `{"code":"not_found"}`}
}

// Event builds the API Gateway v2 event for a request.
func (e *Env) Event(t testing.TB, method, target string, body any, headers ...string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	path, rawQuery, _ := strings.Cut(target, "?")
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, RawQueryString: rawQuery, Headers: map[string]string{}}
	for i := 0; i+1 < len(headers); i += 2 {
		ev.Headers[strings.ToLower(headers[i])] = headers[i+1]
	}
	switch b := body.(type) {
	case nil:
	case string:
		ev.Body = b
	case []byte:
		ev.Body = string(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		ev.Body = string(raw)
	}
	if ev.Body != "" {
		if _, ok := ev.Headers["content-type"]; !ok {
			ev.Headers["content-type"] = "application/json"
		}
	}
	if rawQuery != "" {
		ev.QueryStringParameters = map[string]string{}
		for _, kv := range strings.Split(rawQuery, "&") {
			k, v, _ := strings.Cut(kv, "=")
			k, _ = unescape(k)
			v, _ = unescape(v)
			ev.QueryStringParameters[k] = v
		}
	}
	e.mu.Lock()
	e.seq++
	ev.RequestContext.RequestID = "test-" + itoa(e.seq)
	e.mu.Unlock()
	ev.RequestContext.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "192.0.2.1", Protocol: "HTTP/1.1"}
	if strings.HasPrefix(ev.Headers["authorization"], "AWS4-HMAC-SHA256") {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{AccessKey: "AKIDEXAMPLE", AccountID: "123456789012", UserARN: "arn:aws:iam::123456789012:user/platform"},
		}
	}
	ev.RouteKey = "$default"
	for _, r := range e.routes {
		if r.method != method {
			continue
		}
		if m := r.re.FindStringSubmatch(path); m != nil {
			ev.RouteKey = r.key
			if len(r.params) > 0 {
				ev.PathParameters = map[string]string{}
				for i, p := range r.params {
					v, _ := unescape(m[i+1])
					ev.PathParameters[p] = v
				}
			}
			break
		}
	}
	return ev
}

// Mailbox records every message sent; Fail makes sending fail.
type Mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
	fail bool
}

// Send records m, or fails when Fail is set.
func (b *Mailbox) Send(_ context.Context, m mail.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail {
		return io.ErrUnexpectedEOF
	}
	b.msgs = append(b.msgs, m)
	return nil
}

// Fail makes every following Send fail (true) or succeed (false).
func (b *Mailbox) Fail(fail bool) {
	b.mu.Lock()
	b.fail = fail
	b.mu.Unlock()
}

// Messages returns the messages sent to an address, oldest first.
func (b *Mailbox) Messages(to string) []mail.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []mail.Message
	for _, m := range b.msgs {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// All returns every message sent.
func (b *Mailbox) All() []mail.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]mail.Message(nil), b.msgs...)
}

var linkToken = regexp.MustCompile(`/(invitations|password-reset)/([A-Za-z0-9_-]{43})`)

// LinkToken returns the token of the newest link mailed to an address.
func (b *Mailbox) LinkToken(t testing.TB, to string) string {
	t.Helper()
	msgs := b.Messages(to)
	if len(msgs) == 0 {
		t.Fatalf("no mail to %s", to)
	}
	m := linkToken.FindStringSubmatch(msgs[len(msgs)-1].Text)
	if m == nil {
		t.Fatalf("no link in the mail to %s: %q", to, msgs[len(msgs)-1].Text)
	}
	return m[2]
}
