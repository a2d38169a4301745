package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// isolateAWS keeps the machine's AWS settings out of a test.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_CA_BUNDLE": "", "AWS_PROFILE": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SESSION_TOKEN": "",
		"PUBLIC_URL": "", "TABLE_NAME": "", "OUTBOX_DIR": "", "DYNAMODB_ENDPOINT": "", "PORTAL_ENDPOINT": "",
	} {
		t.Setenv(k, v)
	}
}

func startTestServer(t *testing.T, dataDir string) *server {
	t.Helper()
	s, err := startServer(context.Background(), serveOptions{Addr: "127.0.0.1:0", DataDir: dataDir, Template: filepath.Join("..", "..", "template.yaml")},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func localClient(url string) *platformClient {
	return &platformClient{endpoint: url, region: "us-east-1", creds: dummyCredentials, http: &http.Client{Timeout: 10 * time.Second}, signer: newSigner()}
}

// TestServeOnboardingSurvivesRestart is SPEC §6's promise end to end in one
// process: a signed POST creates a pending partner, the outbox holds the
// master's invitation whose link resolves, and a restart on the same data
// directory still has the partner.
func TestServeOnboardingSurvivesRestart(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	dataDir := t.TempDir()
	s := startTestServer(t, dataDir)
	t.Cleanup(func() { s.Close() })

	resp, err := http.Get(s.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp, err = http.Post(s.URL+"/v1/platform/partners", "application/json", strings.NewReader(`{}`))
	if err != nil || resp.StatusCode != 403 {
		t.Fatalf("unsigned platform request: %v %v", resp, err)
	}

	c := localClient(s.URL)
	start := time.Now().Add(-time.Second)
	raw, err := c.do(ctx, http.MethodPost, "/v1/platform/partners", map[string]string{"name": "Acme Security", "country": "FR", "masterEmail": "Boss@Acme.Example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		Partner struct {
			ID, Status string
		}
	}
	if err := json.Unmarshal(raw, &created); err != nil || created.Partner.Status != "pending" || created.Partner.ID == "" {
		t.Fatalf("created = %s (%v)", raw, err)
	}
	link, err := outboxLink(s.Outbox, "boss@acme.example", start)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, s.URL+"/invitations/") {
		t.Errorf("link %q does not point at the local server %s", link, s.URL)
	}
	token := link[strings.LastIndex(link, "/")+1:]
	resp, err = http.Get(s.URL + "/v1/invitations/" + token)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"name":"Acme Security"`) {
		t.Fatalf("invitation: %d %s", resp.StatusCode, body)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = startTestServer(t, dataDir)
	raw, err = localClient(s.URL).do(ctx, http.MethodGet, "/v1/platform/partners/"+created.Partner.ID, nil, nil)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if !bytes.Contains(raw, []byte(`"status":"pending"`)) {
		t.Errorf("after restart: %s", raw)
	}
	resp, err = http.Get(s.URL + "/v1/invitations/" + token)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("invitation after restart: %v %v", resp, err)
	}
}

// TestSeed seeds a demo partner with credits and sites, seeds again
// without duplicating anything (a new invitation link while the partner is
// pending), then, once the master has accepted, seeds a third time and is
// told to sign in.
func TestSeed(t *testing.T) {
	isolateAWS(t)
	ctx := context.Background()
	s := startTestServer(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	first, err := seedDemo(ctx, s.URL, s.Outbox, s.Service())
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != "pending" || first.SitesCreated != demoSites || first.SiteCount != demoSites || first.Link == "" {
		t.Fatalf("first seed = %+v", first)
	}
	if first.Available <= 0 || first.Available >= demoCredits {
		t.Errorf("pool after seeding = %d, want some of the %d credits allocated to sites and some left", first.Available, demoCredits)
	}
	second, err := seedDemo(ctx, s.URL, s.Outbox, s.Service())
	if err != nil {
		t.Fatal(err)
	}
	if second.PartnerID != first.PartnerID || second.SitesCreated != 0 || second.SiteCount != demoSites || second.Available != first.Available {
		t.Errorf("second seed = %+v, first %+v", second, first)
	}
	if second.Link == "" || second.Link == first.Link {
		t.Fatalf("second seed's link %q, first %q", second.Link, first.Link)
	}
	p, err := getPartner(ctx, localClient(s.URL), first.PartnerID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := localClient(s.URL).do(ctx, http.MethodGet, "/v1/platform/partners/"+first.PartnerID, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var purchased struct{ Purchased int64 }
	if err := json.Unmarshal(raw, &purchased); err != nil || purchased.Purchased != demoCredits || p.Name != demoPartnerName {
		t.Errorf("partner after two seeds: %s", raw)
	}

	// The master accepts the newest link and sees a living portal.
	var acc struct{ Token string }
	postJSON(t, s.URL+"/v1/invitations/"+second.Link[strings.LastIndex(second.Link, "/")+1:]+"/accept", "",
		`{"name":"Demo Master","password":"correct horse battery staple"}`, 201, &acc)
	get := func(path string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+acc.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatal(err)
		}
	}
	var sites struct {
		Items []struct {
			Country, TimeZone string
			Devices, Credits  int64
		}
	}
	get("/v1/sites?limit=100", &sites)
	zones := map[string]bool{}
	credited := 0
	for _, site := range sites.Items {
		zones[site.TimeZone] = true
		if site.Credits > 0 {
			credited++
		}
		if site.Devices == 0 {
			t.Errorf("site without usage: %+v", site)
		}
	}
	if len(sites.Items) != demoSites || len(zones) < 10 || credited == 0 {
		t.Errorf("%d sites in %d time zones, %d with credits", len(sites.Items), len(zones), credited)
	}
	var history struct {
		Items []struct{ Type, Reference string }
	}
	get("/v1/credits/history?type=purchase", &history)
	if len(history.Items) != 1 || history.Items[0].Reference != demoReference {
		t.Errorf("purchases = %+v, want one %q", history.Items, demoReference)
	}

	third, err := seedDemo(ctx, s.URL, s.Outbox, s.Service())
	if err != nil {
		t.Fatalf("seeding an active demo partner: %v", err)
	}
	if third.Status != "active" || third.Link != "" || third.SitesCreated != 0 || third.SiteCount != demoSites {
		t.Errorf("third seed = %+v", third)
	}
	var out bytes.Buffer
	printSeed(&out, third)
	if !strings.Contains(out.String(), "sign in as "+demoMasterEmail) {
		t.Errorf("printed %q", out.String())
	}
}

// TestPartnersCLI drives the platform commands against a local server,
// with no AWS credentials configured.
func TestPartnersCLI(t *testing.T) {
	isolateAWS(t)
	s := startTestServer(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append(args, "--endpoint", s.URL), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := cli("partners", "create", "--name", "Beta Systems", "--country", "DE", "--master-email", "m@beta.example", "--idempotency-key", "k1")
	if code != 0 || !strings.Contains(out, `"status": "pending"`) {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "dummy credentials") {
		t.Errorf("no notice about dummy credentials: %q", errOut)
	}
	var created struct{ Partner struct{ ID string } }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	id := created.Partner.ID
	if code, again, _ := cli("partners", "create", "--name", "Beta Systems", "--country", "DE", "--master-email", "m@beta.example", "--idempotency-key", "k1"); code != 0 || !strings.Contains(again, id) {
		t.Errorf("idempotent retry: %d %s", code, again)
	}
	if code, out, _ := cli("partners", "list", "--limit", "10"); code != 0 || strings.Count(out, `"name": "Beta Systems"`) != 1 {
		t.Errorf("list: %d %s", code, out)
	}
	if code, out, _ := cli("partners", "get", id); code != 0 || !strings.Contains(out, id) {
		t.Errorf("get: %d %s", code, out)
	}
	if code, out, _ := cli("partners", "invite-master", id, "--email", "other@beta.example"); code != 0 || !strings.Contains(out, "other@beta.example") {
		t.Errorf("invite-master: %d %s", code, out)
	}
	// A pending partner cannot be suspended: the API's 409 becomes exit 1.
	if code, _, errOut := cli("partners", "suspend", id); code != 1 || !strings.Contains(errOut, "409") {
		t.Errorf("suspend pending: %d %s", code, errOut)
	}
	if code, _, _ := cli("partners", "create", "--name", "x"); code != 2 {
		t.Errorf("create without flags: exit %d, want 2", code)
	}
	if code, _, _ := cli("partners", "get"); code != 2 {
		t.Errorf("get without id: exit %d, want 2", code)
	}
}

// TestRemoteEndpointNeedsCredentials refuses to sign with dummy credentials
// for anything but a loopback endpoint.
func TestRemoteEndpointNeedsCredentials(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	_, err := newPlatformClient(context.Background(), "https://api.example.com", "us-east-1", io.Discard)
	if err == nil || errors.Is(err, errUsage) {
		t.Fatalf("got %v, want a credentials error", err)
	}
}
