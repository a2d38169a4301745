package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/localdb"
	"partnerportal/shared/localgw"
	"partnerportal/shared/samtemplate"
)

const tableName = "partner-portal-e2e"

// needTool skips when a tool is missing, except on CI, where it fails.
func needTool(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// TestOnboardingThroughBootstraps builds each function's bootstrap as
// deployed (lambda.norpc, trimmed, stripped; native architecture so it can
// run here), runs each under aws-lambda-rie with the template's
// environment pointed at an embedded engine and an outbox, and onboards a
// partner over HTTP through the local gateway.
func TestOnboardingThroughBootstraps(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the end-to-end test, which builds every function and runs it under aws-lambda-rie")
	}
	if runtime.GOOS != "linux" {
		needTool(t, "aws-lambda-rie runs Linux bootstraps only; this is "+runtime.GOOS)
	}
	begin := time.Now()
	ctx := context.Background()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	// Build every bootstrap in one go build, and find the emulator.
	binDir := t.TempDir()
	var pkgs []string
	for _, f := range tpl.Functions {
		pkgs = append(pkgs, "./functions/"+f.Folder())
	}
	build := exec.Command("go", append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", binDir + string(os.PathSeparator)}, pkgs...)...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the bootstraps: %v\n%s", err, out)
	}
	rieCmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
	rieCmd.Dir = root
	rieOut, err := rieCmd.Output()
	rie := strings.TrimSpace(string(rieOut))
	if err != nil || rie == "" {
		needTool(t, fmt.Sprintf("aws-lambda-rie (go tool -n aws-lambda-rie) is not available: %v", err))
	}
	t.Logf("built %d bootstraps in %s", len(pkgs), time.Since(begin).Round(time.Millisecond))

	// The embedded engine, in memory, on a loopback port.
	engine, err := localdb.Open("", nil)
	if err != nil {
		t.Fatal(err)
	}
	dbSrv := httptest.NewServer(engine)
	t.Cleanup(dbSrv.Close)
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: dbSrv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, db, tableName); err != nil {
		t.Fatal(err)
	}

	// The gateway's address first: PUBLIC_URL points there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gwURL := "http://" + ln.Addr().String()
	outbox := t.TempDir()
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", logs.String())
		}
	})

	// One emulator per function, started in parallel.
	invokers := map[string]localgw.Invoker{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(tpl.Functions))
	for _, f := range tpl.Functions {
		env, err := tpl.Env(f, map[string]string{"Table": tableName})
		if err != nil {
			t.Fatal(err)
		}
		env["DYNAMODB_ENDPOINT"] = dbSrv.URL
		env["OUTBOX_DIR"] = outbox
		env["PUBLIC_URL"] = gwURL
		env["AWS_REGION"] = "us-east-1"
		vars := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
		for k, v := range env {
			vars = append(vars, k+"="+v)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := localgw.StartRIE(ctx, localgw.RIEOptions{
				RIE: rie, Bootstrap: filepath.Join(binDir, f.Folder()), Name: f.LogicalID, Env: vars,
				Timeout: time.Duration(f.Timeout) * time.Second, Output: logs,
			})
			if err != nil {
				errs <- err
				return
			}
			t.Cleanup(func() { r.Close() })
			mu.Lock()
			invokers[f.LogicalID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	gw, err := localgw.New(tpl, invokers, localgw.Options{Log: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: gw}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Logf("started %d emulators and the gateway after %s", len(invokers), time.Since(begin).Round(time.Millisecond))

	c := &client{t: t, base: gwURL}
	c.expect("GET", "/healthz", nil, false, 200)
	c.expect("POST", "/v1/platform/partners", map[string]string{"name": "x"}, false, 403)
	c.expect("GET", "/v1/nowhere", nil, false, 404)

	body := c.expect("POST", "/v1/platform/partners", map[string]string{"name": "Acme Security", "country": "FR", "masterEmail": "Boss@Acme.Example"}, true, 201)
	var created struct {
		Partner struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"partner"`
		Invitation struct {
			Email string `json:"email"`
		} `json:"invitation"`
	}
	decode(t, body, &created)
	if created.Partner.Status != "pending" || created.Invitation.Email != "boss@acme.example" {
		t.Fatalf("created: %s", body)
	}

	link := invitationLink(t, outbox, "boss@acme.example")
	if !strings.HasPrefix(link, gwURL+"/invitations/") {
		t.Fatalf("link %q does not point at PUBLIC_URL %s", link, gwURL)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	body = c.expect("GET", "/v1/invitations/"+token, nil, false, 200)
	var inv struct {
		Kind, Email, Role string
		Partner           struct{ Name string }
	}
	decode(t, body, &inv)
	if inv.Kind != "portal_admin" || inv.Role != "master" || inv.Email != "boss@acme.example" || inv.Partner.Name != "Acme Security" {
		t.Errorf("invitation: %s", body)
	}
	c.expect("GET", "/v1/invitations/"+strings.Repeat("A", 43), nil, false, 404)

	body = c.expect("GET", "/v1/platform/partners/"+created.Partner.ID, nil, true, 200)
	if !bytes.Contains(body, []byte(`"status":"pending"`)) {
		t.Errorf("get partner: %s", body)
	}
	body = c.expect("GET", "/v1/platform/partners?limit=10", nil, true, 200)
	if !bytes.Contains(body, []byte(created.Partner.ID)) {
		t.Errorf("list partners: %s", body)
	}
	body = c.expect("PATCH", "/v1/platform/partners/"+created.Partner.ID, map[string]string{"status": "suspended"}, true, 409)
	if c.lastContentType != "application/problem+json" {
		t.Errorf("409 content type %q: %s", c.lastContentType, body)
	}
	c.expect("POST", "/v1/platform/partners/"+created.Partner.ID+"/master-invitation", map[string]string{"email": "second@acme.example"}, true, 201)
	invitationLink(t, outbox, "second@acme.example")

	// /_local/invoke hands a raw event to the bootstrap and returns its result.
	event := map[string]any{
		"version": "2.0", "routeKey": "GET /v1/platform/partners", "rawPath": "/v1/platform/partners",
		"headers": map[string]string{},
		"requestContext": map[string]any{"requestId": "raw-1", "http": map[string]string{"method": "GET", "path": "/v1/platform/partners"},
			"authorizer": map[string]any{"iam": map[string]string{"accessKey": "AKIDE2E"}}},
	}
	body = c.expect("POST", "/_local/invoke/PlatformFunction", event, false, 200)
	var raw struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	decode(t, body, &raw)
	if raw.StatusCode != 200 || !strings.Contains(raw.Body, created.Partner.ID) {
		t.Errorf("local invoke: %s", body)
	}
	c.expect("POST", "/_local/invoke/NoSuchFunction", event, false, 404)
	t.Logf("end-to-end test took %s", time.Since(begin).Round(time.Millisecond))
}

type client struct {
	t               *testing.T
	base            string
	lastContentType string
}

var creds = credentials.NewStaticCredentialsProvider("AKIDE2E", "e2e-secret", "")

// expect sends a request (SigV4-signed when sign is true) and fails the
// test unless the status is want; it returns the body.
func (c *client) expect(method, path string, body any, sign bool, want int) []byte {
	c.t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if sign {
		cr, _ := creds.Retrieve(context.Background())
		sum := sha256.Sum256(raw)
		if err := v4.NewSigner().SignHTTP(context.Background(), cr, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
			c.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	c.lastContentType = resp.Header.Get("Content-Type")
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, out)
	}
	return out
}

func decode(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/invitations/[A-Za-z0-9_-]+`)

// invitationLink reads the outbox as a mail client would and returns the
// link of the newest mail to an address.
func invitationLink(t *testing.T, dir, to string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	link := ""
	for _, name := range files { // names start with the time: sorted oldest first
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if msg.Header.Get("To") != to {
			continue
		}
		_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		part, err := multipart.NewReader(msg.Body, params["boundary"]).NextPart()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		text, err := io.ReadAll(part) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if l := linkPattern.FindString(string(text)); l != "" {
			link = l
		}
	}
	if link == "" {
		t.Fatalf("no invitation mail to %s among %d files in the outbox", to, len(files))
	}
	return link
}

// lockedBuffer collects the emulators' output from several processes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
