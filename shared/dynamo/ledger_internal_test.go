package dynamo

import (
	"context"
	"testing"
	"time"

	"partnerportal/shared/portal"
)

func newTestStore(t *testing.T) *Store {
	t.Helper()
	db, table := testTable(t)
	return New(db, table, portal.Rates{PerDeviceMonth: 1})
}

// TestMovementWrites checks the engine applies the movement's SET+ADD
// update and that a stale pool condition cancels the whole transaction.
func TestMovementWrites(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := portal.Partner{ID: portal.NewID(now), Name: "P", Country: "FR", CreatedAt: now}
	inv := portal.Invitation{ID: portal.NewID(now), PartnerID: p.ID, Email: "m@p.example", Role: portal.RoleMaster, ExpiresAt: now.Add(time.Hour), TokenHash: "h"}
	if err := s.CreatePartner(ctx, p, inv, nil); err != nil {
		t.Fatal(err)
	}
	e, err := portal.Movement{Type: portal.LedgerPurchase, Amount: 70, Pool: 0, Actor: portal.PlatformActor, At: now}.Plan()
	if err != nil {
		t.Fatal(err)
	}
	lw := s.movementWrites(p.ID, 0, nil, e, nil)
	if err := s.transact(ctx, lw.partner, lw.entry); err != nil {
		t.Fatal(err)
	}
	// The same plan again starts from a stale pool of 0: nothing applies.
	e2, _ := portal.Movement{Type: portal.LedgerPurchase, Amount: 5, Pool: 0, Actor: portal.PlatformActor, At: now.Add(time.Second)}.Plan()
	lw = s.movementWrites(p.ID, 0, nil, e2, nil)
	if err := s.transact(ctx, lw.partner, lw.entry); err != errMoved {
		t.Fatalf("stale pool: err = %v, want errMoved", err)
	}
	got, err := s.GetPartner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Credits.Available != 70 || got.Credits.Purchased != 70 || got.Credits.Allocated != 0 {
		t.Fatalf("partner credits = %+v", got.Credits)
	}
}

// TestMovementsWritesBatch writes a chain of movements in one transaction
// with one partner update, and refuses movements that do not chain.
func TestMovementsWritesBatch(t *testing.T) {
	s := newTestStore(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	p := portal.Partner{ID: portal.NewID(now), Name: "P", Country: "FR", CreatedAt: now}
	inv := portal.Invitation{ID: portal.NewID(now), PartnerID: p.ID, Email: "m@p.example", Role: portal.RoleMaster, ExpiresAt: now.Add(time.Hour), TokenHash: "h"}
	if err := s.CreatePartner(ctx, p, inv, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveCredits(ctx, p.ID, Move{Type: portal.LedgerPurchase, Amount: 100, Reference: "r", Actor: portal.PlatformActor}); err != nil {
		t.Fatal(err)
	}
	var ms []portal.Movement
	for i := range 3 {
		site, err := s.SeedSite(ctx, p.ID, SiteSeed{Name: string(rune('A' + i)), Country: "FR", TimeZone: "Europe/Paris"})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, portal.Movement{Type: portal.LedgerAllocation, Amount: int64(10 * (i + 1)), Site: &site, Actor: portal.SystemActor})
	}
	es, err := planChain(100, now, ms)
	if err != nil {
		t.Fatal(err)
	}
	if es[0].PoolBalance != 90 || es[1].PoolBalance != 70 || es[2].PoolBalance != 40 || !es[1].At.After(es[0].At) {
		t.Fatalf("chain: %+v", es)
	}
	moves := make([]plannedMove, len(es))
	for i, e := range es {
		moves[i] = plannedMove{entry: e, before: ms[i].Site}
	}
	// Out of order, the entries' balances are not the running pool.
	bad := s.movementsWrites(p.ID, 100, []plannedMove{moves[1], moves[0]}, nil)
	if bad.partner.err == nil {
		t.Error("a batch that does not chain was accepted")
	}
	bw := s.movementsWrites(p.ID, 100, moves, nil)
	writes := []write{bw.partner}
	for i := range moves {
		writes = append(writes, bw.sites[i], bw.entries[i])
	}
	if err := s.transact(ctx, writes...); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPartner(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Credits; c.Available != 40 || c.Allocated != 60 || c.Purchased != 100 {
		t.Errorf("partner credits = %+v", c)
	}
	// The same batch again starts from a stale pool: nothing applies.
	if err := s.transact(ctx, writes...); err != errMoved {
		t.Errorf("stale batch: err = %v, want errMoved", err)
	}
}
