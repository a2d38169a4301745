package billing_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// TestBillingScale bills many sites of ONE partner — the case where every
// charge meets the same partner item — on the embedded engine. By default
// it bills 300 sites and holds the run to its transaction count; set
// PORTAL_BILLING_SITES to measure more:
//
//	PORTAL_BILLING_SITES=10000 go test -run BillingScale -v -timeout 60m ./shared/billing/
//
// The sites are bulk-loaded (BatchWriteItem) with 3 devices each, and
// their credits allocated through the ledger in batches (SeedAllocations),
// so the books balance from the start: 10 credits each, 1 for every tenth
// site, which cannot pay and is suspended. The test reports the run's wall
// time, round trips, transactions and items written, then runs again
// (which must charge nothing), and asserts counts only.
func TestBillingScale(t *testing.T) {
	n := 300
	if v := os.Getenv("PORTAL_BILLING_SITES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("PORTAL_BILLING_SITES=%q is not a positive number", v)
		}
	}
	env := portaltest.New(t)
	ctx := context.Background()
	job := newJob(env)
	job.Concurrency = 8 // the configuration's default

	seedStart := time.Now()
	p := env.NewPartner(t, "Big")
	buy(t, env, p.ID, int64(n)*10)
	sites := make([]portal.Site, n)
	allocs := make([]dynamo.Allocation, n)
	unpaid := 0
	now := env.Clock.Now()
	for j := range sites {
		sites[j] = portal.Site{ID: portal.NewID(now), Name: fmt.Sprintf("Site %05d", j), Country: "FR", TimeZone: "Europe/Paris",
			Devices: 3, Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
		allocs[j] = dynamo.Allocation{SiteID: sites[j].ID, Amount: 10}
		if j%10 == 9 {
			allocs[j].Amount, unpaid = 1, unpaid+1
		}
	}
	if err := env.Store.BulkLoadSites(ctx, p.ID, sites); err != nil {
		t.Fatal(err)
	}
	env.Counter.Reset()
	if err := env.Store.SeedAllocations(ctx, p.ID, allocs, portal.SystemActor); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d sites of one partner in %s (allocations: %+v)", n, time.Since(seedStart).Round(time.Millisecond), env.Counter.Usage())
	books(t, env, p.ID)

	env.Clock.Set(time.Date(2026, 12, 1, 0, 15, 0, 0, time.UTC))
	env.Counter.Reset()
	start := time.Now()
	sum := run(t, job, "2026-12-01T00:15:00Z")
	took := time.Since(start)
	u, ops := env.Counter.Usage(), env.Counter.Ops()
	t.Logf("billing run over %d sites: %s; %d round trips %v; %d items read, %d written; summary %+v",
		n, took.Round(time.Millisecond), u.RoundTrips, ops, u.ItemsRead, u.ItemsWritten, sum)
	if sum.Sites != n || sum.Charged != n-unpaid || sum.Credits != int64(n-unpaid)*3 || sum.Unpaid != unpaid || sum.Suspended != unpaid || sum.Failed != 0 || sum.AlertsSent != 1 {
		t.Errorf("summary = %+v, want %d sites, %d charged, %d unpaid, one alert", sum, n, n-unpaid, unpaid)
	}
	// Charges and suspensions (at most 4 items a site) go 24 sites to a
	// transaction; the suspension alerts add one transaction of claims and
	// one of settlements (one per suspended site in each).
	batches := (n + dynamo.ChargeBatchSites - 1) / dynamo.ChargeBatchSites
	if got := ops["TransactWriteItems"]; got != int64(batches+2) {
		t.Errorf("%d transactions, want %d batches of %d sites + 2 for the alert", got, batches, dynamo.ChargeBatchSites)
	}
	if got := ops["BatchGetItem"]; got != 0 {
		t.Errorf("%d re-reads in an uncontended run", got)
	}
	// Items written: marker, site, entry, audit per charge; site and audit
	// per suspension (the marker is only checked); the partner once a
	// batch; each suspended site's alert claim and settlement.
	if want := int64(4*(n-unpaid) + 2*unpaid + batches + 2*unpaid); u.ItemsWritten != want {
		t.Errorf("%d items written, want %d", u.ItemsWritten, want)
	}
	books(t, env, p.ID)

	env.Counter.Reset()
	start = time.Now()
	sum = run(t, job, "2026-12-02T00:15:00Z")
	u, ops = env.Counter.Usage(), env.Counter.Ops()
	t.Logf("re-run over %d sites: %s; %d round trips %v; %d items read, %d written", n, time.Since(start).Round(time.Millisecond), u.RoundTrips, ops, u.ItemsRead, u.ItemsWritten)
	if sum.Charged != 0 || sum.AlreadyCharged != n-unpaid || sum.Unpaid != unpaid || sum.Suspended != 0 || sum.AlertsSent != 0 || sum.Failed != 0 {
		t.Errorf("re-run summary = %+v", sum)
	}
	// The month's alert claims are read, and none is attempted again.
	if got := ops["TransactWriteItems"]; got != 0 || u.ItemsWritten != 0 {
		t.Errorf("re-run: %d transactions, %d items written; want none", got, u.ItemsWritten)
	}

	p2, err := env.Store.GetPartner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Credits.Charged != int64(n-unpaid)*3 {
		t.Errorf("partner charged %d, want %d", p2.Credits.Charged, (n-unpaid)*3)
	}
	count := map[portal.LedgerType]int{}
	cursor := ""
	for {
		page, err := env.Store.ListLedger(ctx, p.ID, dynamo.LedgerFilter{}, 1000, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			count[e.Type]++
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if count[portal.LedgerCharge] != n-unpaid || count[portal.LedgerAllocation] != n || count[portal.LedgerPurchase] != 1 {
		t.Errorf("ledger entries %v", count)
	}
}

// TestBillingSitesReadOnce pages a partner's sites the way the billing job
// does and checks that every site is read exactly once.
func TestBillingSitesReadOnce(t *testing.T) {
	env := portaltest.New(t)
	ctx := context.Background()
	p := env.NewPartner(t, "Acme")
	now := env.Clock.Now()
	sites := make([]portal.Site, 250)
	for j := range sites {
		sites[j] = portal.Site{ID: portal.NewID(now), Name: fmt.Sprintf("Site %03d", j), Country: "FR", TimeZone: "Europe/Paris",
			Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	if err := env.Store.BulkLoadSites(ctx, p.ID, sites); err != nil {
		t.Fatal(err)
	}
	for _, pageSize := range []int{100, 125, 500} {
		env.Counter.Reset()
		seen, cursor := map[string]int{}, ""
		for {
			page, err := env.Store.BillingSites(ctx, p.ID, pageSize, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Items {
				seen[s.ID]++
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		u := env.Counter.Usage()
		if len(seen) != len(sites) || u.ItemsRead != int64(len(sites)) {
			t.Errorf("pages of %d: %d distinct sites, %d items read in %d queries; want %d each", pageSize, len(seen), u.ItemsRead, u.RoundTrips, len(sites))
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("pages of %d: site %s listed %d times", pageSize, id, k)
			}
		}
	}
}
