package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// activePartner creates a partner through the CLI, accepts its master
// invitation over HTTP and returns the partner id and the master's token.
func activePartner(t *testing.T, s *server, cli func(...string) (int, string, string), name, email string) (string, string) {
	t.Helper()
	since := time.Now().Add(-time.Second)
	code, out, errOut := cli("partners", "create", "--name", name, "--country", "DE", "--master-email", email)
	if code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	var created struct{ Partner struct{ ID string } }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	link, err := outboxLink(s.Outbox, email, since)
	if err != nil {
		t.Fatal(err)
	}
	var acc struct{ Token string }
	postJSON(t, s.URL+"/v1/invitations/"+link[strings.LastIndex(link, "/")+1:]+"/accept", "",
		`{"name":"Master","password":"correct horse battery staple"}`, 201, &acc)
	return created.Partner.ID, acc.Token
}

// postJSON posts body and decodes the answer into v, failing unless the
// status is want.
func postJSON(t *testing.T, url, token, body string, want int, v any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, raw)
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCreditsAndUsageCLI sells credits to a partner, replays the purchase,
// reports a site's usage, and checks the usage errors.
func TestCreditsAndUsageCLI(t *testing.T) {
	isolateAWS(t)
	s := startTestServer(t, t.TempDir())
	t.Cleanup(func() { s.Close() })
	cli := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), append(args, "--endpoint", s.URL), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	pid, token := activePartner(t, s, cli, "Gamma Locks", "m@gamma.example")

	code, out, errOut := cli("credits", "purchase", "--partner", pid, "--amount", "500", "--reference", "INV-1", "--idempotency-key", "buy-1")
	if code != 0 {
		t.Fatalf("purchase: %d %s %s", code, out, errOut)
	}
	var entry struct {
		ID, Type, Reference string
		Amount, PoolBalance int64
	}
	if err := json.Unmarshal([]byte(out), &entry); err != nil {
		t.Fatal(err)
	}
	if entry.Type != "purchase" || entry.Amount != 500 || entry.PoolBalance != 500 || entry.Reference != "INV-1" {
		t.Errorf("purchase entry = %s", out)
	}
	// The same reference and amount replays the first purchase.
	if code, again, _ := cli("credits", "purchase", "--partner", pid, "--amount", "500", "--reference", "INV-1"); code != 0 || !strings.Contains(again, entry.ID) || !strings.Contains(again, `"poolBalance": 500`) {
		t.Errorf("replayed purchase: %d %s", code, again)
	}
	// Another amount under the same reference is refused.
	if code, _, errOut := cli("credits", "purchase", "--partner", pid, "--amount", "7", "--reference", "INV-1"); code != 1 || !strings.Contains(errOut, "409") {
		t.Errorf("reused reference: %d %s", code, errOut)
	}

	var site struct{ ID string }
	postJSON(t, s.URL+"/v1/sites", token, `{"name":"Gamma HQ","country":"DE","timeZone":"Europe/Berlin","credits":100}`, 201, &site)
	code, out, errOut = cli("usage", "set", "--partner", pid, "--site", site.ID, "--users", "4", "--devices", "25")
	if code != 0 {
		t.Fatalf("usage set: %d %s %s", code, out, errOut)
	}
	var got struct {
		ID                                   string
		Users, Devices, MonthlyCost, Credits int64
		MonthsRemaining                      *int64
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != site.ID || got.Users != 4 || got.Devices != 25 || got.MonthlyCost != 25 || got.MonthsRemaining == nil || *got.MonthsRemaining != 4 {
		t.Errorf("site after usage set = %s", out)
	}
	if code, _, errOut := cli("usage", "set", "--partner", pid, "--site", "nope", "--users", "1", "--devices", "1"); code != 1 || !strings.Contains(errOut, "404") {
		t.Errorf("unknown site: %d %s", code, errOut)
	}

	for _, bad := range [][]string{
		{"credits"},
		{"credits", "refund"},
		{"credits", "purchase", "--partner", pid, "--reference", "x"},
		{"credits", "purchase", "--partner", pid, "--amount", "ten", "--reference", "x"},
		{"usage", "set", "--partner", pid, "--site", site.ID, "--users", "1"},
		{"usage", "get"},
	} {
		if code, _, errOut := cli(bad...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errOut)
		}
	}
	// --devices 0 is a value, not a missing flag.
	if code, out, errOut := cli("usage", "set", "--partner", pid, "--site", site.ID, "--users", "0", "--devices", "0"); code != 0 || !strings.Contains(out, `"monthlyCost": 0`) {
		t.Errorf("zero usage: %d %s %s", code, out, errOut)
	}
}
