package dynamo

import (
	"context"

	"partnerportal/shared/portal"
)

// DeleteSiteForTest stands in for the sites slice's deletion in the
// conservation test: the site's credits return to the pool as a
// site_deleted entry and the site goes, in one transaction through
// movementWrites, under the same balance conditions as every movement.
func (s *Store) DeleteSiteForTest(ctx context.Context, pid, sid string, actor portal.Actor) error {
	return s.retryMoved(ctx, func(ctx context.Context) error {
		p, site, err := s.readBalances(ctx, pid, sid)
		if err != nil {
			return err
		}
		now := s.Now()
		del := s.delete(siteKey(pid, sid), expr{text: "#Credits = :c", values: map[string]any{":c": site.Credits}}, errMoved)
		adds := map[string]int64{"SiteCount": -1, "TotalUsers": -site.Users, "TotalDevices": -site.Devices}
		if site.Credits == 0 {
			return s.transact(ctx, del, s.update(partnerKey(pid),
				expr{text: "ADD #SiteCount :sc, #TotalUsers :u, #TotalDevices :d", values: map[string]any{":sc": adds["SiteCount"], ":u": adds["TotalUsers"], ":d": adds["TotalDevices"]}},
				expr{}, nil))
		}
		e, err := portal.Movement{Type: portal.LedgerSiteDeleted, Amount: site.Credits, Pool: p.Credits.Available, Site: site, Actor: actor, At: now}.Plan()
		if err != nil {
			return err
		}
		lw := s.movementWrites(pid, p.Credits.Available, site, e, adds)
		return s.transact(ctx, lw.partner, del, lw.entry)
	})
}
