package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"partnerportal/shared/portal"
)

// ledgerWrites are the writes of one planned credit movement: every
// movement of every type goes through here, so the conservation invariant
// purchases = pool + Σ site credits + Σ charges holds by construction.
//
//   - partner: sets the pool to the planned balance on condition that it still
//     holds the balance the plan started from (so the entry's balances are
//     exact and concurrent moves cannot overdraw), and adds the deltas to
//     the running totals;
//   - site: sets the site's credits likewise; callers that create or delete
//     the site in the same transaction use their own site write instead;
//   - entry: the immutable ledger entry, on the partner's time-ordered
//     ledger and on the site's (GSI1).
type ledgerWrites struct {
	partner, site, entry write
}

// errMoved reports that a balance changed between the read and the write;
// the caller re-reads and plans again.
var errMoved = portal.Errorf(portal.CodeConflict, "the balances changed concurrently; retry")

// partnerAdds adds more counters to the partner in the same update (e.g.
// SiteCount when the movement creates or deletes a site), since one
// transaction may write the partner item only once.
func (s *Store) movementWrites(pid string, pool int64, before *portal.Site, e portal.LedgerEntry, partnerAdds map[string]int64) ledgerWrites {
	adds := map[string]int64{"Allocated": e.SiteDelta}
	switch e.Type {
	case portal.LedgerPurchase:
		adds["Purchased"] = e.Amount
	case portal.LedgerCharge:
		adds["Charged"] = e.Amount
	}
	for k, v := range partnerAdds {
		adds[k] += v
	}
	values := map[string]any{":newPool": e.PoolBalance, ":now": e.At}
	names := make([]string, 0, len(adds))
	for k := range adds {
		names = append(names, k)
	}
	sort.Strings(names)
	clauses := make([]string, len(names))
	for i, k := range names {
		clauses[i] = "#" + k + " :add" + k
		values[":add"+k] = adds[k]
	}
	var lw ledgerWrites
	lw.partner = s.update(partnerKey(pid),
		expr{text: "SET #Available = :newPool, #UpdatedAt = :now ADD " + strings.Join(clauses, ", "), values: values},
		expr{text: "#Available = :oldPool", values: map[string]any{":oldPool": pool}}, errMoved)
	if before != nil {
		lw.site = s.siteMoveWrite(pid, before, e, nil)
	}
	extra := map[string]string{}
	if e.SiteID != "" {
		extra[attrGSI1PK] = siteLedgerPK(pid, e.SiteID)
		extra[attrGSI1SK] = ts(e.At) + "#" + e.ID
	}
	it, err := marshal(ledgerKey(pid, e.At, e.ID), e, extra)
	if err != nil {
		lw.entry = write{err: err}
	} else {
		lw.entry = s.put(it, expr{text: "attribute_not_exists(PK)"}, nil)
	}
	return lw
}

// siteMoveWrite sets the site's credits to the entry's balance on condition
// that they still equal the balance read. sets adds attributes to SET in the
// same update (the billing job reactivates a site as it charges it: one
// transaction may write the site item only once).
func (s *Store) siteMoveWrite(pid string, before *portal.Site, e portal.LedgerEntry, sets map[string]any) write {
	values := map[string]any{":newCredits": *e.SiteBalance, ":now": e.At, ":one": 1}
	text := "SET #Credits = :newCredits, #UpdatedAt = :now, #Version = #Version + :one"
	names := make([]string, 0, len(sets))
	for k := range sets {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		text += ", #" + k + " = :set" + k
		values[":set"+k] = sets[k]
	}
	return s.update(siteKey(pid, before.ID), expr{text: text, values: values},
		expr{text: "#Credits = :oldCredits", values: map[string]any{":oldCredits": before.Credits}}, errMoved)
}

// Bounded retries for credit movements under contention (SPEC §4).
const (
	moveAttempts  = 6
	moveBaseDelay = 5 * time.Millisecond
	moveMaxDelay  = 200 * time.Millisecond
)

// errBusy is what a caller sees when every attempt met a concurrent change:
// nothing was applied and retrying later (with the same Idempotency-Key) is
// safe.
var errBusy = &portal.Error{Code: portal.CodeUnavailable, Message: "the balances are busy with concurrent changes; nothing was applied, retry shortly", RetryAfter: 1}

// retryMoved runs attempt until it succeeds or fails for a reason other than
// a concurrent change (errMoved, ErrContention). Each attempt must re-read
// what it plans from. Waits grow exponentially with full jitter.
func (s *Store) retryMoved(ctx context.Context, attempt func(ctx context.Context) error) error {
	delay := moveBaseDelay
	for i := 0; ; i++ {
		err := attempt(ctx)
		if !errors.Is(err, errMoved) && !errors.Is(err, ErrContention) {
			return err
		}
		if i == moveAttempts-1 {
			return errBusy
		}
		wait := time.Duration(rand.Int64N(int64(delay) + 1))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, moveMaxDelay)
	}
}
