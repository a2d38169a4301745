package api_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

func buy(t *testing.T, env *portaltest.Env, pid string, amount int64, ref string) {
	t.Helper()
	res := env.Do(t, "POST", "/v1/platform/partners/"+pid+"/credits", map[string]any{"amount": amount, "reference": ref}, plat...)
	if res.Status != 201 {
		t.Fatalf("purchase: %d %s", res.Status, res.Body)
	}
}

func seedSite(t testing.TB, env *portaltest.Env, pid, name string, devices, credits int64) portal.Site {
	t.Helper()
	s, err := env.Store.SeedSite(context.Background(), pid, dynamo.SiteSeed{Name: name, Country: "FR", TimeZone: "Europe/Paris", Devices: devices, Credits: credits})
	if err != nil {
		t.Fatalf("seeding site %s: %v", name, err)
	}
	return s
}

type summary struct{ Available, Allocated, MonthlyCost, Purchased, Charged int64 }

func credits(t *testing.T, env *portaltest.Env, token string) summary {
	t.Helper()
	res := env.Do(t, "GET", "/v1/credits", nil, portaltest.Bearer(token)...)
	if res.Status != 200 {
		t.Fatalf("GET /v1/credits: %d %s", res.Status, res.Body)
	}
	var s summary
	res.Decode(t, &s)
	return s
}

func TestPurchase(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	path := "/v1/platform/partners/" + p.ID + "/credits"

	env.Counter.Reset()
	res := env.Do(t, "POST", path, map[string]any{"amount": 500, "reference": "INV-1"}, plat...)
	if res.Status != 201 {
		t.Fatalf("purchase: %d %s", res.Status, res.Body)
	}
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("purchase: %d round trips %v, want 2", n, env.Counter.Ops())
	}
	var e portal.LedgerEntry
	res.Decode(t, &e)
	if e.Type != portal.LedgerPurchase || e.Amount != 500 || e.PoolDelta != 500 || e.PoolBalance != 500 || e.SiteBalance != nil ||
		e.Reference != "INV-1" || e.Actor.Type != portal.ActorPlatform || !strings.Contains(res.Body, `"siteBalance":null`) {
		t.Errorf("entry = %s", res.Body)
	}

	// The same reference and amount again: the original entry, nothing bought.
	again := env.Do(t, "POST", path, map[string]any{"amount": 500, "reference": "INV-1"}, plat...)
	if again.Status != 201 || again.Body != res.Body || again.Headers["idempotent-replayed"] != "true" {
		t.Errorf("reference replay: %d %v %s", again.Status, again.Headers, again.Body)
	}
	// The same reference with another amount is another order: refused.
	clash := env.Do(t, "POST", path, map[string]any{"amount": 7, "reference": "INV-1"}, plat...)
	if clash.Status != 409 || clash.Code() != "already_exists" {
		t.Errorf("reference clash: %d %s", clash.Status, clash.Body)
	}
	if s := credits(t, env, p.MasterToken); s != (summary{Available: 500, Purchased: 500}) {
		t.Errorf("summary = %+v", s)
	}

	for _, tc := range []struct {
		body   any
		status int
		field  string
	}{
		{map[string]any{"amount": 0, "reference": "r"}, 422, "amount"},
		{map[string]any{"amount": 1_000_001, "reference": "r"}, 422, "amount"},
		{map[string]any{"amount": -5, "reference": "r"}, 422, "amount"},
		{map[string]any{"amount": 5}, 422, "reference"},
		{map[string]any{"amount": 5, "reference": strings.Repeat("x", 201)}, 422, "reference"},
		{map[string]any{"amount": 5, "reference": " padded"}, 422, "reference"},
		{map[string]any{"amount": 1.5, "reference": "r"}, 400, "amount"},
		{`{"amount":5,"reference":"r","extra":true}`, 400, "extra"},
	} {
		res := env.Do(t, "POST", path, tc.body, plat...)
		if res.Status != tc.status || !strings.Contains(res.Body, `"field":"`+tc.field+`"`) {
			t.Errorf("%v: %d %s", tc.body, res.Status, res.Body)
		}
	}
	if res := env.Do(t, "POST", "/v1/platform/partners/"+portal.NewID(time.Now())+"/credits", map[string]any{"amount": 5, "reference": "r"}, plat...); res.Status != 404 {
		t.Errorf("unknown partner: %d %s", res.Status, res.Body)
	}
	if res := env.Do(t, "POST", path, map[string]any{"amount": 5, "reference": "r"}); res.Status != 401 {
		t.Errorf("unsigned purchase: %d", res.Status)
	}
}

func TestPurchaseIdempotencyKey(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	q := env.NewPartner(t, "Other")
	key := []string{"idempotency-key", "order-77"}
	first := env.Do(t, "POST", "/v1/platform/partners/"+p.ID+"/credits", map[string]any{"amount": 40, "reference": "A"}, append(plat, key...)...)
	env.Counter.Reset()
	second := env.Do(t, "POST", "/v1/platform/partners/"+p.ID+"/credits", map[string]any{"amount": 40, "reference": "A"}, append(plat, key...)...)
	if first.Status != 201 || second.Body != first.Body || second.Headers["idempotent-replayed"] != "true" {
		t.Fatalf("replay: %d %s / %d %v %s", first.Status, first.Body, second.Status, second.Headers, second.Body)
	}
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("replay: %d round trips, want 1", n)
	}
	other := env.Do(t, "POST", "/v1/platform/partners/"+p.ID+"/credits", map[string]any{"amount": 41, "reference": "A"}, append(plat, key...)...)
	if other.Status != 422 || other.Code() != "idempotency_key_reused" {
		t.Errorf("other body: %d %s", other.Status, other.Body)
	}
	// Keys are scoped to the partner: the same key buys for another partner.
	if res := env.Do(t, "POST", "/v1/platform/partners/"+q.ID+"/credits", map[string]any{"amount": 40, "reference": "A"}, append(plat, key...)...); res.Status != 201 || res.Headers["idempotent-replayed"] != "" {
		t.Errorf("other partner: %d %v %s", res.Status, res.Headers, res.Body)
	}
	if s := credits(t, env, p.MasterToken); s.Purchased != 40 {
		t.Errorf("purchased = %d, want 40", s.Purchased)
	}
}

func TestAllocateAndReclaim(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	buy(t, env, p.ID, 1000, "INV-1")
	site := seedSite(t, env, p.ID, "Lyon HQ", 30, 0)
	op, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	obs, _ := env.NewAdmin(t, p, portal.RoleObserver)
	path := "/v1/sites/" + site.ID + "/credits"

	env.Counter.Reset()
	res := env.Do(t, "POST", path, map[string]any{"amount": 300, "note": "Q4 budget"}, portaltest.Bearer(op)...)
	if res.Status != 201 {
		t.Fatalf("allocate: %d %s", res.Status, res.Body)
	}
	if ops := env.Counter.Ops(); env.Counter.Total() != 2 || ops["BatchGetItem"] != 1 || ops["TransactWriteItems"] != 1 {
		t.Errorf("allocation round trips = %v, want 1 BatchGetItem + 1 TransactWriteItems", ops)
	}
	var out struct {
		Entry portal.LedgerEntry
		Site  portal.Site
		Pool  struct{ Available int64 }
	}
	res.Decode(t, &out)
	if e := out.Entry; e.Type != portal.LedgerAllocation || e.Amount != 300 || e.PoolDelta != -300 || e.SiteDelta != 300 ||
		e.PoolBalance != 700 || *e.SiteBalance != 300 || e.SiteID != site.ID || e.SiteName != "Lyon HQ" || e.Note != "Q4 budget" ||
		e.Actor.Type != portal.ActorAdmin || e.Actor.Email != opEmail {
		t.Errorf("entry = %+v", e)
	}
	if out.Site.Credits != 300 || out.Site.MonthlyCost != 30 || *out.Site.MonthsRemaining != 10 || out.Site.Version != site.Version+1 || out.Pool.Available != 700 {
		t.Errorf("site/pool = %+v / %d", out.Site, out.Pool.Available)
	}

	res = env.Do(t, "POST", path, map[string]any{"amount": -120}, portaltest.Bearer(op)...)
	if res.Status != 201 {
		t.Fatalf("reclaim: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &out)
	if e := out.Entry; e.Type != portal.LedgerReclaim || e.Amount != 120 || e.PoolDelta != 120 || e.SiteDelta != -120 || e.PoolBalance != 820 || *e.SiteBalance != 180 {
		t.Errorf("reclaim entry = %+v", e)
	}
	if s := credits(t, env, obs); s != (summary{Available: 820, Allocated: 180, MonthlyCost: 30, Purchased: 1000}) {
		t.Errorf("summary = %+v", s)
	}

	for _, tc := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"amount": -181}, 409, "insufficient_credits"},
		{map[string]any{"amount": 821}, 409, "insufficient_credits"},
		{map[string]any{"amount": 0}, 422, "validation_failed"},
		{map[string]any{}, 422, "validation_failed"},
		{map[string]any{"amount": 1_000_001}, 422, "validation_failed"},
		{map[string]any{"amount": 5, "note": strings.Repeat("n", 501)}, 422, "validation_failed"},
		{map[string]any{"amount": "5"}, 400, "malformed_request"},
	} {
		if res := env.Do(t, "POST", path, tc.body, portaltest.Bearer(op)...); res.Status != tc.status || res.Code() != tc.code {
			t.Errorf("%v: %d %s", tc.body, res.Status, res.Body)
		}
	}
	if res := env.Do(t, "POST", path, map[string]any{"amount": 5}, portaltest.Bearer(obs)...); res.Status != 403 {
		t.Errorf("observer: %d", res.Status)
	}
	if res := env.Do(t, "POST", "/v1/sites/"+portal.NewID(time.Now())+"/credits", map[string]any{"amount": 5}, portaltest.Bearer(op)...); res.Status != 404 {
		t.Errorf("unknown site: %d", res.Status)
	}
	// Another partner's site is not found, and nothing moves.
	q := env.NewPartner(t, "Rival")
	buy(t, env, q.ID, 100, "R-1")
	if res := env.Do(t, "POST", path, map[string]any{"amount": 5}, portaltest.Bearer(q.MasterToken)...); res.Status != 404 {
		t.Errorf("other partner's site: %d %s", res.Status, res.Body)
	}
	if s := credits(t, env, q.MasterToken); s.Available != 100 {
		t.Errorf("rival pool = %d", s.Available)
	}
	if s := credits(t, env, obs); s.Available != 820 || s.Allocated != 180 {
		t.Errorf("summary after refusals = %+v", s)
	}

	// GET /v1/credits is the authentication round trip alone.
	env.Counter.Reset()
	credits(t, env, obs)
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("GET /v1/credits: %d round trips, want 1", n)
	}
}

func TestMoveIdempotency(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	buy(t, env, p.ID, 1000, "INV-1")
	site := seedSite(t, env, p.ID, "Nantes", 1, 0)
	path := "/v1/sites/" + site.ID + "/credits"
	auth := portaltest.Bearer(p.MasterToken)
	key := append([]string{"idempotency-key", "k-1"}, auth...)

	first := env.Do(t, "POST", path, map[string]any{"amount": 100}, key...)
	env.Counter.Reset()
	second := env.Do(t, "POST", path, map[string]any{"amount": 100}, key...)
	if first.Status != 201 || second.Status != 201 || second.Body != first.Body || second.Headers["idempotent-replayed"] != "true" || first.Headers["idempotent-replayed"] != "" {
		t.Fatalf("sequential replay: %d %s / %d %v %s", first.Status, first.Body, second.Status, second.Headers, second.Body)
	}
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("replay: %d round trips, want 1 (authentication reads the record)", n)
	}
	if res := env.Do(t, "POST", path, map[string]any{"amount": 101}, key...); res.Status != 422 || res.Code() != "idempotency_key_reused" {
		t.Errorf("other body: %d %s", res.Status, res.Body)
	}
	if s := credits(t, env, p.MasterToken); s.Allocated != 100 {
		t.Fatalf("allocated = %d after a replay, want 100", s.Allocated)
	}

	// Concurrent twins: one applies, every response is the same.
	twinKey := append([]string{"idempotency-key", "twins"}, auth...)
	const twins = 12
	bodies := make([]string, twins)
	statuses := make([]int, twins)
	var wg sync.WaitGroup
	for i := range twins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res := env.Do(t, "POST", path, map[string]any{"amount": 7}, twinKey...)
				if res.Status == 503 || res.Code() == "conflict" {
					continue // SPEC: retrying with the same key is safe
				}
				statuses[i], bodies[i] = res.Status, res.Body
				return
			}
		}()
	}
	wg.Wait()
	for i := range twins {
		if statuses[i] != 201 || bodies[i] != bodies[0] {
			t.Errorf("twin %d: %d %s (first %s)", i, statuses[i], bodies[i], bodies[0])
		}
	}
	if s := credits(t, env, p.MasterToken); s.Allocated != 107 {
		t.Errorf("allocated = %d after %d twins, want 107", s.Allocated, twins)
	}

	// After 24 hours the key is free again and applies anew.
	env.Clock.Advance(24*time.Hour + time.Second)
	token, _ := env.NewAdmin(t, p, portal.RoleOperator) // the master's session expired
	res := env.Do(t, "POST", path, map[string]any{"amount": 100}, append([]string{"idempotency-key", "k-1"}, portaltest.Bearer(token)...)...)
	if res.Status != 201 || res.Headers["idempotent-replayed"] != "" {
		t.Errorf("expired key: %d %v %s", res.Status, res.Headers, res.Body)
	}
	if s := credits(t, env, token); s.Allocated != 207 {
		t.Errorf("allocated = %d after the expired key was reused, want 207", s.Allocated)
	}
}

// TestConcurrentAllocations races 150 allocations of 10 credits against a
// pool of 1000: exactly 100 succeed, the rest are insufficient_credits.
func TestConcurrentAllocations(t *testing.T) {
	portaltest.SkipOnExternal(t, "150 clients retrying against one pool make O(n²) transactions; "+
		"moto, served one request at a time because its transactions are not isolated, copies the whole table in each one "+
		"and takes minutes and gigabytes (moto 5.2.5); the embedded engine runs it")
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	buy(t, env, p.ID, 1000, "INV-1")
	sites := make([]portal.Site, 5)
	for i := range sites {
		sites[i] = seedSite(t, env, p.ID, fmt.Sprintf("Site %d", i), 1, 0)
	}
	const n = 150
	var mu sync.Mutex
	codes := map[string]int{}
	retries := 0
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := fmt.Sprintf("alloc-%d", i)
			for {
				res := env.Do(t, "POST", "/v1/sites/"+sites[i%len(sites)].ID+"/credits", map[string]any{"amount": 10},
					append([]string{"idempotency-key", key}, portaltest.Bearer(p.MasterToken)...)...)
				mu.Lock()
				if res.Status == 503 || res.Code() == "conflict" {
					retries++
					mu.Unlock()
					continue
				}
				code := res.Code()
				if res.Status == 201 {
					code = "created"
				}
				codes[code]++
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	if codes["created"] != 100 || codes["insufficient_credits"] != 50 || len(codes) != 2 {
		t.Errorf("outcomes = %v, want 100 created and 50 insufficient_credits", codes)
	}
	t.Logf("150 concurrent allocations: %v, %d client retries after 503/conflict", codes, retries)
	s := credits(t, env, p.MasterToken)
	if s.Available != 0 || s.Allocated != 1000 {
		t.Errorf("summary = %+v", s)
	}
	// Every success left one entry, each ending at a distinct pool balance:
	// no two allocations planned from the same balance.
	seen := map[int64]bool{}
	cursor := ""
	for {
		page := env.Do(t, "GET", "/v1/credits/history?type=allocation&limit=100&cursor="+cursor, nil, portaltest.Bearer(p.MasterToken)...)
		var list struct {
			Items      []portal.LedgerEntry
			NextCursor *string
		}
		page.Decode(t, &list)
		for _, e := range list.Items {
			if seen[e.PoolBalance] {
				t.Errorf("two entries end with pool balance %d", e.PoolBalance)
			}
			seen[e.PoolBalance] = true
		}
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	if len(seen) != 100 {
		t.Errorf("history has %d allocations, want 100", len(seen))
	}
}

func TestHistory(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	auth := portaltest.Bearer(p.MasterToken)
	env.Clock.Set(time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC))
	buy(t, env, p.ID, 1000, "=HYPERLINK(\"http://evil\")")
	a := seedSite(t, env, p.ID, "Alpha, \"Main\"", 1, 0)
	b := seedSite(t, env, p.ID, "@Beta", 1, 0)
	env.Clock.Set(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	move := func(site portal.Site, amount int64, note string) {
		t.Helper()
		env.Clock.Advance(time.Hour)
		res := env.Do(t, "POST", "/v1/sites/"+site.ID+"/credits", map[string]any{"amount": amount, "note": note}, auth...)
		if res.Status != 201 {
			t.Fatalf("move: %d %s", res.Status, res.Body)
		}
	}
	move(a, 100, "first\nline")
	move(b, 50, "-2+3")
	move(a, -30, "")
	move(b, 20, "ünïcödé")

	type list struct {
		Items      []portal.LedgerEntry
		NextCursor *string
	}
	get := func(q string) list {
		t.Helper()
		res := env.Do(t, "GET", "/v1/credits/history"+q, nil, auth...)
		if res.Status != 200 {
			t.Fatalf("history%s: %d %s", q, res.Status, res.Body)
		}
		var l list
		res.Decode(t, &l)
		return l
	}
	amounts := func(l list) (out []string) {
		for _, e := range l.Items {
			out = append(out, fmt.Sprintf("%s:%d", e.Type, e.Amount))
		}
		return out
	}
	check := func(q string, want ...string) {
		t.Helper()
		if got := strings.Join(amounts(get(q)), " "); got != strings.Join(want, " ") {
			t.Errorf("history%s = %s, want %s", q, got, strings.Join(want, " "))
		}
	}
	check("", "allocation:20", "reclaim:30", "allocation:50", "allocation:100", "purchase:1000")
	check("?from=2026-11-01", "allocation:20", "reclaim:30", "allocation:50", "allocation:100")
	check("?to=2026-11-01", "purchase:1000")
	// from inclusive, to exclusive: the entries are at 01:00, 02:00, 03:00, 04:00.
	check("?from=2026-11-01T02:00:00Z&to=2026-11-01T04:00:00Z", "reclaim:30", "allocation:50")
	check("?from=2026-11-01T03:00:00%2B01:00&to=2026-11-01T04:00:00.000000001Z", "allocation:20", "reclaim:30", "allocation:50")
	check("?siteId="+a.ID, "reclaim:30", "allocation:100")
	check("?siteId="+b.ID+"&from=2026-11-01T03:00:00Z", "allocation:20")
	check("?type=allocation", "allocation:20", "allocation:50", "allocation:100")
	check("?type=charge")
	check("?siteId=" + portal.NewID(time.Now()))

	// Pages of two: three pages, no overlap, the last without a cursor.
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		q := "?limit=2"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		l := get(q)
		all = append(all, amounts(l)...)
		if l.NextCursor == nil {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = *l.NextCursor
	}
	if len(all) != 5 {
		t.Errorf("paged history = %v", all)
	}

	for _, q := range []string{"?from=yesterday", "?to=2026-13-01", "?from=2026-11-02&to=2026-11-01", "?from=2026-11-01&to=2026-11-01",
		"?type=refund", "?siteId=nope", "?format=xml", "?limit=0"} {
		if res := env.Do(t, "GET", "/v1/credits/history"+q, nil, auth...); res.Status != 422 {
			t.Errorf("history%s: %d %s", q, res.Status, res.Body)
		}
	}
	if res := env.Do(t, "GET", "/v1/credits/history?cursor=AAAA.BBBB", nil, auth...); res.Status != 400 {
		t.Errorf("tampered cursor: %d", res.Status)
	}
	// A site-history cursor is no cursor for the partner-wide history.
	siteCursor := get("?limit=1&siteId=" + a.ID).NextCursor
	if res := env.Do(t, "GET", "/v1/credits/history?cursor="+*siteCursor, nil, auth...); res.Status != 400 {
		t.Errorf("site cursor on the partner history: %d", res.Status)
	}

	// CSV: every entry, header first, RFC 4180 quoting, formulas defused.
	res := env.Do(t, "GET", "/v1/credits/history?format=csv", nil, auth...)
	if res.Status != 200 || res.Headers["content-type"] != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(res.Headers["content-disposition"], `attachment; filename="credit-history-`) {
		t.Fatalf("csv: %d %v", res.Status, res.Headers)
	}
	if !strings.HasPrefix(res.Body, "\ufeffid,at,type,") || !strings.Contains(res.Body, "\r\n") {
		t.Errorf("csv starts %q", res.Body[:min(40, len(res.Body))])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.Body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v\n%s", err, res.Body)
	}
	if len(rows) != 6 {
		t.Fatalf("csv has %d rows, want header + 5", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	last := rows[5] // the purchase
	if got := last[col["reference"]]; got != `'=HYPERLINK("http://evil")` {
		t.Errorf("formula reference = %q", got)
	}
	if !strings.Contains(res.Body, `"'=HYPERLINK(""http://evil"")"`) {
		t.Errorf("quotes are not doubled: %s", res.Body)
	}
	reclaim := rows[2]
	if reclaim[col["type"]] != "reclaim" || reclaim[col["poolDelta"]] != "30" || reclaim[col["siteDelta"]] != "-30" || reclaim[col["siteName"]] != `Alpha, "Main"` {
		t.Errorf("reclaim row = %q", reclaim)
	}
	if r := rows[3]; r[col["siteName"]] != "'@Beta" || r[col["note"]] != "'-2+3" || r[col["amount"]] != "50" {
		t.Errorf("beta row = %q", r)
	}
	if r := rows[4]; r[col["note"]] != "first\nline" || r[col["siteBalance"]] != "100" {
		t.Errorf("multi-line note row = %q", r)
	}
	if r := rows[1]; r[col["note"]] != "ünïcödé" || r[col["actorEmail"]] != p.MasterEmail {
		t.Errorf("unicode row = %q", r)
	}
	if last[col["siteBalance"]] != "" || last[col["actorType"]] != "platform" {
		t.Errorf("purchase row = %q", last)
	}
	filtered := env.Do(t, "GET", "/v1/credits/history?format=csv&siteId="+b.ID, nil, auth...)
	if n := strings.Count(filtered.Body, "\r\n"); n != 3 {
		t.Errorf("site csv has %d lines, want 3:\n%s", n, filtered.Body)
	}
}

func TestAuditLog(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	env.Clock.Advance(time.Minute)
	buy(t, env, p.ID, 100, "INV-1")
	site := seedSite(t, env, p.ID, "Lyon", 1, 0)
	env.Clock.Advance(time.Minute)
	if res := env.Do(t, "POST", "/v1/sites/"+site.ID+"/credits", map[string]any{"amount": 25}, portaltest.Bearer(p.MasterToken)...); res.Status != 201 {
		t.Fatal(res.Body)
	}
	res := env.Do(t, "GET", "/v1/audit?limit=2", nil, portaltest.Bearer(p.MasterToken)...)
	var list struct {
		Items []struct {
			ID, Action, Target string
			At                 time.Time
			Actor              portal.Actor
			Details            map[string]any
		}
		NextCursor *string
	}
	res.Decode(t, &list)
	if res.Status != 200 || len(list.Items) != 2 || list.NextCursor == nil {
		t.Fatalf("audit: %d %s", res.Status, res.Body)
	}
	if a := list.Items[0]; a.Action != "credits.allocated" || a.Target != "site/"+site.ID || a.Actor.Email != p.MasterEmail || a.Details["amount"] != 25.0 {
		t.Errorf("newest audit entry = %+v", a)
	}
	if a := list.Items[1]; a.Action != "credits.purchased" || a.Actor.Type != portal.ActorPlatform || a.Details["reference"] != "INV-1" {
		t.Errorf("second audit entry = %+v", a)
	}
	from := list.Items[0].At.Format(time.RFC3339Nano)
	res = env.Do(t, "GET", "/v1/audit?from="+strings.ReplaceAll(from, "+", "%2B"), nil, portaltest.Bearer(p.MasterToken)...)
	res.Decode(t, &list)
	if len(list.Items) != 1 || list.NextCursor != nil {
		t.Errorf("audit from the allocation = %s", res.Body)
	}
	if res := env.Do(t, "GET", "/v1/audit?from=2026-12-01&to=2026-11-01", nil, portaltest.Bearer(p.MasterToken)...); res.Status != 422 {
		t.Errorf("bad range: %d", res.Status)
	}
	op, _ := env.NewAdmin(t, p, portal.RoleOperator)
	if res := env.Do(t, "GET", "/v1/audit", nil, portaltest.Bearer(op)...); res.Status != 403 {
		t.Errorf("operator audit: %d", res.Status)
	}
}

// TestIdempotencyKeyOnAnotherSite checks a key reused on another site's
// allocation is refused rather than replaying the first site's answer.
func TestIdempotencyKeyOnAnotherSite(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Reuse")
	env.Do(t, "POST", "/v1/platform/partners/"+p.ID+"/credits", map[string]any{"amount": 100, "reference": "po-1"}, "authorization", portaltest.PlatformAuth)
	auth := portaltest.Bearer(p.MasterToken)
	var ids []string
	for _, name := range []string{"Site A", "Site B"} {
		res := env.Do(t, "POST", "/v1/sites", map[string]any{"name": name, "country": "FR", "timeZone": "Europe/Paris"}, auth...)
		if res.Status != 201 {
			t.Fatalf("create %s: %d %s", name, res.Status, res.Body)
		}
		ids = append(ids, res.Map(t)["id"].(string))
	}
	key := append(auth, "idempotency-key", "k1")
	if res := env.Do(t, "POST", "/v1/sites/"+ids[0]+"/credits", map[string]any{"amount": 10}, key...); res.Status != 201 {
		t.Fatalf("site A: %d %s", res.Status, res.Body)
	}
	res := env.Do(t, "POST", "/v1/sites/"+ids[1]+"/credits", map[string]any{"amount": 10}, key...)
	if res.Status != 422 || res.Code() != "idempotency_key_reused" {
		t.Fatalf("site B with site A's key: %d %s", res.Status, res.Body)
	}
	if got := env.Do(t, "GET", "/v1/sites/"+ids[1], nil, auth...).Map(t)["credits"]; got != float64(0) {
		t.Errorf("site B credits = %v, want 0", got)
	}
}
