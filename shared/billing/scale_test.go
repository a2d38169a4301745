package billing_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portaltest"
)

// TestBillingScale measures a billing run over many sites on the embedded
// engine. It is opt-in because seeding takes minutes:
//
//	PORTAL_BILLING_SITES=10000 go test -run BillingScale -v ./shared/billing/
//
// Sites are spread 100 per partner; one in ten cannot pay. It reports the
// run's duration and round trips, and asserts only counts.
func TestBillingScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("PORTAL_BILLING_SITES"))
	if n <= 0 {
		t.Skip("opt-in: set PORTAL_BILLING_SITES (e.g. 10000) to measure a billing run over that many sites")
	}
	const perPartner = 100
	env := portaltest.New(t)
	ctx := context.Background()
	job := newJob(env)
	job.Concurrency = 8 // the configuration's default

	seedStart := time.Now()
	partners, unpaid := (n+perPartner-1)/perPartner, 0
	for i := range partners {
		p := env.NewPartner(t, fmt.Sprintf("Partner %d", i))
		buy(t, env, p.ID, perPartner*10)
		for j := 0; j < perPartner && i*perPartner+j < n; j++ {
			credits := int64(10)
			if j%10 == 9 {
				credits, unpaid = 1, unpaid+1
			}
			if _, err := env.Store.SeedSite(ctx, p.ID, dynamo.SiteSeed{Name: fmt.Sprintf("Site %d", j), Country: "FR", TimeZone: "Europe/Paris", Devices: 3, Credits: credits}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("seeded %d sites of %d partners in %s", n, partners, time.Since(seedStart).Round(time.Millisecond))

	env.Clock.Set(time.Date(2026, 12, 1, 0, 15, 0, 0, time.UTC))
	env.Counter.Reset()
	start := time.Now()
	sum := run(t, job, "2026-12-01T00:15:00Z")
	took := time.Since(start)
	t.Logf("billing run over %d sites: %s, %d round trips %v, summary %+v", n, took.Round(time.Millisecond), env.Counter.Total(), env.Counter.Ops(), sum)
	if sum.Sites != n || sum.Charged != n-unpaid || sum.Unpaid != unpaid || sum.Suspended != unpaid || sum.Failed != 0 {
		t.Errorf("summary = %+v, want %d sites, %d charged, %d unpaid", sum, n, n-unpaid, unpaid)
	}

	env.Counter.Reset()
	start = time.Now()
	sum = run(t, job, "2026-12-02T00:15:00Z")
	t.Logf("re-run over %d charged sites: %s, %d round trips %v", n, time.Since(start).Round(time.Millisecond), env.Counter.Total(), env.Counter.Ops())
	if sum.Charged != 0 || sum.AlreadyCharged != n-unpaid || sum.Suspended != 0 {
		t.Errorf("re-run summary = %+v", sum)
	}
}
