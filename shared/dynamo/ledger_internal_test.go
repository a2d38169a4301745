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
