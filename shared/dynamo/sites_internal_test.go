package dynamo

import (
	"context"
	"testing"
	"time"

	"partnerportal/shared/portal"
)

// newSitesPartner stores an active partner and buys it pool credits through
// the one movement path.
func newSitesPartner(t *testing.T, s *Store, pool int64) portal.Partner {
	t.Helper()
	ctx := context.Background()
	now := s.Now()
	p := portal.Partner{ID: portal.NewID(now), Name: "P", Country: "FR", CreatedAt: now}
	inv := portal.Invitation{ID: portal.NewID(now), PartnerID: p.ID, Email: "m" + p.ID + "@p.example", Role: portal.RoleMaster, ExpiresAt: now.Add(time.Hour), TokenHash: "h" + p.ID}
	if err := s.CreatePartner(ctx, p, inv, nil); err != nil {
		t.Fatal(err)
	}
	if pool > 0 {
		e, err := portal.Movement{Type: portal.LedgerPurchase, Amount: pool, Actor: portal.PlatformActor, At: now}.Plan()
		if err != nil {
			t.Fatal(err)
		}
		lw := s.movementWrites(p.ID, 0, nil, e, nil)
		if err := s.transact(ctx, lw.partner, lw.entry); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetPartner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func newSite(s *Store, name string, credits int64) portal.Site {
	now := s.Now()
	return portal.Site{ID: portal.NewID(now), Name: name, Country: "FR", TimeZone: "Europe/Paris", Credits: credits,
		Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
}

func ledgerOf(t *testing.T, s *Store, pid string) []portal.LedgerEntry {
	t.Helper()
	items, _, err := s.runQuery(context.Background(), query{pk: ledgerPK(pid)}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []portal.LedgerEntry
	for _, it := range items {
		var e portal.LedgerEntry
		if err := unmarshal(it, &e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// checkInvariant asserts purchases = pool + Σ site credits + Σ charges.
func checkInvariant(t *testing.T, s *Store, pid string) portal.Partner {
	t.Helper()
	ctx := context.Background()
	p, err := s.GetPartner(ctx, pid)
	if err != nil {
		t.Fatal(err)
	}
	page, err := s.ListSites(ctx, pid, SiteFilter{}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, site := range page.Items {
		sum += site.Credits
	}
	if p.Credits.Purchased != p.Credits.Available+sum+p.Credits.Charged || p.Credits.Allocated != sum {
		t.Fatalf("invariant broken: %+v, Σ site credits %d", p.Credits, sum)
	}
	if p.SiteCount != len(page.Items) {
		t.Fatalf("siteCount %d, %d sites", p.SiteCount, len(page.Items))
	}
	return p
}

func TestCreateSiteWithCreditsAndDeleteReturnsThem(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	p := newSitesPartner(t, s, 500)
	actor := portal.Actor{Type: portal.ActorAdmin, ID: "a", Email: "a@p.example"}

	site := newSite(s, "Lyon", 120)
	if err := s.CreateSite(ctx, p.ID, p.Credits.Available, site, actor, nil); err != nil {
		t.Fatal(err)
	}
	got := checkInvariant(t, s, p.ID)
	if got.Credits.Available != 380 || got.Credits.Allocated != 120 || got.SiteCount != 1 {
		t.Fatalf("after create: %+v", got)
	}
	entries := ledgerOf(t, s, p.ID)
	if len(entries) != 2 {
		t.Fatalf("ledger = %+v", entries)
	}
	alloc := entries[1]
	if alloc.Type != portal.LedgerAllocation || alloc.Amount != 120 || alloc.PoolDelta != -120 || alloc.SiteDelta != 120 ||
		alloc.PoolBalance != 380 || alloc.SiteBalance == nil || *alloc.SiteBalance != 120 || alloc.SiteID != site.ID || alloc.SiteName != "Lyon" || alloc.Actor != actor {
		t.Errorf("allocation entry = %+v", alloc)
	}

	// Too many credits: nothing is created, not even the name.
	big := newSite(s, "Big", 381)
	if err := s.CreateSite(ctx, p.ID, got.Credits.Available, big, actor, nil); !portal.IsCode(err, portal.CodeInsufficientCredits) {
		t.Fatalf("overdraw: %v", err)
	}
	// A stale pool is re-read: the plan is made again from the real balance.
	other := newSite(s, "Big", 80)
	if err := s.CreateSite(ctx, p.ID, 500, other, actor, nil); err != nil {
		t.Fatalf("stale pool: %v", err)
	}
	got = checkInvariant(t, s, p.ID)
	if got.Credits.Available != 300 || got.SiteCount != 2 {
		t.Fatalf("after second create: %+v", got)
	}

	// Deleting returns the credits as a site_deleted entry; history stays.
	stored, err := s.GetSite(ctx, p.ID, site.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSite(ctx, p.ID, stored, 0 /* stale: re-read */, actor); err != nil {
		t.Fatal(err)
	}
	got = checkInvariant(t, s, p.ID)
	if got.Credits.Available != 420 || got.Credits.Allocated != 80 || got.SiteCount != 1 {
		t.Fatalf("after delete: %+v", got)
	}
	entries = ledgerOf(t, s, p.ID)
	last := entries[len(entries)-1]
	if len(entries) != 4 || last.Type != portal.LedgerSiteDeleted || last.Amount != 120 || last.PoolDelta != 120 || last.SiteDelta != -120 ||
		last.PoolBalance != 420 || *last.SiteBalance != 0 || last.SiteID != site.ID || last.SiteName != "Lyon" {
		t.Errorf("site_deleted entry = %+v (all: %+v)", last, entries)
	}

	// A site without credits leaves no ledger entry when deleted.
	empty := newSite(s, "Empty", 0)
	if err := s.CreateSite(ctx, p.ID, got.Credits.Available, empty, actor, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSite(ctx, p.ID, empty, got.Credits.Available, actor); err != nil {
		t.Fatal(err)
	}
	if n := len(ledgerOf(t, s, p.ID)); n != 4 {
		t.Errorf("ledger has %d entries after deleting an empty site, want 4", n)
	}
	checkInvariant(t, s, p.ID)
}

func TestUsageKeepsPartnerTotals(t *testing.T) {
	s := newTestStore(t)
	s.rates = portal.Rates{PerDeviceMonth: 3, PerUserMonth: 1}
	ctx := context.Background()
	p := newSitesPartner(t, s, 100)
	actor := portal.Actor{Type: portal.ActorAdmin, ID: "a"}
	a, b := newSite(s, "A", 100), newSite(s, "B", 0)
	for _, site := range []portal.Site{a, b} {
		pp, _ := s.GetPartner(ctx, p.ID)
		if err := s.CreateSite(ctx, p.ID, pp.Credits.Available, site, actor, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.SetUsage(ctx, p.ID, a.ID, 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if got.MonthlyCost != 35 || got.MonthsRemaining == nil || *got.MonthsRemaining != 2 || got.Version != 2 {
		t.Errorf("site a = %+v", got)
	}
	if _, err := s.SetUsage(ctx, p.ID, b.ID, 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetUsage(ctx, p.ID, a.ID, 2, 10); err != nil {
		t.Fatal(err)
	}
	pp, _ := s.GetPartner(ctx, p.ID)
	if pp.TotalUsers != 3 || pp.TotalDevices != 12 || pp.Credits.MonthlyCost != 39 {
		t.Errorf("partner totals = users %d devices %d cost %d", pp.TotalUsers, pp.TotalDevices, pp.Credits.MonthlyCost)
	}
	bb, _ := s.GetSite(ctx, p.ID, b.ID)
	if err := s.DeleteSite(ctx, p.ID, bb, pp.Credits.Available, actor); err != nil {
		t.Fatal(err)
	}
	pp, _ = s.GetPartner(ctx, p.ID)
	if pp.TotalUsers != 2 || pp.TotalDevices != 10 {
		t.Errorf("after delete: users %d devices %d", pp.TotalUsers, pp.TotalDevices)
	}
	if _, err := s.SetUsage(ctx, p.ID, b.ID, 1, 1); !portal.IsCode(err, portal.CodeNotFound) {
		t.Errorf("usage of a deleted site: %v", err)
	}
	if _, err := s.SetUsage(ctx, portal.NewID(s.Now()), a.ID, 1, 1); !portal.IsCode(err, portal.CodeNotFound) {
		t.Errorf("usage under another partner id: %v", err)
	}
}
