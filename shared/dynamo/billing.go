package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"partnerportal/shared/portal"
)

// markerRetention keeps charge and alert markers long enough that no late
// or repeated run of a month can find them gone (AWS deletes by TTL).
const markerRetention = 400 * 24 * time.Hour

// BillingSites returns a page of a partner's sites from their GSI1 listing
// partition (never a Scan). Each page is one Query of exactly limit items
// that continues where the last one stopped, so paging to the end reads
// every site once (the last page may be empty). Index reads are eventually
// consistent: every charge conditions on the balance it read, and re-reads
// the site strongly when that condition fails.
func (s *Store) BillingSites(ctx context.Context, pid string, limit int, cursor string) (Page[portal.Site], error) {
	return s.sitePage(ctx, pid, query{index: gsi1, pk: sitesIndexPK(pid), once: true}, limit, cursor)
}

// chargeItem marks a site charged for a month. Its key is what makes a
// second charge for the month impossible: the charge's transaction puts it
// on condition that it does not exist.
type chargeItem struct {
	SiteID  string
	Month   string
	EntryID string
	Amount  int64
	At      time.Time
}

// ChargedSites returns the ids of a partner's sites charged for month
// (YYYY-MM), so a re-run skips them without a transaction each.
func (s *Store) ChargedSites(ctx context.Context, pid, month string) (map[string]bool, error) {
	out := map[string]bool{}
	cursor := ""
	for {
		items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: "CHARGE#" + month + "#", once: true}, 1000, cursor)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			var c chargeItem
			if err := unmarshal(it, &c); err != nil {
				return nil, err
			}
			out[c.SiteID] = true
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// ChargeOutcome says what the billing did to a site.
type ChargeOutcome string

// Charge outcomes.
const (
	// Charged: the month's cost moved from the site to the charges.
	Charged ChargeOutcome = "charged"
	// AlreadyCharged: the month was charged before (another run).
	AlreadyCharged ChargeOutcome = "already_charged"
	// Unpaid: the site's credits do not cover the cost; it is suspended.
	Unpaid ChargeOutcome = "unpaid"
	// Free: the site costs nothing this month; no entry is made.
	Free ChargeOutcome = "free"
	// Gone: the site was deleted meanwhile.
	Gone ChargeOutcome = "gone"
)

// ChargeResult is what the billing did to one site.
type ChargeResult struct {
	Outcome ChargeOutcome
	// Entry is the charge's ledger entry when Outcome is Charged.
	Entry *portal.LedgerEntry
	// Site is the site after the outcome, priced.
	Site portal.Site
	// Pool is the partner's available credits as last read, for the next
	// charge of the same partner to plan from (-1: unknown).
	Pool int64
	// Suspended and Reactivated report a status change made now.
	Suspended, Reactivated bool
	// Err is set (and Outcome empty) when the site was left for the next
	// run: nothing was written for it.
	Err error
}

var errAlreadyCharged = errors.New("dynamo: the site is already charged for the month")

// ChargeBatchSites is how many sites one billing transaction takes at most.
// A charge writes 4 items (charge marker, site, ledger entry, audit entry)
// and the batch adds one partner update, so 24 charges are 97 items, under
// DynamoDB's 100. A charge that also reactivates the site writes a fifth
// item; packing stops at 100 items too, so such a batch leaves its last
// sites for the next transaction rather than overflow.
const ChargeBatchSites = 24

// ChargeSite bills one site: ChargeSites for a batch of one. It returns
// the result's Err as its error.
func (s *Store) ChargeSite(ctx context.Context, pid, month string, site portal.Site, pool int64) (ChargeResult, error) {
	res, _ := s.ChargeSites(ctx, pid, month, []portal.Site{site}, pool)
	return res[0], res[0].Err
}

// ChargeSites bills sites of one partner for month (YYYY-MM): each site's
// monthly cost is charged once, or the site is suspended when its credits
// do not cover the cost, or reactivated when it costs nothing. sites and
// pool are the states the caller listed (pool < 0: read everything first).
//
// Sites go ChargeBatchSites at a time into one transaction: per charged
// site its charge marker (on condition that it does not exist, so
// overlapping runs can never both charge a site for the month), its site
// update (on condition that its credits are still those read; a suspended
// site is set active again in the same update), its ledger entry and audit
// entry, plus for the whole batch ONE partner update carrying the summed
// deltas, on condition that the pool still holds what was read (a charge
// does not move the pool, so every entry of the batch records that same,
// exact, poolBalance). All of it goes through movementsWrites, the
// ledger's one write path. Suspensions (marker check, site, audit) and
// reactivations of free sites (site, audit) ride in the same transaction.
//
// A cancelled batch (another run charged one of its sites, a site's
// credits or the pool moved, or DynamoDB reported a conflict) re-reads the
// batch in one strongly consistent BatchGetItem — partner, sites and their
// charge markers — settles the sites charged meanwhile as AlreadyCharged
// and the deleted ones as Gone, and retries the rest, with backoff. A batch
// that still fails after moveAttempts falls back to one transaction per
// site, each with its own bounded retries; a site that cannot get through
// gets Err and is left for the next run. It returns one result per site,
// in order, and the pool as last known (-1: unknown).
func (s *Store) ChargeSites(ctx context.Context, pid, month string, sites []portal.Site, pool int64) ([]ChargeResult, int64) {
	out := make([]ChargeResult, 0, len(sites))
	for len(sites) > 0 {
		n := min(len(sites), ChargeBatchSites)
		var res []ChargeResult
		res, pool = s.chargeBatch(ctx, pid, month, sites[:n], pool)
		out = append(out, res...)
		sites = sites[n:]
	}
	return out, pool
}

// chargeBatch bills at most ChargeBatchSites sites (so that a re-read fits
// one BatchGetItem) in as few transactions as the item limit allows.
func (s *Store) chargeBatch(ctx context.Context, pid, month string, sites []portal.Site, pool int64) ([]ChargeResult, int64) {
	out := make([]ChargeResult, len(sites))
	cur := make([]*portal.Site, len(sites))
	settled := make([]bool, len(sites))
	seen := map[string]bool{}
	for i := range sites {
		site := sites[i]
		cur[i] = &site
		if seen[site.ID] {
			out[i], settled[i] = ChargeResult{Site: site, Pool: -1, Err: fmt.Errorf("dynamo: site %s is twice in one billing batch", site.ID)}, true
		}
		seen[site.ID] = true
	}
	unsettled := func() []int {
		var idx []int
		for i := range sites {
			if !settled[i] {
				idx = append(idx, i)
			}
		}
		return idx
	}
	fail := func(idx []int, err error) {
		for _, i := range idx {
			out[i], settled[i] = ChargeResult{Site: *cur[i], Pool: -1, Err: err}, true
		}
	}
	reread := pool < 0
	delay := moveBaseDelay
	for attempt := 0; ; {
		todo := unsettled()
		if len(todo) == 0 {
			break
		}
		if reread {
			var err error
			if pool, err = s.rereadBatch(ctx, pid, month, todo, cur, out, settled); err != nil {
				fail(todo, err)
				break
			}
			reread = false
			if todo = unsettled(); len(todo) == 0 {
				break
			}
		}
		now := s.Now()
		var moves []plannedMove
		var sent []int
		var writes []write
		items := 0
		for k, i := range todo {
			p, err := s.planCharge(pid, month, *cur[i], pool, now.Add(time.Duration(k)))
			if err != nil {
				fail([]int{i}, err)
				continue
			}
			if len(p.writes) == 0 && p.move == nil {
				out[i], settled[i] = p.res, true
				continue
			}
			need := len(p.writes)
			if p.move != nil {
				need += 2 // site update and entry
				if len(moves) == 0 {
					need++ // the batch's partner update
				}
			}
			if items+need > maxTransactItems {
				continue // the next transaction takes it
			}
			items += need
			out[i] = p.res
			sent = append(sent, i)
			writes = append(writes, p.writes...)
			if p.move != nil {
				moves = append(moves, *p.move)
			}
		}
		if len(sent) == 0 {
			continue
		}
		if len(moves) > 0 {
			bw := s.movementsWrites(pid, pool, moves, nil)
			writes = append(writes, bw.partner)
			for j := range moves {
				writes = append(writes, bw.sites[j], bw.entries[j])
			}
		}
		err := s.transact(ctx, writes...)
		if err == nil {
			for _, i := range sent {
				out[i].Pool, settled[i] = pool, true
				settleSite(&out[i], s.rates)
			}
			continue
		}
		if !retryableCharge(err) {
			fail(sent, err)
			continue
		}
		// Someone else moved first: re-read the batch and plan again.
		if attempt++; attempt == moveAttempts {
			rest := unsettled()
			if len(sites) == 1 {
				fail(rest, errBusy)
				break
			}
			// A stubborn batch: one transaction per site from here.
			for _, i := range rest {
				r, _ := s.chargeBatch(ctx, pid, month, []portal.Site{*cur[i]}, -1)
				out[i], settled[i] = r[0], true
			}
			break
		}
		reread = true
		select {
		case <-ctx.Done():
			fail(unsettled(), ctx.Err())
		case <-time.After(time.Duration(rand.Int64N(int64(delay) + 1))):
		}
		delay = min(delay*2, moveMaxDelay)
	}
	return out, pool
}

// retryableCharge reports a cancelled billing transaction that a re-read
// can resolve: a charge marker that exists, a balance or status that
// moved, or a conflict with another transaction.
func retryableCharge(err error) bool {
	return errors.Is(err, errAlreadyCharged) || errors.Is(err, errMoved) || errors.Is(err, ErrContention) || portal.IsCode(err, portal.CodeConflict)
}

// rereadBatch reads the partner and, for the sites at idx, the site and its
// charge marker, in one strongly consistent BatchGetItem (at most 1 + 2 ×
// ChargeBatchSites keys). Sites charged meanwhile settle as AlreadyCharged
// and deleted ones as Gone; the others get their fresh state in cur. It
// returns the pool.
func (s *Store) rereadBatch(ctx context.Context, pid, month string, idx []int, cur []*portal.Site, out []ChargeResult, settled []bool) (int64, error) {
	keys := []key{partnerKey(pid)}
	for _, i := range idx {
		keys = append(keys, siteKey(pid, cur[i].ID), chargeKey(pid, month, cur[i].ID))
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return -1, err
	}
	if items[0] == nil {
		return -1, portal.NotFound("partner")
	}
	p, err := decodePartner(items[0], s.rates)
	if err != nil {
		return -1, err
	}
	for k, i := range idx {
		siteIt, marker := items[1+2*k], items[2+2*k]
		if siteIt == nil {
			out[i], settled[i] = ChargeResult{Outcome: Gone, Site: *cur[i], Pool: p.Credits.Available}, true
			continue
		}
		site, err := decodeSite(siteIt, s.rates)
		if err != nil {
			return -1, err
		}
		site.PartnerID = pid
		cur[i] = &site
		if marker != nil {
			out[i], settled[i] = ChargeResult{Outcome: AlreadyCharged, Site: site, Pool: p.Credits.Available}, true
		}
	}
	return p.Credits.Available, nil
}

// siteCharge is what billing plans for one site: its result if the
// transaction commits, its ledger movement (a charge), and its other
// writes.
type siteCharge struct {
	res    ChargeResult
	move   *plannedMove
	writes []write
}

// planCharge decides what to do with a site from its state before and the
// pool: nothing (free and active, or unpaid and already suspended),
// reactivate, suspend, or charge.
func (s *Store) planCharge(pid, month string, before portal.Site, pool int64, now time.Time) (siteCharge, error) {
	p := siteCharge{res: ChargeResult{Site: before, Pool: pool}}
	cost := s.rates.MonthlyCost(before.Users, before.Devices)
	switch {
	case cost == 0 && before.Status == portal.SiteActive:
		p.res.Outcome = Free
	case cost == 0:
		p.res.Outcome, p.res.Reactivated = Free, true
		p.writes = append(p.writes, s.update(siteKey(pid, before.ID),
			expr{text: "SET #Status = :active, #SuspendedReason = :none, #UpdatedAt = :now, #Version = #Version + :one",
				values: map[string]any{":active": portal.SiteActive, ":none": "", ":now": now, ":one": 1}},
			expr{text: "#Credits = :c AND #Status = :st", values: map[string]any{":c": before.Credits, ":st": before.Status}}, errMoved),
			s.audit(pid, portal.SystemActor, "site.reactivated", "site/"+before.ID, map[string]any{"month": month, "reason": "no monthly cost"}, now))
	case before.Credits < cost && before.Status == portal.SiteSuspended && before.SuspendedReason == SuspendedInsufficientCredits:
		p.res.Outcome = Unpaid
	case before.Credits < cost:
		p.res.Outcome, p.res.Suspended = Unpaid, true
		p.writes = append(p.writes,
			s.check(chargeKey(pid, month, before.ID), expr{text: "attribute_not_exists(PK)"}, errAlreadyCharged),
			s.update(siteKey(pid, before.ID),
				expr{text: "SET #Status = :suspended, #SuspendedReason = :reason, #UpdatedAt = :now, #Version = #Version + :one",
					values: map[string]any{":suspended": portal.SiteSuspended, ":reason": SuspendedInsufficientCredits, ":now": now, ":one": 1}},
				expr{text: "#Credits = :c AND #Status = :st", values: map[string]any{":c": before.Credits, ":st": before.Status}}, errMoved),
			s.audit(pid, portal.SystemActor, "site.suspended", "site/"+before.ID,
				map[string]any{"month": month, "reason": SuspendedInsufficientCredits, "credits": before.Credits, "monthlyCost": cost}, now))
	default:
		// Charges do not move the pool, so each charge of a batch chains
		// from the same pool (planChain of one, stamped with its own now).
		es, err := planChain(pool, now, []portal.Movement{{Type: portal.LedgerCharge, Amount: cost, Site: &before, Actor: portal.SystemActor,
			Note: fmt.Sprintf("monthly cost: %d devices, %d users", before.Devices, before.Users), Reference: month}})
		if err != nil {
			return p, err
		}
		e := es[0]
		p.res.Outcome, p.res.Entry = Charged, &e
		marker, err := marshal(chargeKey(pid, month, before.ID), chargeItem{SiteID: before.ID, Month: month, EntryID: e.ID, Amount: cost, At: now}, nil)
		if err != nil {
			return p, err
		}
		marker[AttrTTL] = ttlAttr(now.Add(markerRetention))
		b := before
		p.move = &plannedMove{entry: e, before: &b}
		if before.Status != portal.SiteActive {
			p.res.Reactivated = true
			p.move.sets = map[string]any{"Status": portal.SiteActive, "SuspendedReason": ""}
		}
		p.writes = append(p.writes, s.put(marker, expr{text: "attribute_not_exists(PK)"}, errAlreadyCharged),
			s.audit(pid, portal.SystemActor, "credits.charged", "site/"+before.ID, moveDetails(e), now))
		if p.res.Reactivated {
			p.writes = append(p.writes, s.audit(pid, portal.SystemActor, "site.reactivated", "site/"+before.ID,
				map[string]any{"month": month, "entryId": e.ID}, now))
		}
	}
	return p, nil
}

// settleSite turns a committed plan's Site into the site after it.
func settleSite(res *ChargeResult, r portal.Rates) {
	after := &res.Site
	switch {
	case res.Entry != nil:
		after.Credits = *res.Entry.SiteBalance
		after.Version++
	case res.Suspended || res.Reactivated:
		after.Version++
	}
	if res.Suspended {
		after.Status, after.SuspendedReason = portal.SiteSuspended, SuspendedInsufficientCredits
	}
	if res.Reactivated {
		after.Status, after.SuspendedReason = portal.SiteActive, ""
	}
	r.Price(after)
}

// SuspendedInsufficientCredits is the suspendedReason the billing job sets.
const SuspendedInsufficientCredits = "insufficient_credits"

// Alert kinds; each is sent at most once per month and key.
const (
	// AlertSuspended is one per partner per month: sites could not pay.
	AlertSuspended = "suspended"
	// AlertLowCredit is one per site per month.
	AlertLowCredit = "low_credit"
)

type alertItem struct {
	Kind      string
	Month     string
	SiteID    string
	State     string // sending, sent, failed
	ClaimedAt string // ts(), compared as a string
}

// alertClaimTimeout is after how long a claim whose sender never reported
// back (the run died between claiming and settling) may be taken over.
const alertClaimTimeout = 15 * time.Minute

// ClaimAlerts takes the right to send one alert per site (kind, month):
// each site's alert goes out once a month, again after a failed send, or
// when an earlier claimant went silent for 15 minutes; so overlapping runs
// never both mail and a crash loses no alert for long. It reads the month's
// existing claims with one Query, then claims the free ones up to 100 per
// transaction (one conditioned put each); a chunk that loses a race falls
// back to claiming its sites one by one. It returns the claimed site ids.
func (s *Store) ClaimAlerts(ctx context.Context, pid, kind, month string, sids []string) ([]string, error) {
	now := s.Now()
	stale := ts(now.Add(-alertClaimTimeout))
	taken := map[string]bool{}
	err := s.queryAll(ctx, query{pk: partnerPK(pid), prefix: "ALERT#" + kind + "#" + month + "#"}, 1000, func(it item) error {
		var a alertItem
		if err := unmarshal(it, &a); err != nil {
			return err
		}
		taken[a.SiteID] = a.State == "sent" || a.State == "sending" && a.ClaimedAt >= stale
		return nil
	})
	if err != nil {
		return nil, err
	}
	var free []string
	for _, sid := range sids {
		if !taken[sid] {
			free = append(free, sid)
		}
	}
	lost := errors.New("claimed")
	claim := func(sid string) write {
		it, err := marshal(alertKey(pid, kind, month, sid), alertItem{Kind: kind, Month: month, SiteID: sid, State: "sending", ClaimedAt: ts(now)}, nil)
		if err != nil {
			return write{err: err}
		}
		it[AttrTTL] = ttlAttr(now.Add(markerRetention))
		return s.put(it, expr{
			text:   "attribute_not_exists(PK) OR #State = :failed OR (#State = :sending AND #ClaimedAt < :stale)",
			values: map[string]any{":failed": "failed", ":sending": "sending", ":stale": stale},
		}, lost)
	}
	var claimed []string
	for start := 0; start < len(free); start += maxTransactItems {
		chunk := free[start:min(start+maxTransactItems, len(free))]
		writes := make([]write, len(chunk))
		for i, sid := range chunk {
			writes[i] = claim(sid)
		}
		err := s.transact(ctx, writes...)
		if err == nil {
			claimed = append(claimed, chunk...)
			continue
		}
		if !errors.Is(err, lost) && !errors.Is(err, ErrContention) {
			return claimed, err
		}
		for _, sid := range chunk {
			switch err := s.transact(ctx, claim(sid)); {
			case err == nil:
				claimed = append(claimed, sid)
			case errors.Is(err, lost), errors.Is(err, ErrContention):
			default:
				return claimed, err
			}
		}
	}
	return claimed, nil
}

// SettleAlerts records whether the claimed alerts were sent, up to 100 per
// transaction; failed ones can be claimed again by the next run.
func (s *Store) SettleAlerts(ctx context.Context, pid, kind, month string, sids []string, sent bool) error {
	state := "sent"
	if !sent {
		state = "failed"
	}
	for start := 0; start < len(sids); start += maxTransactItems {
		chunk := sids[start:min(start+maxTransactItems, len(sids))]
		writes := make([]write, len(chunk))
		for i, sid := range chunk {
			writes[i] = s.update(alertKey(pid, kind, month, sid), expr{text: "SET #State = :st", values: map[string]any{":st": state}}, expr{}, nil)
		}
		if err := s.transact(ctx, writes...); err != nil {
			return err
		}
	}
	return nil
}

// AlertRecipients returns the emails of a partner's admins and masters,
// from the partner's ADMIN# items (one Query per 100 administrators).
func (s *Store) AlertRecipients(ctx context.Context, pid string) ([]string, error) {
	var out []string
	cursor := ""
	for {
		items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: adminPrefix}, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			var a portal.Admin
			if err := unmarshal(it, &a); err != nil {
				return nil, err
			}
			if a.Role.AtLeast(portal.RoleAdmin) && a.Email != "" {
				out = append(out, a.Email)
			}
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}
