package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// BulkLoadSites writes many sites of partner pid with BatchWriteItem (25
// items a call) and then adds them to the partner's counters in one update.
// It is for demo seeds and load tests, never a request path: it writes no
// audit entries, and it refuses sites that hold credits (credits enter a site
// only through the ledger) and names that repeat within the batch. Names
// must not clash with the partner's existing sites, whose markers it would
// overwrite.
func (s *Store) BulkLoadSites(ctx context.Context, pid string, sites []portal.Site) error {
	seen := map[string]bool{}
	var reqs []types.WriteRequest
	var users, devices int64
	for _, site := range sites {
		lower := lowerName(site.Name)
		switch {
		case site.Credits != 0:
			return fmt.Errorf("dynamo: bulk-loaded site %q holds credits", site.Name)
		case seen[lower]:
			return fmt.Errorf("dynamo: site name %q repeats", site.Name)
		case !portal.ValidID(site.ID) || !portal.ValidName(site.Name, 100) || !portal.ValidCountry(site.Country) || !portal.ValidTimeZone(site.TimeZone):
			return fmt.Errorf("dynamo: invalid site %+v", site)
		}
		seen[lower] = true
		site.Children = 0
		it, err := siteItemOf(pid, site)
		if err != nil {
			return err
		}
		marker, err := marshal(siteNameKey(pid, lower), siteNameMarker{SiteID: site.ID}, nil)
		if err != nil {
			return err
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}}, types.WriteRequest{PutRequest: &types.PutRequest{Item: marker}})
		users += site.Users
		devices += site.Devices
	}
	if err := s.batchWrite(ctx, reqs); err != nil {
		return err
	}
	return s.transact(ctx, s.partnerAdd(pid, map[string]int64{"SiteCount": int64(len(sites)), "TotalUsers": users, "TotalDevices": devices}, s.Now()))
}
