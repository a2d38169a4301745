package dynamo

import (
	"context"
	"strings"

	"partnerportal/shared/portal"
)

// SiteSeed describes a site to store directly.
type SiteSeed struct {
	Name     string
	Country  string
	TimeZone string
	Users    int64
	Devices  int64
	// Credits are allocated from the partner's pool through the ledger, in
	// the same transaction, so the books balance.
	Credits int64
}

// SeedSite stores an active site without going through the sites routes:
// for tests, benchmarks and demo data that need sites before (or without)
// the sites slice. It does not reserve the name, so it does not enforce
// the name's uniqueness; POST /v1/sites is how real sites are created.
func (s *Store) SeedSite(ctx context.Context, pid string, in SiteSeed) (portal.Site, error) {
	now := s.Now()
	site := portal.Site{ID: portal.NewID(now), PartnerID: pid, Name: in.Name, Country: in.Country, TimeZone: in.TimeZone,
		Users: in.Users, Devices: in.Devices, Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
	adds := map[string]int64{"SiteCount": 1, "TotalUsers": in.Users, "TotalDevices": in.Devices}
	var writes []write
	if in.Credits > 0 {
		p, _, err := s.readBalances(ctx, pid, "")
		if err != nil {
			return site, err
		}
		e, err := portal.Movement{Type: portal.LedgerAllocation, Amount: in.Credits, Pool: p.Credits.Available,
			Site: &site, Actor: portal.SystemActor, Note: "initial credits", At: now}.Plan()
		if err != nil {
			return site, err
		}
		site.Credits = *e.SiteBalance
		lw := s.movementWrites(pid, p.Credits.Available, nil, e, adds)
		writes = append(writes, lw.partner, lw.entry)
	} else {
		writes = append(writes, s.update(partnerKey(pid),
			expr{text: "ADD #SiteCount :sc, #TotalUsers :u, #TotalDevices :d", values: map[string]any{":sc": 1, ":u": in.Users, ":d": in.Devices}},
			expr{text: "attribute_exists(PK)"}, portal.NotFound("partner")))
	}
	it, err := marshal(siteKey(pid, site.ID), siteItem{ID: site.ID, Name: site.Name, Country: site.Country, TimeZone: site.TimeZone,
		Credits: site.Credits, Users: site.Users, Devices: site.Devices, Status: site.Status, CreatedAt: now, UpdatedAt: now, Version: 1},
		map[string]string{attrGSI1PK: sitesIndexPK(pid), attrGSI1SK: strings.ToLower(site.Name) + "#" + site.ID})
	if err != nil {
		return site, err
	}
	writes = append(writes, s.put(it, expr{text: "attribute_not_exists(PK)"}, nil))
	if err := s.transact(ctx, writes...); err != nil {
		return site, err
	}
	s.rates.Price(&site)
	return site, nil
}

// SeedUsage sets a site's users and devices directly, keeping the partner's
// usage totals in step: for tests and demo data. The platform's PUT usage
// route is how usage really changes.
func (s *Store) SeedUsage(ctx context.Context, pid, sid string, users, devices int64) error {
	_, site, err := s.readBalances(ctx, pid, sid)
	if err != nil {
		return err
	}
	now := s.Now()
	return s.transact(ctx,
		s.update(siteKey(pid, sid), expr{text: "SET #Users = :u, #Devices = :d, #UpdatedAt = :now, #Version = #Version + :one",
			values: map[string]any{":u": users, ":d": devices, ":now": now, ":one": 1}},
			expr{text: "#Version = :v", values: map[string]any{":v": site.Version}}, errMoved),
		s.update(partnerKey(pid), expr{text: "ADD #TotalUsers :du, #TotalDevices :dd",
			values: map[string]any{":du": users - site.Users, ":dd": devices - site.Devices}}, expr{}, nil))
}

// Allocation is credits to move from the pool to one site.
type Allocation struct {
	SiteID string
	Amount int64
}

// allocationBatch is how many allocations SeedAllocations puts in one
// transaction: site, entry and audit entry each, plus the partner update.
const allocationBatch = (maxTransactItems - 1) / 3

// SeedAllocations allocates credits to many existing sites of a partner
// through the ledger, 33 sites per transaction: for load tests and demo
// data whose sites were bulk-loaded (BulkLoadSites refuses credits). Each
// transaction reads the partner and its sites strongly (one BatchGetItem),
// plans the allocations as a chain from the pool, and writes them through
// movementsWrites under the usual exact-balance conditions, with an audit
// entry each; a concurrent change makes it read and plan again (bounded).
// The API allocates one site per request.
func (s *Store) SeedAllocations(ctx context.Context, pid string, allocs []Allocation, actor portal.Actor) error {
	for len(allocs) > 0 {
		batch := allocs[:min(len(allocs), allocationBatch)]
		allocs = allocs[len(batch):]
		err := s.retryMoved(ctx, func(ctx context.Context) error {
			keys := []key{partnerKey(pid)}
			for _, a := range batch {
				keys = append(keys, siteKey(pid, a.SiteID))
			}
			items, err := s.batchGet(ctx, keys...)
			if err != nil {
				return err
			}
			if items[0] == nil {
				return portal.NotFound("partner")
			}
			p, err := decodePartner(items[0], s.rates)
			if err != nil {
				return err
			}
			ms := make([]portal.Movement, len(batch))
			for i, a := range batch {
				if items[1+i] == nil {
					return errSiteNotFound
				}
				site, err := decodeSite(items[1+i], s.rates)
				if err != nil {
					return err
				}
				ms[i] = portal.Movement{Type: portal.LedgerAllocation, Amount: a.Amount, Site: &site, Actor: actor, Note: "initial credits"}
			}
			es, err := planChain(p.Credits.Available, s.Now(), ms)
			if err != nil {
				return err
			}
			moves := make([]plannedMove, len(es))
			for i, e := range es {
				moves[i] = plannedMove{entry: e, before: ms[i].Site}
			}
			bw := s.movementsWrites(pid, p.Credits.Available, moves, nil)
			writes := []write{bw.partner}
			for i, e := range es {
				writes = append(writes, bw.sites[i], bw.entries[i], s.audit(pid, actor, auditAction(e.Type), moveTarget(pid, e), moveDetails(e), e.At))
			}
			return s.transact(ctx, writes...)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
