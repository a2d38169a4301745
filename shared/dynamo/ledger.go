package dynamo

import (
	"context"
	"errors"
	"fmt"
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

// movementWrites returns the writes of one movement planned from pool
// (and from before, the site's state, when the movement has a site the
// caller does not write itself). partnerAdds adds more counters to the
// partner in the same update (e.g. SiteCount when the movement creates or
// deletes a site), since one transaction may write the partner item only
// once. It is movementsWrites for a batch of one.
func (s *Store) movementWrites(pid string, pool int64, before *portal.Site, e portal.LedgerEntry, partnerAdds map[string]int64) ledgerWrites {
	bw := s.movementsWrites(pid, pool, []plannedMove{{entry: e, before: before}}, partnerAdds)
	return ledgerWrites{partner: bw.partner, site: bw.sites[0], entry: bw.entries[0]}
}

// plannedMove is one movement of a batch: its planned entry, the site
// state it was planned from (nil when the caller writes the site itself,
// because it creates or deletes it), and attributes to SET on the site in
// the same update (one transaction may write an item only once).
type plannedMove struct {
	entry  portal.LedgerEntry
	before *portal.Site
	sets   map[string]any
}

// batchWrites are the writes of several movements of one partner that
// commit in one transaction: one partner update, and per movement its site
// update (the zero write when the caller writes the site) and its entry.
type batchWrites struct {
	partner write
	sites   []write
	entries []write
}

// movementsWrites is the ledger's one write path, for one movement or a
// batch. The movements must chain: the first planned from pool, each next
// one from the pool the previous one leaves (planChain does that), so every
// entry's poolBalance is exact. The partner is written once: the pool is
// set to the last balance on condition that it still holds pool, and the
// deltas of all movements are added to the running totals together, so
// purchases = pool + Σ site credits + Σ charges holds after the
// transaction exactly as after single movements. Each site update keeps its
// own exact-credits condition.
func (s *Store) movementsWrites(pid string, pool int64, moves []plannedMove, partnerAdds map[string]int64) batchWrites {
	bw := batchWrites{sites: make([]write, len(moves)), entries: make([]write, len(moves))}
	if len(moves) == 0 {
		bw.partner = write{err: errors.New("dynamo: a ledger batch without movements")}
		return bw
	}
	adds := map[string]int64{"Allocated": 0}
	newPool, at := pool, time.Time{}
	for i, m := range moves {
		e := m.entry
		if e.PoolBalance != newPool+e.PoolDelta {
			bw.partner = write{err: fmt.Errorf("dynamo: ledger entry %d of the batch does not chain from pool %d: %+v", i, newPool, e)}
			return bw
		}
		newPool = e.PoolBalance
		at = maxTime(at, e.At)
		adds["Allocated"] += e.SiteDelta
		switch e.Type {
		case portal.LedgerPurchase:
			adds["Purchased"] += e.Amount
		case portal.LedgerCharge:
			adds["Charged"] += e.Amount
		}
		if m.before != nil {
			bw.sites[i] = s.siteMoveWrite(pid, m.before, e, m.sets)
		}
		extra := map[string]string{}
		if e.SiteID != "" {
			extra[attrGSI1PK] = siteLedgerPK(pid, e.SiteID)
			extra[attrGSI1SK] = ts(e.At) + "#" + e.ID
		}
		if it, err := marshal(ledgerKey(pid, e.At, e.ID), e, extra); err != nil {
			bw.entries[i] = write{err: err}
		} else {
			bw.entries[i] = s.put(it, expr{text: "attribute_not_exists(PK)"}, nil)
		}
	}
	for k, v := range partnerAdds {
		adds[k] += v
	}
	values := map[string]any{":newPool": newPool, ":now": at}
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
	bw.partner = s.update(partnerKey(pid),
		expr{text: "SET #Available = :newPool, #UpdatedAt = :now ADD " + strings.Join(clauses, ", "), values: values},
		expr{text: "#Available = :oldPool", values: map[string]any{":oldPool": pool}}, errMoved)
	return bw
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// planChain plans movements of one partner that commit in one
// transaction: each from the pool the previous one leaves, so their
// poolBalance values are the running balances. Entry i is stamped i
// nanoseconds after at, so the ledger's time order is the order of those
// running balances.
func planChain(pool int64, at time.Time, ms []portal.Movement) ([]portal.LedgerEntry, error) {
	out := make([]portal.LedgerEntry, len(ms))
	for i, m := range ms {
		m.Pool, m.At = pool, at.Add(time.Duration(i))
		e, err := m.Plan()
		if err != nil {
			return nil, err
		}
		out[i], pool = e, e.PoolBalance
	}
	return out, nil
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
