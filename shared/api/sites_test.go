package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// site is the JSON of a site as a client reads it.
type site struct {
	ID              string
	Name            string
	Country         string
	TimeZone        string
	Credits         int64
	MonthlyCost     int64
	MonthsRemaining *int64
	Users           int64
	Devices         int64
	Status          string
	SuspendedReason string
	CreatedAt       string
	UpdatedAt       string
	Version         int64
}

type siteList struct {
	Items      []site
	NextCursor *string
}

var plat = []string{"authorization", portaltest.PlatformAuth}

// createSite creates a site through the API and fails the test otherwise.
func createSite(t *testing.T, env *portaltest.Env, token, name, country string) site {
	t.Helper()
	res := env.Do(t, "POST", "/v1/sites", map[string]any{"name": name, "country": country, "timeZone": "Europe/Paris"}, portaltest.Bearer(token)...)
	if res.Status != 201 {
		t.Fatalf("create %q: %d %s", name, res.Status, res.Body)
	}
	var s site
	res.Decode(t, &s)
	return s
}

// roundTrips runs f and returns how many DynamoDB round trips it made.
func roundTrips(env *portaltest.Env, f func()) int64 {
	env.Counter.Reset()
	f()
	return env.Counter.Total()
}

func TestSiteLifecycle(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)

	var res *portaltest.Response
	n := roundTrips(env, func() {
		res = env.Do(t, "POST", "/v1/sites", map[string]any{"name": "Lyon HQ", "country": "FR", "timeZone": "Europe/Paris"}, auth...)
	})
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	if n != 2 {
		t.Errorf("POST /v1/sites: %d round trips, want 2", n)
	}
	var created site
	res.Decode(t, &created)
	if res.Headers["location"] != "/v1/sites/"+created.ID || res.Headers["etag"] != `"1"` {
		t.Errorf("headers = %v", res.Headers)
	}
	want := site{ID: created.ID, Name: "Lyon HQ", Country: "FR", TimeZone: "Europe/Paris", Status: "active", Version: 1,
		CreatedAt: "2026-11-16T09:00:00Z", UpdatedAt: "2026-11-16T09:00:00Z"}
	if created != want {
		t.Errorf("created = %+v\nwant      %+v", created, want)
	}
	if body := res.Map(t); body["monthsRemaining"] != nil || len(body) != 13 {
		t.Errorf("site JSON = %v", body)
	}

	n = roundTrips(env, func() { res = env.Do(t, "GET", "/v1/sites/"+created.ID, nil, auth...) })
	if res.Status != 200 || res.Headers["etag"] != `"1"` {
		t.Fatalf("get: %d %v %s", res.Status, res.Headers, res.Body)
	}
	if n != 1 {
		t.Errorf("GET /v1/sites/{id}: %d round trips, want 1", n)
	}

	env.Clock.Advance(60e9)
	n = roundTrips(env, func() {
		res = env.Do(t, "PATCH", "/v1/sites/"+created.ID, map[string]any{"name": "Lyon Head Office", "timeZone": "Europe/Berlin"}, append(auth, "if-match", `"1"`)...)
	})
	if res.Status != 200 || res.Headers["etag"] != `"2"` {
		t.Fatalf("patch: %d %v %s", res.Status, res.Headers, res.Body)
	}
	if n != 2 {
		t.Errorf("PATCH: %d round trips, want 2", n)
	}
	var patched site
	res.Decode(t, &patched)
	if patched.Name != "Lyon Head Office" || patched.TimeZone != "Europe/Berlin" || patched.Country != "FR" || patched.Version != 2 || patched.UpdatedAt != "2026-11-16T09:01:00Z" {
		t.Errorf("patched = %+v", patched)
	}
	res = env.Do(t, "PATCH", "/v1/sites/"+created.ID, map[string]any{"name": "Stale"}, append(auth, "if-match", `"1"`)...)
	if res.Status != 412 || res.Code() != "precondition_failed" {
		t.Errorf("stale If-Match: %d %s", res.Status, res.Body)
	}
	// The old name is free again, the new one is taken (ignoring case).
	createSite(t, env, p.MasterToken, "lyon hq", "FR")
	res = env.Do(t, "POST", "/v1/sites", map[string]any{"name": "LYON HEAD OFFICE", "country": "FR", "timeZone": "Europe/Paris"}, auth...)
	if res.Status != 409 || res.Code() != "already_exists" {
		t.Errorf("duplicate name: %d %s", res.Status, res.Body)
	}
	// A change of case only is a rename to the same marker.
	res = env.Do(t, "PATCH", "/v1/sites/"+created.ID, map[string]any{"name": "LYON head office"}, auth...)
	if res.Status != 200 {
		t.Errorf("case-only rename: %d %s", res.Status, res.Body)
	}

	n = roundTrips(env, func() { res = env.Do(t, "DELETE", "/v1/sites/"+created.ID, nil, auth...) })
	if res.Status != 204 {
		t.Fatalf("delete: %d %s", res.Status, res.Body)
	}
	if n != 2 {
		t.Errorf("DELETE of a site without notes or administrators: %d round trips, want 2", n)
	}
	if res = env.Do(t, "GET", "/v1/sites/"+created.ID, nil, auth...); res.Status != 404 {
		t.Errorf("get deleted: %d", res.Status)
	}
	if res = env.Do(t, "DELETE", "/v1/sites/"+created.ID, nil, auth...); res.Status != 404 {
		t.Errorf("delete again: %d", res.Status)
	}
	// Its name can be used again.
	createSite(t, env, p.MasterToken, "Lyon Head Office", "FR")

	res = env.Do(t, "GET", "/v1/platform/partners/"+p.ID, nil, plat...)
	if got := res.Map(t)["siteCount"]; got != float64(2) {
		t.Errorf("siteCount = %v, want 2", got)
	}
}

func TestSiteValidation(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)
	long := make([]rune, 101)
	for i := range long {
		long[i] = 'x'
	}
	for _, tc := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"name": "A", "country": "XX", "timeZone": "Europe/Paris"}, 422, "country"},
		{map[string]any{"name": "A", "country": "fr", "timeZone": "Europe/Paris"}, 422, "country"},
		{map[string]any{"name": "A", "country": "FR", "timeZone": "Mars/Olympus"}, 422, "timeZone"},
		{map[string]any{"name": "A", "country": "FR", "timeZone": "Local"}, 422, "timeZone"},
		{map[string]any{"name": "", "country": "FR", "timeZone": "UTC"}, 422, "name"},
		{map[string]any{"name": " padded", "country": "FR", "timeZone": "UTC"}, 422, "name"},
		{map[string]any{"name": string(long), "country": "FR", "timeZone": "UTC"}, 422, "name"},
		{map[string]any{"country": "FR", "timeZone": "UTC"}, 422, "name"},
		{map[string]any{"name": "A", "country": "FR", "timeZone": "UTC", "credits": -1}, 422, "credits"},
		{map[string]any{"name": "A", "country": "FR", "timeZone": "UTC", "credits": 1.5}, 400, "credits"},
		{map[string]any{"name": "A", "country": "FR", "timeZone": "UTC", "extra": 1}, 400, "extra"},
		{`{"name":`, 400, ""},
	} {
		res := env.Do(t, "POST", "/v1/sites", tc.body, auth...)
		if res.Status != tc.status {
			t.Errorf("%v: %d %s, want %d", tc.body, res.Status, res.Body, tc.status)
			continue
		}
		if tc.field != "" {
			var p struct{ Errors []portal.FieldError }
			res.Decode(t, &p)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Errorf("%v: errors = %+v, want %s", tc.body, p.Errors, tc.field)
			}
		}
	}
	// 100 characters of any script is fine.
	hundred := make([]rune, 100)
	for i := range hundred {
		hundred[i] = 'é'
	}
	createSite(t, env, p.MasterToken, string(hundred), "FR")
	res := env.Do(t, "GET", "/v1/sites?country=ZZ", nil, auth...)
	if res.Status != 422 {
		t.Errorf("bad country filter: %d", res.Status)
	}
	res = env.Do(t, "GET", "/v1/sites?limit=0", nil, auth...)
	if res.Status != 422 {
		t.Errorf("limit 0: %d", res.Status)
	}
	if res := env.Do(t, "GET", "/v1/sites", nil); res.Status != 401 {
		t.Errorf("no token: %d", res.Status)
	}
}

func TestSiteListingOrderAndFilters(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)
	for _, s := range []struct{ name, country string }{
		{"beta", "FR"}, {"Alpha", "DE"}, {"alpha one", "FR"}, {"Gamma Alpha", "DE"}, {"alpha!", "FR"}, {"Zeta", "US"},
	} {
		createSite(t, env, p.MasterToken, s.name, s.country)
	}
	names := func(target string) []string {
		t.Helper()
		var out []string
		for {
			res := env.Do(t, "GET", target, nil, auth...)
			if res.Status != 200 {
				t.Fatalf("%s: %d %s", target, res.Status, res.Body)
			}
			var l siteList
			res.Decode(t, &l)
			for _, s := range l.Items {
				out = append(out, s.Name)
			}
			if l.NextCursor == nil {
				return out
			}
			target = addCursor(target, *l.NextCursor)
		}
	}
	for target, want := range map[string][]string{
		"/v1/sites":                     {"Alpha", "alpha one", "alpha!", "beta", "Gamma Alpha", "Zeta"},
		"/v1/sites?limit=1":             {"Alpha", "alpha one", "alpha!", "beta", "Gamma Alpha", "Zeta"},
		"/v1/sites?country=FR":          {"alpha one", "alpha!", "beta"},
		"/v1/sites?q=ALPHA":             {"Alpha", "alpha one", "alpha!", "Gamma Alpha"},
		"/v1/sites?q=alpha&country=DE":  {"Alpha", "Gamma Alpha"},
		"/v1/sites?q=a%20o&limit=2":     {"alpha one"},
		"/v1/sites?q=nothing":           nil,
		"/v1/sites?country=JP&limit=10": nil,
	} {
		if got := names(target); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %q, want %q", target, got, want)
		}
	}
	var res *portaltest.Response
	if n := roundTrips(env, func() { res = env.Do(t, "GET", "/v1/sites?limit=2", nil, auth...) }); n != 2 {
		t.Errorf("GET /v1/sites: %d round trips, want 2", n)
	}
	var l siteList
	res.Decode(t, &l)
	if l.Items[0].Status != "active" || l.NextCursor == nil {
		t.Fatalf("list = %s", res.Body)
	}
	// A cursor only continues its own listing.
	for _, target := range []string{"/v1/sites?country=FR", "/v1/sites?q=a"} {
		if res := env.Do(t, "GET", addCursor(target, *l.NextCursor), nil, auth...); res.Status != 400 {
			t.Errorf("%s with another listing's cursor: %d", target, res.Status)
		}
	}
	if res := env.Do(t, "GET", addCursor("/v1/sites", *l.NextCursor+"x"), nil, auth...); res.Status != 400 {
		t.Errorf("tampered cursor: %d", res.Status)
	}
}

func addCursor(target, cursor string) string {
	sep := "?"
	if u, _ := url.Parse(target); u.RawQuery != "" {
		sep = "&"
	}
	return target + sep + "cursor=" + url.QueryEscape(cursor)
}

// countUnder counts the items stored under a site's key prefix (its notes
// and site administrators), reading the table directly.
func countUnder(t *testing.T, env *portaltest.Env, pid, sid string) int {
	t.Helper()
	out, err := env.DB.Query(context.Background(), &dynamodb.QueryInput{
		TableName:              aws.String(env.Table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :pre)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: "P#" + pid},
			":pre": &types.AttributeValueMemberS{Value: "SITE#" + sid + "#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Items)
}

func dynamoAuthNone() dynamo.AuthOptions { return dynamo.AuthOptions{} }
