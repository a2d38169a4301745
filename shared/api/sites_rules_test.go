package api_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// siteFixture is a site of partner p with one note and one invited site
// administrator, made by its master.
type siteFixture struct{ site, note, email string }

func newSiteFixture(t *testing.T, env *portaltest.Env, p portaltest.Partner, name string) siteFixture {
	t.Helper()
	s := createSite(t, env, p.MasterToken, name, "FR")
	auth := portaltest.Bearer(p.MasterToken)
	res := env.Do(t, "POST", "/v1/sites/"+s.ID+"/notes", map[string]any{"text": "hello"}, auth...)
	if res.Status != 201 {
		t.Fatalf("note: %d %s", res.Status, res.Body)
	}
	email := "admin-" + strings.ToLower(s.ID) + "@customer.example"
	if res := env.Do(t, "POST", "/v1/sites/"+s.ID+"/administrators", map[string]any{"email": email}, auth...); res.Status != 201 {
		t.Fatalf("site admin: %d %s", res.Status, res.Body)
	}
	return siteFixture{site: s.ID, note: res.Map(t)["id"].(string), email: email}
}

type siteRoute struct {
	method, path string
	body         any
	// minRole is the least role allowed; status is its success status.
	minRole portal.Role
	status  int
}

func siteRoutesFor(f siteFixture, name string) []siteRoute {
	s := "/v1/sites/" + f.site
	return []siteRoute{
		{"GET", "/v1/sites", nil, portal.RoleObserver, 200},
		{"POST", "/v1/sites", map[string]any{"name": "New " + name, "country": "DE", "timeZone": "Europe/Berlin"}, portal.RoleOperator, 201},
		{"GET", s, nil, portal.RoleObserver, 200},
		{"PATCH", s, map[string]any{"name": name}, portal.RoleOperator, 200},
		{"GET", s + "/notes", nil, portal.RoleObserver, 200},
		{"POST", s + "/notes", map[string]any{"text": "n"}, portal.RoleOperator, 201},
		{"PATCH", s + "/notes/" + f.note, map[string]any{"text": "edited"}, portal.RoleOperator, 200},
		{"GET", s + "/administrators", nil, portal.RoleObserver, 200},
		{"POST", s + "/administrators", map[string]any{"email": "x-" + strings.ToLower(f.site) + "@customer.example"}, portal.RoleOperator, 201},
		{"DELETE", s + "/administrators/" + f.email, nil, portal.RoleOperator, 204},
		{"DELETE", s + "/notes/" + f.note, nil, portal.RoleOperator, 204},
		{"DELETE", s, nil, portal.RoleAdmin, 204},
	}
}

// TestSiteRoleMatrix calls every site route as each role of the owning
// partner, and as each role of another partner, on fresh fixtures.
func TestSiteRoleMatrix(t *testing.T) {
	env := portaltest.New(t)
	own := env.NewPartner(t, "Own")
	other := env.NewPartner(t, "Other")
	tokens := map[string]map[portal.Role]string{"own": {portal.RoleMaster: own.MasterToken}, "other": {portal.RoleMaster: other.MasterToken}}
	for _, r := range []portal.Role{portal.RoleObserver, portal.RoleOperator, portal.RoleAdmin} {
		tokens["own"][r], _ = env.NewAdmin(t, own, r)
		tokens["other"][r], _ = env.NewAdmin(t, other, r)
	}
	n := 0
	for _, who := range []string{"own", "other"} {
		for _, role := range portal.Roles {
			n++
			f := newSiteFixture(t, env, own, fmt.Sprintf("Fixture %d", n))
			for _, rt := range siteRoutesFor(f, fmt.Sprintf("Renamed %d", n)) {
				want := rt.status
				switch {
				case !role.AtLeast(rt.minRole):
					want = 403
				case who == "other" && rt.path != "/v1/sites":
					want = 404
				}
				res := env.Do(t, rt.method, rt.path, rt.body, portaltest.Bearer(tokens[who][role])...)
				if res.Status != want {
					t.Errorf("%s %s as %s %s: %d %s, want %d", rt.method, rt.path, who, role, res.Status, res.Body, want)
				}
			}
		}
	}
}

// TestSiteIsolation checks that another partner's ids reach nothing and
// change nothing, and that another partner's cursor is refused.
func TestSiteIsolation(t *testing.T) {
	env := portaltest.New(t)
	a := env.NewPartner(t, "A")
	b := env.NewPartner(t, "B")
	f := newSiteFixture(t, env, a, "Secret")
	createSite(t, env, a.MasterToken, "Second", "FR")
	authA, authB := portaltest.Bearer(a.MasterToken), portaltest.Bearer(b.MasterToken)
	snapshot := func() string {
		var out []string
		for _, path := range []string{"/v1/sites", "/v1/sites/" + f.site, "/v1/sites/" + f.site + "/notes", "/v1/sites/" + f.site + "/administrators"} {
			out = append(out, env.Do(t, "GET", path, nil, authA...).Body)
		}
		out = append(out, env.Do(t, "GET", "/v1/platform/partners/"+a.ID, nil, plat...).Body)
		return strings.Join(out, "\n")
	}
	before := snapshot()
	for _, rt := range siteRoutesFor(f, "Stolen") {
		if rt.path == "/v1/sites" {
			continue
		}
		if res := env.Do(t, rt.method, rt.path, rt.body, authB...); res.Status != 404 || res.Code() != "not_found" {
			t.Errorf("%s %s by another partner: %d %s", rt.method, rt.path, res.Status, res.Body)
		}
	}
	res := env.Do(t, "PUT", "/v1/platform/partners/"+b.ID+"/sites/"+f.site+"/usage", map[string]any{"users": 1, "devices": 1}, plat...)
	if res.Status != 404 {
		t.Errorf("usage under the wrong partner: %d %s", res.Status, res.Body)
	}
	if after := snapshot(); after != before {
		t.Errorf("another partner changed something:\nbefore %s\nafter  %s", before, after)
	}
	// B's own listing shows nothing of A; A's cursor is a 400 for B.
	res = env.Do(t, "GET", "/v1/sites?limit=1", nil, authA...)
	var l siteList
	res.Decode(t, &l)
	if l.NextCursor == nil {
		t.Fatal("no cursor")
	}
	for _, target := range []string{"/v1/sites?limit=1", "/v1/sites/" + f.site + "/notes"} {
		if res := env.Do(t, "GET", addCursor(target, *l.NextCursor), nil, authB...); res.Status != 400 && res.Status != 404 {
			t.Errorf("%s with A's cursor as B: %d %s", target, res.Status, res.Body)
		}
	}
	if res := env.Do(t, "GET", addCursor("/v1/sites?limit=1", *l.NextCursor), nil, authB...); res.Status != 400 || res.Code() != "malformed_request" {
		t.Errorf("A's cursor as B: %d %s", res.Status, res.Body)
	}
	if res := env.Do(t, "GET", "/v1/sites", nil, authB...); strings.Contains(res.Body, f.site) || len(res.Map(t)["items"].([]any)) != 0 {
		t.Errorf("B sees %s", res.Body)
	}
}

// race runs f concurrently n times, released together, and returns the
// statuses.
func race(n int, f func(i int) int) []int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	slices.Sort(statuses)
	return statuses
}

func TestSiteConcurrency(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)

	// Two sites renamed to the same name at once: exactly one wins.
	x := createSite(t, env, p.MasterToken, "X", "FR")
	y := createSite(t, env, p.MasterToken, "Y", "FR")
	got := race(2, func(i int) int {
		id := []string{x.ID, y.ID}[i]
		return env.Do(t, "PATCH", "/v1/sites/"+id, map[string]any{"name": "Same Name"}, auth...).Status
	})
	if fmt.Sprint(got) != "[200 409]" {
		t.Errorf("concurrent renames: %v, want one 200 and one 409", got)
	}
	res := env.Do(t, "GET", "/v1/sites?q=same", nil, auth...)
	if n := len(res.Map(t)["items"].([]any)); n != 1 {
		t.Errorf("%d sites named Same Name", n)
	}

	// Concurrent edits with the same If-Match: exactly one succeeds.
	x = createSite(t, env, p.MasterToken, "Edited Together", "FR")
	got = race(4, func(i int) int {
		return env.Do(t, "PATCH", "/v1/sites/"+x.ID, map[string]any{"timeZone": []string{"Europe/Berlin", "Asia/Tokyo", "America/Lima", "UTC"}[i]},
			append(auth, "if-match", `"1"`)...).Status
	})
	if fmt.Sprint(got) != "[200 412 412 412]" {
		t.Errorf("concurrent If-Match edits: %v", got)
	}

	// Without If-Match, concurrent edits of different fields all apply.
	y = createSite(t, env, p.MasterToken, "Edited Apart", "FR")
	got = race(2, func(i int) int {
		body := []map[string]any{{"country": "DE"}, {"name": "Renamed Y"}}[i]
		return env.Do(t, "PATCH", "/v1/sites/"+y.ID, body, auth...).Status
	})
	if fmt.Sprint(got) != "[200 200]" {
		t.Errorf("concurrent edits without If-Match: %v", got)
	}
	var final site
	env.Do(t, "GET", "/v1/sites/"+y.ID, nil, auth...).Decode(t, &final)
	if final.Country != "DE" || final.Name != "Renamed Y" || final.Version != 3 {
		t.Errorf("after concurrent edits: %+v (an update was lost)", final)
	}

	// Concurrent creates of one name: exactly one.
	got = race(3, func(i int) int {
		return env.Do(t, "POST", "/v1/sites", map[string]any{"name": "Twin", "country": "FR", "timeZone": "UTC"}, auth...).Status
	})
	if fmt.Sprint(got) != "[201 409 409]" {
		t.Errorf("concurrent creates: %v", got)
	}
}

func TestCreateSiteIdempotency(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := append(portaltest.Bearer(p.MasterToken), "idempotency-key", "k-1")
	body := map[string]any{"name": "Once", "country": "FR", "timeZone": "UTC"}
	first := env.Do(t, "POST", "/v1/sites", body, auth...)
	again := env.Do(t, "POST", "/v1/sites", body, auth...)
	if first.Status != 201 || again.Status != 201 || again.Body != first.Body || again.Headers["idempotent-replayed"] != "true" || again.Headers["location"] != first.Headers["location"] {
		t.Fatalf("replay: %d %s / %d %v %s", first.Status, first.Body, again.Status, again.Headers, again.Body)
	}
	if res := env.Do(t, "POST", "/v1/sites", map[string]any{"name": "Other", "country": "FR", "timeZone": "UTC"}, auth...); res.Status != 422 || res.Code() != "idempotency_key_reused" {
		t.Errorf("reused key: %d %s", res.Status, res.Body)
	}
	res := env.Do(t, "GET", "/v1/sites", nil, portaltest.Bearer(p.MasterToken)...)
	if n := len(res.Map(t)["items"].([]any)); n != 1 {
		t.Errorf("%d sites after a replay", n)
	}
	// Concurrent twins with one key create one site.
	twins := append(portaltest.Bearer(p.MasterToken), "idempotency-key", "k-2")
	got := race(3, func(int) int {
		return env.Do(t, "POST", "/v1/sites", map[string]any{"name": "Twins", "country": "FR", "timeZone": "UTC"}, twins...).Status
	})
	if fmt.Sprint(got) != "[201 201 201]" {
		t.Errorf("twins: %v", got)
	}
	res = env.Do(t, "GET", "/v1/sites?q=twins", nil, portaltest.Bearer(p.MasterToken)...)
	if n := len(res.Map(t)["items"].([]any)); n != 1 {
		t.Errorf("%d sites from concurrent twins", n)
	}
}

func TestUsageRoute(t *testing.T) {
	env := portaltest.New(t, portaltest.Options{Rates: portal.Rates{PerDeviceMonth: 2, PerUserMonth: 1}})
	p := env.NewPartner(t, "Acme")
	s := createSite(t, env, p.MasterToken, "Lyon", "FR")
	if s.MonthlyCost != 0 || s.MonthsRemaining != nil {
		t.Errorf("new site = %+v", s)
	}
	path := "/v1/platform/partners/" + p.ID + "/sites/" + s.ID + "/usage"
	var res *portaltest.Response
	n := roundTrips(env, func() { res = env.Do(t, "PUT", path, map[string]any{"users": 3, "devices": 4}, plat...) })
	if res.Status != 200 || n != 2 {
		t.Fatalf("usage: %d %s (%d round trips)", res.Status, res.Body, n)
	}
	var got site
	res.Decode(t, &got)
	if got.Users != 3 || got.Devices != 4 || got.MonthlyCost != 11 || got.MonthsRemaining == nil || *got.MonthsRemaining != 0 || got.Version != 2 || res.Headers["etag"] != `"2"` {
		t.Errorf("after usage: %+v", got)
	}
	// Repeating the report changes nothing.
	if res = env.Do(t, "PUT", path, map[string]any{"users": 3, "devices": 4}, plat...); res.Status != 200 || res.Map(t)["version"] != float64(2) {
		t.Errorf("repeat: %d %s", res.Status, res.Body)
	}
	res = env.Do(t, "GET", "/v1/platform/partners/"+p.ID, nil, plat...)
	if c := res.Map(t)["credits"].(map[string]any); c["monthlyCost"] != float64(11) {
		t.Errorf("partner credits = %v", c)
	}
	for _, bad := range []struct {
		body   any
		status int
	}{
		{map[string]any{"users": -1, "devices": 0}, 422},
		{map[string]any{"users": 0}, 422},
		{map[string]any{"users": 0, "devices": 10_000_001}, 422},
		{map[string]any{"users": 1.5, "devices": 0}, 400},
		{map[string]any{"users": "1", "devices": 0}, 400},
	} {
		if res := env.Do(t, "PUT", path, bad.body, plat...); res.Status != bad.status {
			t.Errorf("%v: %d %s", bad.body, res.Status, res.Body)
		}
	}
	if res := env.Do(t, "PUT", path, map[string]any{"users": 1, "devices": 1}, portaltest.Bearer(p.MasterToken)...); res.Status != 401 {
		t.Errorf("bearer on a platform route: %d", res.Status)
	}
	if res := env.Do(t, "PUT", "/v1/platform/partners/"+p.ID+"/sites/nope/usage", map[string]any{"users": 1, "devices": 1}, plat...); res.Status != 404 {
		t.Errorf("unknown site: %d", res.Status)
	}
	// The site list carries the cost too.
	res = env.Do(t, "GET", "/v1/sites", nil, portaltest.Bearer(p.MasterToken)...)
	var l siteList
	res.Decode(t, &l)
	if l.Items[0].MonthlyCost != 11 || l.Items[0].Users != 3 {
		t.Errorf("list = %s", res.Body)
	}
}

// TestSitePaginationProperty pages through random site sets with random
// page sizes and filters: every matching site comes exactly once, in order.
func TestSitePaginationProperty(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)
	rng := rand.New(rand.NewPCG(4, 2))
	words := []string{"north", "North", "south", "depot", "Depot", "hq", "lab", "a", "b", "z", "été", "Ω"}
	countries := []string{"FR", "DE", "US"}
	type entry struct{ id, name, country string }
	var all []entry
	seen := map[string]bool{}
	for len(all) < 45 {
		name := words[rng.IntN(len(words))]
		for range rng.IntN(3) {
			name += []string{" ", "-", "", "!"}[rng.IntN(4)] + words[rng.IntN(len(words))]
		}
		if seen[strings.ToLower(name)] {
			continue
		}
		seen[strings.ToLower(name)] = true
		c := countries[rng.IntN(len(countries))]
		s := createSite(t, env, p.MasterToken, name, c)
		all = append(all, entry{s.ID, name, c})
	}
	slices.SortFunc(all, func(a, b entry) int {
		if c := strings.Compare(strings.ToLower(a.name), strings.ToLower(b.name)); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	for _, f := range []struct{ q, country string }{{"", ""}, {"", "FR"}, {"north", ""}, {"EP", "DE"}, {"o", ""}, {"é", ""}, {"zzz", ""}} {
		var want []string
		for _, e := range all {
			if strings.Contains(strings.ToLower(e.name), strings.ToLower(f.q)) && (f.country == "" || e.country == f.country) {
				want = append(want, e.id)
			}
		}
		for range 4 {
			limit := 1 + rng.IntN(12)
			base := fmt.Sprintf("/v1/sites?limit=%d", limit)
			if f.q != "" {
				base += "&q=" + strings.ReplaceAll(f.q, "é", "%C3%A9")
			}
			if f.country != "" {
				base += "&country=" + f.country
			}
			var got []string
			target := base
			for pages := 0; ; pages++ {
				if pages > len(all)+2 {
					t.Fatalf("%s: no end", base)
				}
				res := env.Do(t, "GET", target, nil, auth...)
				if res.Status != 200 {
					t.Fatalf("%s: %d %s", target, res.Status, res.Body)
				}
				var l siteList
				res.Decode(t, &l)
				if len(l.Items) > limit {
					t.Fatalf("%s: %d items", target, len(l.Items))
				}
				for _, s := range l.Items {
					got = append(got, s.ID)
				}
				if l.NextCursor == nil {
					break
				}
				target = addCursor(base, *l.NextCursor)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: got %d sites %v\nwant %d %v", base, len(got), got, len(want), want)
			}
		}
	}
}
