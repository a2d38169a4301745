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
