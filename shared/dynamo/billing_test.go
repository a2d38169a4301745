package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// billingFixture is a partner with n sites of 2 devices and 20 credits,
// and the sites and pool as the billing job would have listed them.
func billingFixture(t *testing.T, n int) (*portaltest.Env, portal.Partner, []portal.Site) {
	t.Helper()
	env := portaltest.New(t)
	ctx := context.Background()
	p := env.NewPartner(t, "Acme")
	if _, err := env.Store.MoveCredits(ctx, p.ID, dynamo.Move{Type: portal.LedgerPurchase, Amount: 10_000, Reference: "opening", Actor: portal.PlatformActor}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := env.Store.SeedSite(ctx, p.ID, dynamo.SiteSeed{Name: fmt.Sprintf("Site %02d", i), Country: "FR", TimeZone: "Europe/Paris", Devices: 2, Credits: 20}); err != nil {
			t.Fatal(err)
		}
	}
	var sites []portal.Site
	cursor := ""
	for {
		page, err := env.Store.BillingSites(ctx, p.ID, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		sites = append(sites, page.Items...)
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	fresh, err := env.Store.GetPartner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return env, fresh, sites
}

// chargesOf returns each site's charge entries for month, and checks the
// books: purchases = pool + Σ sites + Σ charges, and every charge entry's
// poolBalance is the pool (charges do not move it).
func chargesOf(t *testing.T, env *portaltest.Env, pid, month string) map[string][]portal.LedgerEntry {
	t.Helper()
	ctx := context.Background()
	p, err := env.Store.GetPartner(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]portal.LedgerEntry{}
	cursor := ""
	for {
		page, err := env.Store.ListLedger(ctx, pid, dynamo.LedgerFilter{Type: portal.LedgerCharge}, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Items {
			if e.Reference == month {
				out[e.SiteID] = append(out[e.SiteID], e)
			}
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	var siteSum int64
	cursor = ""
	for {
		page, err := env.Store.BillingSites(ctx, pid, 100, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Items {
			siteSum += s.Credits
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	c := p.Credits
	if c.Purchased != c.Available+siteSum+c.Charged || c.Allocated != siteSum {
		t.Errorf("books: purchased %d != pool %d + sites %d + charged %d (allocated %d)", c.Purchased, c.Available, siteSum, c.Charged, c.Allocated)
	}
	return out
}

// TestChargeBatchAfterConcurrentChanges bills a batch from a stale listing
// after something changed one of its sites: the batch's transaction is
// cancelled, the batch is re-read in one BatchGetItem, and the others are
// charged exactly once in one more transaction.
func TestChargeBatchAfterConcurrentChanges(t *testing.T) {
	const month = "2026-12"
	for _, tc := range []struct {
		name string
		// meanwhile changes site 2 after the listing.
		meanwhile func(t *testing.T, env *portaltest.Env, pid string, site portal.Site)
		want      dynamo.ChargeOutcome
		credits   int64 // site 2's credits after the batch
	}{
		{"charged by another run", func(t *testing.T, env *portaltest.Env, pid string, site portal.Site) {
			if res, err := env.Store.ChargeSite(context.Background(), pid, month, site, -1); err != nil || res.Outcome != dynamo.Charged {
				t.Fatalf("the other run's charge: %+v %v", res, err)
			}
		}, dynamo.AlreadyCharged, 18},
		{"credits and pool moved", func(t *testing.T, env *portaltest.Env, pid string, site portal.Site) {
			if _, err := env.Store.MoveCredits(context.Background(), pid, dynamo.Move{Type: portal.LedgerAllocation, Amount: 5, SiteID: site.ID, Actor: portal.SystemActor}); err != nil {
				t.Fatal(err)
			}
		}, dynamo.Charged, 23},
		{"deleted", func(t *testing.T, env *portaltest.Env, pid string, site portal.Site) {
			p, err := env.Store.GetPartner(context.Background(), pid)
			if err != nil {
				t.Fatal(err)
			}
			if err := env.Store.DeleteSite(context.Background(), pid, site, p.Credits.Available, portal.SystemActor); err != nil {
				t.Fatal(err)
			}
		}, dynamo.Gone, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, p, sites := billingFixture(t, 5)
			tc.meanwhile(t, env, p.ID, sites[2])
			env.Counter.Reset()
			results, pool := env.Store.ChargeSites(context.Background(), p.ID, month, sites, p.Credits.Available)
			ops := env.Counter.Ops()
			for i, r := range results {
				want := dynamo.Charged
				if i == 2 {
					want = tc.want
				}
				if r.Err != nil || r.Outcome != want {
					t.Errorf("site %d: %s %v, want %s", i, r.Outcome, r.Err, want)
				}
			}
			if ops["TransactWriteItems"] != 2 || ops["BatchGetItem"] != 1 {
				t.Errorf("round trips %v, want one cancelled and one committed transaction and one re-read", ops)
			}
			fresh, err := env.Store.GetPartner(context.Background(), p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if pool != fresh.Credits.Available {
				t.Errorf("pool %d, partner has %d", pool, fresh.Credits.Available)
			}
			charges := chargesOf(t, env, p.ID, month)
			for i, s := range sites {
				n := len(charges[s.ID])
				if i == 2 && tc.want == dynamo.Gone {
					if n != 0 {
						t.Errorf("deleted site charged %d times", n)
					}
					continue
				}
				if n != 1 {
					t.Errorf("site %d charged %d times", i, n)
					continue
				}
				e := charges[s.ID][0]
				if e.Amount != 2 || e.PoolBalance != fresh.Credits.Available {
					t.Errorf("site %d: entry %+v, pool %d", i, e, fresh.Credits.Available)
				}
				if want := int64(18); i == 2 && *e.SiteBalance != tc.credits || i != 2 && *e.SiteBalance != want {
					t.Errorf("site %d: balance after the charge %d", i, *e.SiteBalance)
				}
			}
			// A second pass finds everything done and writes nothing.
			env.Counter.Reset()
			results, _ = env.Store.ChargeSites(context.Background(), p.ID, month, sites, -1)
			for i, r := range results {
				if r.Outcome != dynamo.AlreadyCharged && !(i == 2 && r.Outcome == dynamo.Gone) {
					t.Errorf("second pass, site %d: %s %v", i, r.Outcome, r.Err)
				}
			}
			if n := env.Counter.Ops()["TransactWriteItems"]; n != 0 {
				t.Errorf("second pass ran %d transactions", n)
			}
		})
	}
}

// TestChargeBatchesOverlap races batches of overlapping site sets of one
// partner (as overlapping billing runs do): every site is charged exactly
// once, whichever batch gets it.
func TestChargeBatchesOverlap(t *testing.T) {
	const month, n, runners = "2026-12", 60, 4
	env, p, sites := billingFixture(t, n)
	var mu sync.Mutex
	charged := map[string]int{}
	var wg sync.WaitGroup
	for r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each runner starts at another offset and wraps around.
			order := append(append([]portal.Site{}, sites[r*n/runners:]...), sites[:r*n/runners]...)
			results, _ := env.Store.ChargeSites(context.Background(), p.ID, month, order, p.Credits.Available)
			mu.Lock()
			defer mu.Unlock()
			for i, res := range results {
				switch {
				case res.Err != nil:
					t.Errorf("runner %d, site %s: %v", r, order[i].Name, res.Err)
				case res.Outcome == dynamo.Charged:
					charged[order[i].ID]++
				case res.Outcome != dynamo.AlreadyCharged:
					t.Errorf("runner %d, site %s: %s", r, order[i].Name, res.Outcome)
				}
			}
		}()
	}
	wg.Wait()
	entries := chargesOf(t, env, p.ID, month)
	for _, s := range sites {
		if charged[s.ID] != 1 || len(entries[s.ID]) != 1 {
			t.Errorf("site %s: reported charged %d times, %d entries", s.Name, charged[s.ID], len(entries[s.ID]))
		}
	}
}
