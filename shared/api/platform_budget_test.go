package api_test

import (
	"testing"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portaltest"
)

// TestPlatformRoundTrips pins the DynamoDB round trips of each platform
// route. Routes that send mail spend one extra write recording the
// delivery status after the send.
func TestPlatformRoundTrips(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth}
	p := env.NewPartner(t, "Gamma")
	cases := []struct {
		name         string
		method, path string
		body         any
		headers      []string
		status       int
		want         int64
	}{
		{"create", "POST", "/v1/platform/partners", map[string]any{"name": "Delta", "country": "DE", "masterEmail": "m@delta.example"}, nil, 201, 2},
		{"create idempotent", "POST", "/v1/platform/partners", map[string]any{"name": "Eps", "country": "DE", "masterEmail": "m@eps.example"}, []string{"idempotency-key", "k1"}, 201, 3},
		{"replay", "POST", "/v1/platform/partners", map[string]any{"name": "Eps", "country": "DE", "masterEmail": "m@eps.example"}, []string{"idempotency-key", "k1"}, 201, 1},
		{"list", "GET", "/v1/platform/partners", nil, nil, 200, 1},
		{"get", "GET", "/v1/platform/partners/" + p.ID, nil, nil, 200, 1},
		{"suspend", "PATCH", "/v1/platform/partners/" + p.ID, map[string]any{"status": "suspended"}, nil, 200, 2},
		{"master invitation", "POST", "/v1/platform/partners/" + p.ID + "/master-invitation", map[string]any{"email": "second@gamma.example"}, nil, 201, 3},
	}
	for _, tc := range cases {
		env.Counter.Reset()
		res := env.Do(t, tc.method, tc.path, tc.body, append(plat, tc.headers...)...)
		if res.Status != tc.status {
			t.Fatalf("%s: %d %s", tc.name, res.Status, res.Body)
		}
		if got := env.Counter.Total(); got != tc.want {
			t.Errorf("%s: %d round trips %v, want %d", tc.name, got, env.Counter.Ops(), tc.want)
		}
	}
}

// TestPlatformIdempotentCreate checks a replay returns the first response
// and creates nothing, and another body under the same key is refused.
func TestPlatformIdempotentCreate(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth, "idempotency-key", "order-1"}
	body := map[string]any{"name": "Zeta", "country": "IT", "masterEmail": "m@zeta.example"}
	first := env.Do(t, "POST", "/v1/platform/partners", body, plat...)
	second := env.Do(t, "POST", "/v1/platform/partners", body, plat...)
	if first.Status != 201 || second.Status != 201 || first.Body != second.Body {
		t.Fatalf("replay differs: %d %s / %d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if second.Headers["idempotent-replayed"] != "true" || first.Headers["idempotent-replayed"] != "" {
		t.Errorf("replay headers: first %v second %v", first.Headers, second.Headers)
	}
	if n := len(env.Mail.Messages("m@zeta.example")); n != 1 {
		t.Errorf("%d invitation mails, want 1", n)
	}
	body["name"] = "Other"
	res := env.Do(t, "POST", "/v1/platform/partners", body, plat...)
	if res.Status != 422 || res.Code() != "idempotency_key_reused" {
		t.Errorf("other body: %d %s", res.Status, res.Body)
	}
	list := env.Do(t, "GET", "/v1/platform/partners", nil, plat[:2]...)
	var l struct{ Items []any }
	list.Decode(t, &l)
	if len(l.Items) != 1 {
		t.Errorf("%d partners, want 1", len(l.Items))
	}
}

// TestSuspensionEndsSessions checks a suspended partner's sessions stop
// at once and stay dead after a restore.
func TestSuspensionEndsSessions(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth}
	p := env.NewPartner(t, "Eta")
	res := env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "suspended"}, plat...)
	if res.Status != 200 || res.Map(t)["status"] != "suspended" {
		t.Fatalf("suspend: %d %s", res.Status, res.Body)
	}
	if _, err := env.Store.Authenticate(t.Context(), p.MasterToken, dynamo.AuthOptions{}); err == nil {
		t.Fatal("session still works after suspension")
	}
	env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "active"}, plat...)
	if _, err := env.Store.Authenticate(t.Context(), p.MasterToken, dynamo.AuthOptions{}); err == nil {
		t.Fatal("session revived by restore")
	}
}
