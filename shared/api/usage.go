package api

import (
	"context"
	"net/http"

	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// maxUsage bounds reported users and devices per site: far above any real
// site, and low enough that monthly cost arithmetic cannot overflow.
const maxUsage = 10_000_000

// putUsage records the platform's report of a site's users and devices and
// answers the site with its new monthly cost. The report replaces the
// previous one, so repeating it changes nothing (PUT is idempotent).
func (s *Service) putUsage(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Users   *int64 `json:"users"`
		Devices *int64 `json:"devices"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Users != nil && *in.Users >= 0 && *in.Users <= maxUsage, "users", "must be an integer from 0 to %d", maxUsage)
	v.Check(in.Devices != nil && *in.Devices >= 0 && *in.Devices <= maxUsage, "devices", "must be an integer from 0 to %d", maxUsage)
	if err := v.Err(); err != nil {
		return nil, err
	}
	site, err := s.Store.SetUsage(ctx, r.Path("partnerId"), r.Path("siteId"), *in.Users, *in.Devices)
	if err != nil {
		return nil, err
	}
	return siteResponse(http.StatusOK, site)
}
