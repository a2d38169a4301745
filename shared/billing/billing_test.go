package billing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"partnerportal/shared/billing"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

var plat = []string{"authorization", portaltest.PlatformAuth}

func newJob(env *portaltest.Env) *billing.Job {
	return &billing.Job{Store: env.Store, Mail: env.Mail, PublicURL: portaltest.PublicURL,
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Concurrency: 4}
}

func event(at string) json.RawMessage {
	return json.RawMessage(`{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.scheduler","time":"` + at + `","resources":[],"detail":{}}`)
}

func run(t *testing.T, job *billing.Job, at string) billing.Summary {
	t.Helper()
	out, err := job.Run(context.Background(), event(at))
	if err != nil {
		t.Fatalf("billing run at %s: %v", at, err)
	}
	return out.(billing.Summary)
}

func buy(t *testing.T, env *portaltest.Env, pid string, amount int64) {
	t.Helper()
	res := env.Do(t, "POST", "/v1/platform/partners/"+pid+"/credits", map[string]any{"amount": amount, "reference": portal.NewID(time.Now())}, plat...)
	if res.Status != 201 {
		t.Fatalf("purchase: %d %s", res.Status, res.Body)
	}
}

func seed(t *testing.T, env *portaltest.Env, pid, name string, devices, credits int64) portal.Site {
	t.Helper()
	s, err := env.Store.SeedSite(context.Background(), pid, dynamo.SiteSeed{Name: name, Country: "FR", TimeZone: "Europe/Paris", Devices: devices, Credits: credits})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sites returns the partner's sites by name, read through the store.
func sites(t *testing.T, env *portaltest.Env, pid string) map[string]portal.Site {
	t.Helper()
	out := map[string]portal.Site{}
	cursor := ""
	for {
		page, err := env.Store.BillingSites(context.Background(), pid, 500, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			out[s.Name] = s
		}
		if cursor = page.Next; cursor == "" {
			return out
		}
	}
}

func ledger(t *testing.T, env *portaltest.Env, pid string, typ portal.LedgerType) []portal.LedgerEntry {
	t.Helper()
	var out []portal.LedgerEntry
	cursor := ""
	for {
		page, err := env.Store.ListLedger(context.Background(), pid, dynamo.LedgerFilter{Type: typ}, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		cursor = page.Next
	}
}

// books checks purchases = pool + Σ site credits + Σ charges.
func books(t *testing.T, env *portaltest.Env, pid string) {
	t.Helper()
	p, err := env.Store.GetPartner(context.Background(), pid)
	if err != nil {
		t.Fatal(err)
	}
	var siteSum int64
	for _, s := range sites(t, env, pid) {
		siteSum += s.Credits
	}
	c := p.Credits
	if c.Purchased != c.Available+siteSum+c.Charged || c.Allocated != siteSum {
		t.Errorf("books: purchased %d != available %d + sites %d + charged %d (allocated %d)", c.Purchased, c.Available, siteSum, c.Charged, c.Allocated)
	}
}

// alerts returns the billing mails sent so far (to one address, or all).
func alerts(env *portaltest.Env, to string) []mail.Message {
	var out []mail.Message
	for _, m := range env.Mail.All() {
		if (to == "" || m.To == to) && (strings.Contains(m.Subject, "suspended for lack") || strings.Contains(m.Subject, "low on credits")) {
			out = append(out, m)
		}
	}
	return out
}

func subjects(env *portaltest.Env, to string) []string {
	var out []string
	for _, m := range alerts(env, to) {
		out = append(out, m.Subject)
	}
	return out
}

func TestBillingMonth(t *testing.T) {
	env := portaltest.New(t)
	job := newJob(env)
	p := env.NewPartner(t, "Acme")
	_, adminEmail := env.NewAdmin(t, p, portal.RoleAdmin)
	_, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	buy(t, env, p.ID, 1000)
	seed(t, env, p.ID, "Ample", 10, 35) // 35 → 25: 2 months left
	seed(t, env, p.ID, "Thin", 10, 15)  // 15 → 5: 0 months left, low credit
	seed(t, env, p.ID, "Broke", 10, 5)  // cannot pay: suspended
	seed(t, env, p.ID, "Idle", 0, 0)    // costs nothing: no entry

	env.Clock.Set(time.Date(2026, 12, 1, 0, 15, 3, 0, time.UTC))
	env.Counter.Reset()
	sum := run(t, job, "2026-12-01T00:15:00Z")
	want := billing.Summary{Month: "2026-12", Partners: 1, Sites: 4, Charged: 2, Credits: 20, Suspended: 1, Unpaid: 1, AlertsSent: 4}
	if sum != want {
		t.Errorf("first run = %+v\nwant       %+v", sum, want)
	}
	t.Logf("first run of 4 sites: %d round trips %v", env.Counter.Total(), env.Counter.Ops())
	got := sites(t, env, p.ID)
	if got["Ample"].Credits != 25 || got["Thin"].Credits != 5 || got["Broke"].Credits != 5 || got["Idle"].Credits != 0 {
		t.Errorf("credits after the run: %+v", got)
	}
	if b := got["Broke"]; b.Status != portal.SiteSuspended || b.SuspendedReason != "insufficient_credits" {
		t.Errorf("Broke = %+v", b)
	}
	if got["Ample"].Status != portal.SiteActive || got["Idle"].Status != portal.SiteActive {
		t.Errorf("statuses: %+v", got)
	}
	charges := ledger(t, env, p.ID, portal.LedgerCharge)
	if len(charges) != 2 {
		t.Fatalf("%d charge entries, want 2", len(charges))
	}
	for _, e := range charges {
		if e.Amount != 10 || e.SiteDelta != -10 || e.PoolDelta != 0 || e.PoolBalance != 945 || e.Reference != "2026-12" || e.Actor.Type != portal.ActorSystem {
			t.Errorf("charge entry = %+v", e)
		}
	}
	// Admins and masters get one suspension and one low-credit mail each;
	// operators get none.
	for _, to := range []string{p.MasterEmail, adminEmail} {
		subj := subjects(env, to)
		if len(subj) != 2 || !strings.Contains(subj[0], "suspended") || !strings.Contains(subj[1], "low on credits") {
			t.Errorf("mails to %s: %q", to, subj)
		}
	}
	if m := alerts(env, p.MasterEmail); len(m) == 2 && (!strings.Contains(m[0].Text, "Broke") || strings.Contains(m[0].Text, "Thin") ||
		!strings.Contains(m[1].Text, "Thin") || strings.Contains(m[1].Text, "Ample")) {
		t.Errorf("mail texts:\n%s\n%s", m[0].Text, m[1].Text)
	}
	if n := len(alerts(env, opEmail)); n != 0 {
		t.Errorf("operator got %d mails", n)
	}
	books(t, env, p.ID)

	// The same month again (the daily schedule, or a retry): nothing is
	// charged twice and no alert is repeated.
	env.Clock.Advance(24 * time.Hour)
	sum = run(t, job, "2026-12-02T00:15:00Z")
	want = billing.Summary{Month: "2026-12", Partners: 1, Sites: 4, AlreadyCharged: 2, Unpaid: 1}
	if sum != want {
		t.Errorf("second run = %+v\nwant        %+v", sum, want)
	}
	if n := len(alerts(env, "")); n != 4 {
		t.Errorf("%d mails after the second run, want 4", n)
	}

	// Credits for the suspended site: the next run charges and reactivates it.
	op, _ := env.NewAdmin(t, p, portal.RoleOperator)
	res := env.Do(t, "POST", "/v1/sites/"+got["Broke"].ID+"/credits", map[string]any{"amount": 20}, portaltest.Bearer(op)...)
	if res.Status != 201 {
		t.Fatal(res.Body)
	}
	env.Clock.Advance(24 * time.Hour)
	sum = run(t, job, "2026-12-03T00:15:00Z")
	want = billing.Summary{Month: "2026-12", Partners: 1, Sites: 4, Charged: 1, Credits: 10, AlreadyCharged: 2, Reactivated: 1}
	if sum != want {
		t.Errorf("third run = %+v\nwant       %+v", sum, want)
	}
	if b := sites(t, env, p.ID)["Broke"]; b.Status != portal.SiteActive || b.SuspendedReason != "" || b.Credits != 15 {
		t.Errorf("Broke after reactivation = %+v", b)
	}
	books(t, env, p.ID)

	// A new month charges again; the thin site cannot pay and is suspended,
	// and that month's suspension mail goes out.
	env.Clock.Set(time.Date(2027, 1, 1, 0, 15, 0, 0, time.UTC))
	sum = run(t, job, "2027-01-01T00:15:00Z")
	want = billing.Summary{Month: "2027-01", Partners: 1, Sites: 4, Charged: 2, Credits: 20, Suspended: 1, Unpaid: 1, AlertsSent: 4}
	if sum != want {
		t.Errorf("january run = %+v\nwant         %+v", sum, want)
	}
	got = sites(t, env, p.ID)
	if got["Thin"].Status != portal.SiteSuspended || got["Ample"].Credits != 15 || got["Broke"].Credits != 5 {
		t.Errorf("after january: %+v", got)
	}
	if n := len(ledger(t, env, p.ID, portal.LedgerCharge)); n != 5 {
		t.Errorf("%d charge entries, want 5", n)
	}
	books(t, env, p.ID)

	// Usage gone to zero: the suspended site has nothing to pay and is
	// active again, with no ledger entry.
	if err := env.Store.SeedUsage(context.Background(), p.ID, got["Thin"].ID, 0, 0); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(24 * time.Hour)
	sum = run(t, job, "2027-01-02T00:15:00Z")
	want = billing.Summary{Month: "2027-01", Partners: 1, Sites: 4, AlreadyCharged: 2, Reactivated: 1}
	if sum != want {
		t.Errorf("after usage fell to zero = %+v\nwant                       %+v", sum, want)
	}
	if th := sites(t, env, p.ID)["Thin"]; th.Status != portal.SiteActive || th.Credits != 5 || th.MonthsRemaining != nil {
		t.Errorf("Thin = %+v", th)
	}
	if n := len(ledger(t, env, p.ID, portal.LedgerCharge)); n != 5 {
		t.Errorf("%d charge entries, want 5", n)
	}
	books(t, env, p.ID)
}

func TestBillingOverlappingRuns(t *testing.T) {
	env := portaltest.New(t)
	job := newJob(env)
	const partners, perPartner = 3, 12
	var ids []string
	for i := range partners {
		p := env.NewPartner(t, fmt.Sprintf("P%d", i))
		buy(t, env, p.ID, 10_000)
		for j := range perPartner {
			seed(t, env, p.ID, fmt.Sprintf("S%d", j), int64(1+j%3), int64(j%4)) // some cannot pay
		}
		ids = append(ids, p.ID)
	}
	env.Clock.Set(time.Date(2026, 12, 1, 0, 15, 0, 0, time.UTC))
	const runs = 4
	sums := make([]billing.Summary, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := job.Run(context.Background(), event("2026-12-01T00:15:00Z"))
			if err != nil {
				t.Error(err)
				return
			}
			sums[i] = out.(billing.Summary)
		}()
	}
	wg.Wait()
	charged := 0
	for _, s := range sums {
		charged += s.Charged
		if s.Failed != 0 {
			t.Errorf("run failed sites: %+v", s)
		}
	}
	// Expected per partner: devices 1,2,3 repeating vs credits 0..3 repeating.
	wantCharged := 0
	for j := range perPartner {
		if int64(j%4) >= int64(1+j%3) {
			wantCharged++
		}
	}
	for _, pid := range ids {
		if n := len(ledger(t, env, pid, portal.LedgerCharge)); n != wantCharged {
			t.Errorf("partner %s: %d charge entries, want %d", pid, n, wantCharged)
		}
		books(t, env, pid)
	}
	if charged != partners*wantCharged {
		t.Errorf("runs charged %d in all, want %d: %+v", charged, partners*wantCharged, sums)
	}
	// One suspension mail per partner (to its one master), whoever sent
	// it; each low site in exactly one low-credit mail (overlapping runs
	// may split a partner's low sites over several mails).
	suspensions, lowSites := map[string]int{}, map[string]int{}
	for _, m := range alerts(env, "") {
		partner, _, _ := strings.Cut(m.Subject, ":")
		if strings.Contains(m.Subject, "suspended") {
			suspensions[partner]++
			continue
		}
		for _, line := range strings.Split(m.Text, "\n") {
			if name, _, ok := strings.Cut(line, ": "); ok && strings.HasPrefix(name, "S") {
				lowSites[partner+"/"+name]++
			}
		}
	}
	if len(suspensions) != partners {
		t.Errorf("suspension mails per partner = %v", suspensions)
	}
	for k, n := range suspensions {
		if n != 1 {
			t.Errorf("%s: %d suspension mails", k, n)
		}
	}
	wantLow := 0
	for j := range perPartner {
		credits, cost := int64(j%4), int64(1+j%3)
		if credits >= cost && credits-cost < cost {
			wantLow++
		}
	}
	if len(lowSites) != partners*wantLow {
		t.Errorf("%d sites in low-credit mails, want %d: %v", len(lowSites), partners*wantLow, lowSites)
	}
	for k, n := range lowSites {
		if n != 1 {
			t.Errorf("%s in %d low-credit mails", k, n)
		}
	}
}

func TestBillingAlertRetry(t *testing.T) {
	env := portaltest.New(t)
	job := newJob(env)
	p := env.NewPartner(t, "Acme")
	buy(t, env, p.ID, 100)
	seed(t, env, p.ID, "Low", 10, 12)
	env.Mail.Fail(true)
	defer env.Mail.Fail(false)
	sum := run(t, job, "2026-11-20T00:15:00Z")
	if sum.Charged != 1 || sum.AlertsSent != 0 {
		t.Errorf("run with failing mail = %+v", sum)
	}
	env.Mail.Fail(false)
	sum = run(t, job, "2026-11-21T00:15:00Z")
	if sum.AlreadyCharged != 1 || sum.AlertsSent != 1 {
		t.Errorf("run after mail recovered = %+v", sum)
	}
	sum = run(t, job, "2026-11-22T00:15:00Z")
	if sum.AlertsSent != 0 || len(alerts(env, "")) != 1 {
		t.Errorf("third run = %+v, %d mails", sum, len(alerts(env, "")))
	}
}

func TestBillingSkipsInactivePartners(t *testing.T) {
	env := portaltest.New(t)
	job := newJob(env)
	p := env.NewPartner(t, "Acme")
	buy(t, env, p.ID, 100)
	seed(t, env, p.ID, "Site", 10, 50)
	if res := env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "suspended"}, plat...); res.Status != 200 {
		t.Fatal(res.Body)
	}
	if sum := run(t, job, "2026-12-01T00:15:00Z"); sum.Partners != 0 || sum.Charged != 0 {
		t.Errorf("suspended partner billed: %+v", sum)
	}
	if res := env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "active"}, plat...); res.Status != 200 {
		t.Fatal(res.Body)
	}
	if sum := run(t, job, "2026-12-01T00:15:00Z"); sum.Partners != 1 || sum.Charged != 1 {
		t.Errorf("restored partner: %+v", sum)
	}
}

func TestMonthOf(t *testing.T) {
	for _, tc := range []struct{ event, month string }{
		{`{"time":"2026-12-01T00:15:00Z"}`, "2026-12"},
		{`{"time":"2026-12-31T23:59:59-02:00"}`, "2027-01"},
		{`{"time":"2027-01-01T00:30:00+01:00"}`, "2026-12"},
	} {
		if got, err := billing.MonthOf(json.RawMessage(tc.event)); err != nil || got != tc.month {
			t.Errorf("%s: %q %v, want %s", tc.event, got, err, tc.month)
		}
	}
	env := portaltest.New(t)
	for _, ev := range []string{`{}`, `{"time":""}`, `{"time":"yesterday"}`, `{"time":1}`, `[]`, `not json`} {
		if _, err := newJob(env).Run(context.Background(), json.RawMessage(ev)); err == nil {
			t.Errorf("event %s: no error", ev)
		}
	}
}

// TestBillingSuspensionAlertPerSite checks every site suspended in a month
// gets its email that month, even when another site's suspension was
// already mailed earlier in the month, and none is mailed twice.
func TestBillingSuspensionAlertPerSite(t *testing.T) {
	env := portaltest.New(t)
	job := newJob(env)
	p := env.NewPartner(t, "Acme")
	seed(t, env, p.ID, "Broke A", 5, 0)
	run(t, job, "2026-12-01T00:15:00Z")
	seed(t, env, p.ID, "Broke B", 5, 0)
	sum := run(t, job, "2026-12-11T00:15:00Z")
	if sum.Suspended != 1 || sum.AlertsSent != 1 {
		t.Errorf("second run = %+v, want B suspended and mailed", sum)
	}
	run(t, job, "2026-12-12T00:15:00Z")
	got := alerts(env, p.MasterEmail)
	if len(got) != 2 || !strings.Contains(got[0].Text, "Broke A") || strings.Contains(got[1].Text, "Broke A") || !strings.Contains(got[1].Text, "Broke B") {
		t.Fatalf("suspension mails = %d: %v", len(got), subjects(env, p.MasterEmail))
	}
}
