package api_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
	"partnerportal/shared/pricing"
	"partnerportal/shared/samtemplate"
)

// request is one call of a route, and the status it must answer.
type request struct {
	method, target string
	body           any
	headers        []string
	want           int
}

// scenario is one route exercised by BenchmarkRoutes, over a populated
// world. next prepares the i-th request: whatever state that request needs
// of its own (a site to delete, an invitation to accept) is written there,
// outside the measurement, which covers the request alone.
type scenario struct {
	route string
	next  func(tb testing.TB, env *portaltest.Env, w *world, i int) request
}

// world is what every scenario starts from: a realistic active partner
// (credits bought, benchSites sites across countries with usage, credits and notes,
// a team of administrators, pending invitations, a site administrator),
// two other partners sharing the table, and one still pending.
type world struct {
	p                      portaltest.Partner
	master, admin          []string // Authorization header pairs
	operator, observer     []string
	operatorEmail          string
	resetEmail             string // an observer whose password the reset scenarios change
	operatorID             string
	sites                  []string
	site, note, invitation string
	invitationToken        string
	pending                string // a pending partner's id
}

func get(tb testing.TB, env *portaltest.Env, target string, v any, headers ...string) {
	tb.Helper()
	res := env.Do(tb, "GET", target, nil, headers...)
	if res.Status != 200 {
		tb.Fatalf("GET %s: %d %s", target, res.Status, res.Body)
	}
	res.Decode(tb, v)
}

func must(tb testing.TB, env *portaltest.Env, r request) *portaltest.Response {
	tb.Helper()
	res := env.Do(tb, r.method, r.target, r.body, r.headers...)
	if res.Status != r.want {
		tb.Fatalf("%s %s: %d %s, want %d", r.method, r.target, res.Status, res.Body, r.want)
	}
	return res
}

// idOf returns the "id" of a JSON object answer.
func idOf(tb testing.TB, res *portaltest.Response) string {
	tb.Helper()
	var v struct{ ID string }
	res.Decode(tb, &v)
	if v.ID == "" {
		tb.Fatalf("no id in %s", res.Body)
	}
	return v.ID
}

// benchSites is how many sites the benchmark's partner has.
const benchSites = 30

// populate builds the world, with the given number of sites for the
// partner.
func populate(tb testing.TB, env *portaltest.Env, sites int) *world {
	tb.Helper()
	ctx := context.Background()
	for _, name := range []string{"Neighbour One", "Neighbour Two"} {
		other := env.NewPartner(tb, name)
		must(tb, env, request{"POST", "/v1/platform/partners/" + other.ID + "/credits", map[string]any{"amount": 5000, "reference": "PO-1"}, plat, 201})
		if err := env.Service.SeedDemoSites(ctx, other.ID, sites/6+1); err != nil {
			tb.Fatal(err)
		}
	}
	w := &world{p: env.NewPartner(tb, "Bench Security")}
	w.master = portaltest.Bearer(w.p.MasterToken)
	must(tb, env, request{"POST", "/v1/platform/partners/" + w.p.ID + "/credits", map[string]any{"amount": 100_000, "reference": "PO-1"}, plat, 201})
	if err := env.Service.SeedDemoSites(ctx, w.p.ID, sites); err != nil {
		tb.Fatal(err)
	}
	tok, _ := env.NewAdmin(tb, w.p, portal.RoleAdmin)
	w.admin = portaltest.Bearer(tok)
	tok, w.operatorEmail = env.NewAdmin(tb, w.p, portal.RoleOperator)
	w.operator = portaltest.Bearer(tok)
	var me struct{ Admin struct{ ID string } }
	get(tb, env, "/v1/me", &me, w.operator...)
	w.operatorID = me.Admin.ID
	tok, _ = env.NewAdmin(tb, w.p, portal.RoleObserver)
	w.observer = portaltest.Bearer(tok)
	_, w.resetEmail = env.NewAdmin(tb, w.p, portal.RoleObserver)

	var list struct{ Items []struct{ ID string } }
	get(tb, env, "/v1/sites?limit=100", &list, w.master...)
	for _, s := range list.Items {
		w.sites = append(w.sites, s.ID)
	}
	w.site = w.sites[0]
	for i := range 5 {
		res := must(tb, env, request{"POST", "/v1/sites/" + w.site + "/notes", map[string]any{"text": fmt.Sprintf("Visit report %d: all readers online.", i)}, w.operator, 201})
		w.note = idOf(tb, res)
	}
	for i := range 3 {
		must(tb, env, request{"POST", "/v1/sites/" + w.site + "/administrators", map[string]any{"email": fmt.Sprintf("facilities%d@customer.example", i)}, w.operator, 201})
	}
	for i := range 3 {
		res := must(tb, env, request{"POST", "/v1/admins/invitations", map[string]any{"email": fmt.Sprintf("invitee%d@bench.example", i), "role": "observer"}, w.master, 201})
		w.invitation = idOf(tb, res)
		w.invitationToken = env.Mail.LinkToken(tb, fmt.Sprintf("invitee%d@bench.example", i))
	}
	for i := range min(6, len(w.sites)-1) {
		must(tb, env, request{"POST", "/v1/sites/" + w.sites[i+1] + "/credits", map[string]any{"amount": 10 + i}, w.operator, 201})
	}
	res := must(tb, env, request{"POST", "/v1/platform/partners", map[string]any{"name": "Pending Partner", "country": "DE", "masterEmail": "boss@pending.example"}, plat, 201})
	var created struct{ Partner struct{ ID string } }
	res.Decode(tb, &created)
	w.pending = created.Partner.ID
	return w
}

// fixed makes a scenario whose every request is the same.
func fixed(method, target string, body any, who func(*world) []string, want int) func(testing.TB, *portaltest.Env, *world, int) request {
	return func(_ testing.TB, _ *portaltest.Env, w *world, _ int) request {
		t := strings.NewReplacer("{partnerId}", w.p.ID, "{siteId}", w.site, "{token}", w.invitationToken, "{invitationId}", w.invitation).Replace(target)
		var h []string
		if who != nil {
			h = who(w)
		}
		return request{method, t, body, h, want}
	}
}

func master(w *world) []string   { return w.master }
func operator(w *world) []string { return w.operator }
func observer(w *world) []string { return w.observer }
func platform(*world) []string   { return plat }

var scenarios = []scenario{
	// Platform (IAM).
	{"POST /v1/platform/partners", func(_ testing.TB, _ *portaltest.Env, _ *world, i int) request {
		return request{"POST", "/v1/platform/partners", map[string]any{"name": fmt.Sprintf("Bench %d", i), "country": "FR", "masterEmail": fmt.Sprintf("m%d@bench.example", i)}, plat, 201}
	}},
	{"GET /v1/platform/partners", fixed("GET", "/v1/platform/partners", nil, platform, 200)},
	{"GET /v1/platform/partners/{partnerId}", fixed("GET", "/v1/platform/partners/{partnerId}", nil, platform, 200)},
	{"PATCH /v1/platform/partners/{partnerId}", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		status := []string{"suspended", "active"}[i%2]
		return request{"PATCH", "/v1/platform/partners/" + w.p.ID, map[string]any{"status": status}, plat, 200}
	}},
	{"POST /v1/platform/partners/{partnerId}/master-invitation", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/platform/partners/" + w.pending + "/master-invitation", map[string]any{"email": fmt.Sprintf("boss%d@pending.example", i)}, plat, 201}
	}},
	{"POST /v1/platform/partners/{partnerId}/credits", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/platform/partners/" + w.p.ID + "/credits", map[string]any{"amount": 1000, "reference": fmt.Sprintf("PO-bench-%d", i)},
			append([]string{"idempotency-key", fmt.Sprintf("po-%d", i)}, plat...), 201}
	}},
	{"PUT /v1/platform/partners/{partnerId}/sites/{siteId}/usage", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PUT", "/v1/platform/partners/" + w.p.ID + "/sites/" + w.site + "/usage", map[string]any{"users": 5 + i%3, "devices": 40 + i}, plat, 200}
	}},

	// Public.
	{"POST /v1/auth/login", func(_ testing.TB, _ *portaltest.Env, w *world, _ int) request {
		return request{"POST", "/v1/auth/login", map[string]any{"email": w.operatorEmail, "password": portaltest.Password}, nil, 200}
	}},
	{"POST /v1/auth/logout", func(tb testing.TB, env *portaltest.Env, w *world, _ int) request {
		res := must(tb, env, request{"POST", "/v1/auth/login", map[string]any{"email": w.operatorEmail, "password": portaltest.Password}, nil, 200})
		var s struct{ Token string }
		res.Decode(tb, &s)
		return request{"POST", "/v1/auth/logout", nil, portaltest.Bearer(s.Token), 204}
	}},
	{"POST /v1/auth/password-reset", func(_ testing.TB, env *portaltest.Env, w *world, _ int) request {
		env.Clock.Advance(dynamo.PasswordResetInterval) // past the per-account mail throttle
		return request{"POST", "/v1/auth/password-reset", map[string]any{"email": w.resetEmail}, nil, 202}
	}},
	{"POST /v1/auth/password-reset/confirm", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		env.Clock.Advance(dynamo.PasswordResetInterval)
		must(tb, env, request{"POST", "/v1/auth/password-reset", map[string]any{"email": w.resetEmail}, nil, 202})
		token := env.Mail.LinkToken(tb, w.resetEmail)
		return request{"POST", "/v1/auth/password-reset/confirm", map[string]any{"token": token, "password": fmt.Sprintf("Bench reset passphrase %d!", i)}, nil, 204}
	}},
	{"GET /v1/invitations/{token}", fixed("GET", "/v1/invitations/{token}", nil, nil, 200)},
	{"POST /v1/invitations/{token}/accept", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		email := fmt.Sprintf("joiner%d@bench.example", i)
		must(tb, env, request{"POST", "/v1/admins/invitations", map[string]any{"email": email, "role": "operator"}, w.master, 201})
		return request{"POST", "/v1/invitations/" + env.Mail.LinkToken(tb, email) + "/accept", map[string]any{"name": "New Operator", "password": "Bench joiner passphrase!"}, nil, 201}
	}},

	// Accounts.
	{"GET /v1/me", fixed("GET", "/v1/me", nil, operator, 200)},
	{"PATCH /v1/me", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PATCH", "/v1/me", map[string]any{"name": fmt.Sprintf("Operator %d", i)}, w.operator, 200}
	}},
	{"GET /v1/partner", fixed("GET", "/v1/partner", nil, observer, 200)},
	{"PATCH /v1/partner", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 1 + i%3}, w.admin, 200}
	}},
	{"GET /v1/admins", fixed("GET", "/v1/admins", nil, master, 200)},
	{"PATCH /v1/admins/{adminId}", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PATCH", "/v1/admins/" + w.operatorID, map[string]any{"role": []string{"observer", "operator"}[i%2]}, w.master, 200}
	}},
	{"DELETE /v1/admins/{adminId}", func(tb testing.TB, env *portaltest.Env, w *world, _ int) request {
		tok, _ := env.NewAdmin(tb, w.p, portal.RoleObserver)
		var me struct{ Admin struct{ ID string } }
		get(tb, env, "/v1/me", &me, portaltest.Bearer(tok)...)
		return request{"DELETE", "/v1/admins/" + me.Admin.ID, nil, w.master, 204}
	}},
	{"GET /v1/admins/invitations", fixed("GET", "/v1/admins/invitations", nil, master, 200)},
	{"POST /v1/admins/invitations", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/admins/invitations", map[string]any{"email": fmt.Sprintf("new%d@bench.example", i), "role": "observer"}, w.master, 201}
	}},
	{"DELETE /v1/admins/invitations/{invitationId}", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		res := must(tb, env, request{"POST", "/v1/admins/invitations", map[string]any{"email": fmt.Sprintf("revoked%d@bench.example", i), "role": "observer"}, w.master, 201})
		return request{"DELETE", "/v1/admins/invitations/" + idOf(tb, res), nil, w.master, 204}
	}},
	{"POST /v1/admins/invitations/{invitationId}/resend", fixed("POST", "/v1/admins/invitations/{invitationId}/resend", nil, master, 200)},
	{"GET /v1/audit", fixed("GET", "/v1/audit", nil, master, 200)},

	// Sites.
	{"GET /v1/sites", fixed("GET", "/v1/sites", nil, observer, 200)},
	{"POST /v1/sites", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/sites", map[string]any{"name": fmt.Sprintf("Bench Site %d", i), "country": "FR", "timeZone": "Europe/Paris", "credits": 120}, w.operator, 201}
	}},
	{"GET /v1/sites/{siteId}", fixed("GET", "/v1/sites/{siteId}", nil, observer, 200)},
	{"PATCH /v1/sites/{siteId}", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PATCH", "/v1/sites/" + w.site, map[string]any{"name": fmt.Sprintf("Lyon Head Office %d", i)}, w.operator, 200}
	}},
	{"DELETE /v1/sites/{siteId}", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		res := must(tb, env, request{"POST", "/v1/sites", map[string]any{"name": fmt.Sprintf("Closing Site %d", i), "country": "DE", "timeZone": "Europe/Berlin", "credits": 50}, w.operator, 201})
		return request{"DELETE", "/v1/sites/" + idOf(tb, res), nil, w.admin, 204}
	}},
	{"GET /v1/sites/{siteId}/notes", fixed("GET", "/v1/sites/{siteId}/notes", nil, observer, 200)},
	{"POST /v1/sites/{siteId}/notes", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/sites/" + w.site + "/notes", map[string]any{"text": fmt.Sprintf("Checked door %d.", i)}, w.operator, 201}
	}},
	{"PATCH /v1/sites/{siteId}/notes/{noteId}", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"PATCH", "/v1/sites/" + w.site + "/notes/" + w.note, map[string]any{"text": fmt.Sprintf("Visit report, revision %d.", i)}, w.operator, 200}
	}},
	{"DELETE /v1/sites/{siteId}/notes/{noteId}", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		res := must(tb, env, request{"POST", "/v1/sites/" + w.site + "/notes", map[string]any{"text": fmt.Sprintf("Temporary %d", i)}, w.operator, 201})
		return request{"DELETE", "/v1/sites/" + w.site + "/notes/" + idOf(tb, res), nil, w.operator, 204}
	}},
	{"GET /v1/sites/{siteId}/administrators", fixed("GET", "/v1/sites/{siteId}/administrators", nil, observer, 200)},
	{"POST /v1/sites/{siteId}/administrators", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		return request{"POST", "/v1/sites/" + w.site + "/administrators", map[string]any{"email": fmt.Sprintf("guard%d@customer.example", i)}, w.operator, 201}
	}},
	{"DELETE /v1/sites/{siteId}/administrators/{email}", func(tb testing.TB, env *portaltest.Env, w *world, i int) request {
		email := fmt.Sprintf("leaver%d@customer.example", i)
		must(tb, env, request{"POST", "/v1/sites/" + w.site + "/administrators", map[string]any{"email": email}, w.operator, 201})
		return request{"DELETE", "/v1/sites/" + w.site + "/administrators/" + url.PathEscape(email), nil, w.operator, 204}
	}},

	// Credits.
	{"POST /v1/sites/{siteId}/credits", func(_ testing.TB, _ *portaltest.Env, w *world, i int) request {
		amount := []int{25, -25}[i%2]
		return request{"POST", "/v1/sites/" + w.site + "/credits", map[string]any{"amount": amount, "note": "rebalancing"},
			append([]string{"idempotency-key", fmt.Sprintf("move-%d", i)}, w.operator...), 201}
	}},
	{"GET /v1/credits", fixed("GET", "/v1/credits", nil, observer, 200)},
	{"GET /v1/credits/history", fixed("GET", "/v1/credits/history", nil, observer, 200)},
}

// measure runs scenario sc's first n requests over a populated world and
// returns what they consumed in total.
func measure(tb testing.TB, sc scenario, sites int, loop func() bool, pause, resume func()) (dynamo.Usage, int) {
	env := portaltest.New(tb)
	w := populate(tb, env, sites)
	var total dynamo.Usage
	n := 0
	for loop() {
		pause()
		r := sc.next(tb, env, w, n)
		if got := env.Event(tb, r.method, r.target, r.body, r.headers...).RouteKey; got != sc.route {
			tb.Fatalf("scenario %q calls %s %s, which is route %q", sc.route, r.method, r.target, got)
		}
		before := env.Counter.Usage()
		resume()
		res := env.Do(tb, r.method, r.target, r.body, r.headers...)
		pause()
		after := env.Counter.Usage()
		if res.Status != r.want {
			tb.Fatalf("%s: %d %s, want %d", sc.route, res.Status, res.Body, r.want)
		}
		total.RoundTrips += after.RoundTrips - before.RoundTrips
		total.ItemsRead += after.ItemsRead - before.ItemsRead
		total.ItemsWritten += after.ItemsWritten - before.ItemsWritten
		total.ReadUnits += after.ReadUnits - before.ReadUnits
		total.WriteUnits += after.WriteUnits - before.WriteUnits
		resume()
		n++
	}
	return total, n
}

// BenchmarkRoutes reports, per route: DynamoDB round trips, items read and
// written, read and write request units, and the AWS list-price cost of a
// million such requests (API Gateway + Lambda at 256 MB with a modelled
// duration + DynamoDB on-demand). Run it with `make bench`; ns/op is the
// embedded engine's time and says nothing about AWS.
func BenchmarkRoutes(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.route, func(b *testing.B) {
			u, n := measure(b, sc, benchSites, b.Loop, b.StopTimer, b.StartTimer)
			per := func(v float64) float64 { return v / float64(n) }
			rt := per(float64(u.RoundTrips))
			b.ReportMetric(rt, "roundtrips/op")
			b.ReportMetric(per(float64(u.ItemsRead)), "itemsRead/op")
			b.ReportMetric(per(float64(u.ItemsWritten)), "itemsWritten/op")
			b.ReportMetric(per(u.ReadUnits), "RRU/op")
			b.ReportMetric(per(u.WriteUnits), "WRU/op")
			cost := pricing.PerMillion(pricing.Request{ReadUnits: per(u.ReadUnits), WriteUnits: per(u.WriteUnits), LambdaMillis: pricing.EstimatedMillis(rt), MemoryMB: 256})
			b.ReportMetric(cost.Total, "USD/1M-requests")
		})
	}
}

// TestBenchCoversEveryRoute fails when a template.yaml route has no
// benchmark scenario, or a scenario names no template route.
func TestBenchCoversEveryRoute(t *testing.T) {
	tpl, err := samtemplate.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var inTemplate, inBench []string
	for _, r := range tpl.Routes() {
		inTemplate = append(inTemplate, r.Route.Key())
	}
	for _, sc := range scenarios {
		if slices.Contains(inBench, sc.route) {
			t.Errorf("two scenarios for %s", sc.route)
		}
		inBench = append(inBench, sc.route)
	}
	for _, k := range inTemplate {
		if !slices.Contains(inBench, k) {
			t.Errorf("template route %s has no scenario in BenchmarkRoutes", k)
		}
	}
	for _, k := range inBench {
		if !slices.Contains(inTemplate, k) {
			t.Errorf("scenario %s is not a template route", k)
		}
	}
}

// TestBenchScenarios runs every scenario twice over a smaller world, so
// that a scenario broken by a change fails `go test`, not only `make
// bench`: every request must reach its route and answer as expected. (The
// round-trip budget has its own tests next to each route's.)
func TestBenchScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the benchmark scenarios")
	}
	for _, sc := range scenarios {
		t.Run(sc.route, func(t *testing.T) {
			t.Parallel()
			k := 0
			if _, n := measure(t, sc, 3, func() bool { k++; return k <= 2 }, func() {}, func() {}); n != 2 {
				t.Fatalf("%d requests", n)
			}
		})
	}
}
