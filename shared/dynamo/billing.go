package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"partnerportal/shared/portal"
)

// markerRetention keeps charge and alert markers long enough that no late
// or repeated run of a month can find them gone (AWS deletes by TTL).
const markerRetention = 400 * 24 * time.Hour

// BillingSites returns a page of a partner's sites from their GSI1 listing
// partition (never a Scan). Index reads are eventually consistent: every
// charge conditions on the balance it read, and re-reads the site strongly
// when that condition fails.
func (s *Store) BillingSites(ctx context.Context, pid string, limit int, cursor string) (Page[portal.Site], error) {
	items, next, err := s.runQuery(ctx, query{index: gsi1, pk: sitesIndexPK(pid)}, limit, cursor)
	if err != nil {
		return Page[portal.Site]{}, err
	}
	page := Page[portal.Site]{Items: make([]portal.Site, 0, len(items)), Next: next}
	for _, it := range items {
		site, err := decodeSite(it, s.rates)
		if err != nil {
			return page, err
		}
		site.PartnerID = pid
		page.Items = append(page.Items, site)
	}
	return page, nil
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
		items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: "CHARGE#" + month + "#"}, 1000, cursor)
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

// ChargeOutcome says what ChargeSite did.
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

// ChargeResult is what ChargeSite did to one site.
type ChargeResult struct {
	Outcome ChargeOutcome
	// Entry is the charge's ledger entry when Outcome is Charged.
	Entry *portal.LedgerEntry
	// Site is the site after the outcome, priced.
	Site portal.Site
	// Pool is the partner's available credits as last read, for the next
	// charge of the same partner to plan from.
	Pool int64
	// Suspended and Reactivated report a status change made now.
	Suspended, Reactivated bool
}

var errAlreadyCharged = errors.New("dynamo: the site is already charged for the month")

// ChargeSite charges a site's monthly cost for month once, or suspends the
// site when its credits do not cover the cost. site and pool are the
// states the caller listed (pool < 0: read it). The charge is one
// transaction: the month's charge marker (on condition it does not exist:
// overlapping runs cannot both charge), the movement through
// movementWrites with the site set active again, the ledger entry and the
// audit entries.
func (s *Store) ChargeSite(ctx context.Context, pid, month string, site portal.Site, pool int64) (ChargeResult, error) {
	var res ChargeResult
	cur, partnerPool := &site, pool
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		if cur == nil || partnerPool < 0 {
			p, st, charged, err := s.readChargeState(ctx, pid, site.ID, month)
			if err != nil {
				return err
			}
			if charged {
				return errAlreadyCharged
			}
			cur, partnerPool = st, p.Credits.Available
		}
		if cur == nil {
			res.Outcome = Gone
			return nil
		}
		before := *cur
		now := s.Now()
		res = ChargeResult{Site: before, Pool: partnerPool}
		cost := s.rates.MonthlyCost(before.Users, before.Devices)
		var writes []write
		switch {
		case cost == 0 && before.Status == portal.SiteActive:
			res.Outcome = Free
			return nil
		case cost == 0:
			res.Outcome, res.Reactivated = Free, true
			writes = append(writes, s.update(siteKey(pid, before.ID),
				expr{text: "SET #Status = :active, #SuspendedReason = :none, #UpdatedAt = :now, #Version = #Version + :one",
					values: map[string]any{":active": portal.SiteActive, ":none": "", ":now": now, ":one": 1}},
				expr{text: "#Credits = :c AND #Status = :st", values: map[string]any{":c": before.Credits, ":st": before.Status}}, errMoved),
				s.audit(pid, portal.SystemActor, "site.reactivated", "site/"+before.ID, map[string]any{"month": month, "reason": "no monthly cost"}, now))
		case before.Credits < cost && before.Status == portal.SiteSuspended && before.SuspendedReason == SuspendedInsufficientCredits:
			res.Outcome = Unpaid
			return nil
		case before.Credits < cost:
			res.Outcome, res.Suspended = Unpaid, true
			writes = append(writes,
				s.check(chargeKey(pid, month, before.ID), expr{text: "attribute_not_exists(PK)"}, errAlreadyCharged),
				s.update(siteKey(pid, before.ID),
					expr{text: "SET #Status = :suspended, #SuspendedReason = :reason, #UpdatedAt = :now, #Version = #Version + :one",
						values: map[string]any{":suspended": portal.SiteSuspended, ":reason": SuspendedInsufficientCredits, ":now": now, ":one": 1}},
					expr{text: "#Credits = :c AND #Status = :st", values: map[string]any{":c": before.Credits, ":st": before.Status}}, errMoved),
				s.audit(pid, portal.SystemActor, "site.suspended", "site/"+before.ID,
					map[string]any{"month": month, "reason": SuspendedInsufficientCredits, "credits": before.Credits, "monthlyCost": cost}, now))
		default:
			e, err := portal.Movement{Type: portal.LedgerCharge, Amount: cost, Pool: partnerPool, Site: &before, Actor: portal.SystemActor,
				Note: fmt.Sprintf("monthly cost: %d devices, %d users", before.Devices, before.Users), Reference: month, At: now}.Plan()
			if err != nil {
				return err
			}
			res.Outcome, res.Entry = Charged, &e
			marker, err := marshal(chargeKey(pid, month, before.ID), chargeItem{SiteID: before.ID, Month: month, EntryID: e.ID, Amount: cost, At: now}, nil)
			if err != nil {
				return err
			}
			marker[AttrTTL] = ttlAttr(now.Add(markerRetention))
			var sets map[string]any
			if before.Status != portal.SiteActive {
				res.Reactivated = true
				sets = map[string]any{"Status": portal.SiteActive, "SuspendedReason": ""}
			}
			lw := s.movementWrites(pid, partnerPool, &before, e, nil)
			writes = append(writes, s.put(marker, expr{text: "attribute_not_exists(PK)"}, errAlreadyCharged),
				lw.partner, s.siteMoveWrite(pid, &before, e, sets), lw.entry,
				s.audit(pid, portal.SystemActor, "credits.charged", "site/"+before.ID, moveDetails(e), now))
			if res.Reactivated {
				writes = append(writes, s.audit(pid, portal.SystemActor, "site.reactivated", "site/"+before.ID,
					map[string]any{"month": month, "entryId": e.ID}, now))
			}
		}
		err := s.transact(ctx, writes...)
		if errors.Is(err, errMoved) || errors.Is(err, ErrContention) {
			cur, partnerPool = nil, -1
		}
		return err
	})
	if errors.Is(err, errAlreadyCharged) {
		return ChargeResult{Outcome: AlreadyCharged, Site: site, Pool: -1}, nil
	}
	if err != nil {
		return res, err
	}
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
	s.rates.Price(after)
	return res, nil
}

// SuspendedInsufficientCredits is the suspendedReason the billing job sets.
const SuspendedInsufficientCredits = "insufficient_credits"

// readChargeState reads the partner, the site (nil when deleted) and
// whether the month's charge marker exists, in one strongly consistent
// round trip.
func (s *Store) readChargeState(ctx context.Context, pid, sid, month string) (portal.Partner, *portal.Site, bool, error) {
	items, err := s.batchGet(ctx, partnerKey(pid), siteKey(pid, sid), chargeKey(pid, month, sid))
	if err != nil {
		return portal.Partner{}, nil, false, err
	}
	if items[0] == nil {
		return portal.Partner{}, nil, false, portal.NotFound("partner")
	}
	p, err := decodePartner(items[0], s.rates)
	if err != nil || items[1] == nil {
		return p, nil, items[2] != nil, err
	}
	site, err := decodeSite(items[1], s.rates)
	site.PartnerID = pid
	return p, &site, items[2] != nil, err
}

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

// ClaimAlert takes the right to send one alert (kind, month, and site or
// "" for a partner-wide alert). It succeeds once per key, again after a
// failed send, or when an earlier claimant went silent for 15 minutes; so
// overlapping runs never both mail, and a crash loses no alert for long.
func (s *Store) ClaimAlert(ctx context.Context, pid, kind, month, sid string) (bool, error) {
	now := s.Now()
	it, err := marshal(alertKey(pid, kind, month, sid), alertItem{Kind: kind, Month: month, SiteID: sid, State: "sending", ClaimedAt: ts(now)}, nil)
	if err != nil {
		return false, err
	}
	it[AttrTTL] = ttlAttr(now.Add(markerRetention))
	taken := errors.New("claimed")
	err = s.transact(ctx, s.put(it, expr{
		text:   "attribute_not_exists(PK) OR #State = :failed OR (#State = :sending AND #ClaimedAt < :stale)",
		values: map[string]any{":failed": "failed", ":sending": "sending", ":stale": ts(now.Add(-alertClaimTimeout))},
	}, taken))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, taken), errors.Is(err, ErrContention):
		return false, nil
	}
	return false, err
}

// SettleAlert records whether a claimed alert was sent; a failed one can
// be claimed again by the next run.
func (s *Store) SettleAlert(ctx context.Context, pid, kind, month, sid string, sent bool) error {
	state := "sent"
	if !sent {
		state = "failed"
	}
	return s.transact(ctx, s.update(alertKey(pid, kind, month, sid),
		expr{text: "SET #State = :st", values: map[string]any{":st": state}}, expr{}, nil))
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
