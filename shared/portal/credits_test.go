package portal

import (
	"testing"
	"time"
)

func TestMovementPlan(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	site := &Site{ID: "s", Name: "S", Credits: 3_000_000}
	cases := []struct {
		m          Movement
		code       Code
		pool, site int64
	}{
		{Movement{Type: LedgerPurchase, Amount: 10, Pool: 5}, "", 15, -1},
		{Movement{Type: LedgerAllocation, Amount: 5, Pool: 5, Site: site}, "", 0, 3_000_005},
		{Movement{Type: LedgerAllocation, Amount: 6, Pool: 5, Site: site}, CodeInsufficientCredits, 0, 0},
		{Movement{Type: LedgerReclaim, Amount: 1_000_000, Pool: 0, Site: site}, "", 1_000_000, 2_000_000},
		{Movement{Type: LedgerReclaim, Amount: 1_000_001, Pool: 0, Site: site}, CodeValidation, 0, 0},
		{Movement{Type: LedgerAllocation, Amount: 0, Pool: 5, Site: site}, CodeValidation, 0, 0},
		// The billing job charges whatever the usage costs, even above the
		// per-operation cap, and a deleted site returns all it holds.
		{Movement{Type: LedgerCharge, Amount: 2_000_000, Pool: 7, Site: site}, "", 7, 1_000_000},
		{Movement{Type: LedgerSiteDeleted, Amount: 3_000_000, Pool: 7, Site: site}, "", 3_000_007, 0},
		{Movement{Type: LedgerCharge, Amount: 3_000_001, Pool: 7, Site: site}, CodeInsufficientCredits, 0, 0},
		{Movement{Type: LedgerPurchase, Amount: 10, Pool: 5, Site: site}, CodeInternal, 0, 0},
	}
	for i, tc := range cases {
		tc.m.At = at
		e, err := tc.m.Plan()
		if tc.code != "" {
			if ErrorCode(err) != tc.code {
				t.Errorf("%d: err = %v, want %s", i, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if e.PoolBalance != tc.pool || (tc.site >= 0) != (e.SiteBalance != nil) || e.SiteBalance != nil && *e.SiteBalance != tc.site {
			t.Errorf("%d: pool %d site %v, want %d %d", i, e.PoolBalance, e.SiteBalance, tc.pool, tc.site)
		}
		if e.PoolDelta+e.SiteDelta != map[LedgerType]int64{LedgerPurchase: tc.m.Amount, LedgerCharge: -tc.m.Amount}[tc.m.Type] {
			t.Errorf("%d: deltas %d %d do not conserve credits for %s", i, e.PoolDelta, e.SiteDelta, tc.m.Type)
		}
	}
}
