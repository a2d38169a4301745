package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// siteRoutes are the routes of customer sites, their notes and site
// administrators, and the platform's usage report.
func (s *Service) siteRoutes() []route {
	return []route{
		{"GET /v1/sites", GroupSites, s.authed(portal.PermView, nil, s.listSites)},
		{"POST /v1/sites", GroupSites, s.authed(portal.PermEditSites, withIdempotency, s.createSite)},
		{"GET /v1/sites/{siteId}", GroupSites, s.authed(portal.PermView, withSite, s.getSite)},
		{"PATCH /v1/sites/{siteId}", GroupSites, s.authed(portal.PermEditSites, withSite, s.patchSite)},
		{"DELETE /v1/sites/{siteId}", GroupSites, s.authed(portal.PermDeleteSites, withSite, s.deleteSite)},
		{"GET /v1/sites/{siteId}/notes", GroupSites, s.authed(portal.PermView, withSite, s.listNotes)},
		{"POST /v1/sites/{siteId}/notes", GroupSites, s.authed(portal.PermEditSites, withIdempotency, s.createNote)},
		{"PATCH /v1/sites/{siteId}/notes/{noteId}", GroupSites, s.authed(portal.PermEditSites, withNote, s.patchNote)},
		{"DELETE /v1/sites/{siteId}/notes/{noteId}", GroupSites, s.authed(portal.PermEditSites, withNote, s.deleteNote)},
		{"GET /v1/sites/{siteId}/administrators", GroupSites, s.authed(portal.PermView, withSite, s.listSiteAdmins)},
		{"POST /v1/sites/{siteId}/administrators", GroupSites, s.authed(portal.PermEditSites, withInvitedSiteAdmin, s.inviteSiteAdmin)},
		{"DELETE /v1/sites/{siteId}/administrators/{email}", GroupSites, s.authed(portal.PermEditSites, withPathSiteAdmin, s.removeSiteAdmin)},
		{"PUT /v1/platform/partners/{partnerId}/sites/{siteId}/usage", GroupPlatform, s.platform(s.putUsage)},
	}
}

// siteOf returns the route's site preloaded by authentication, or 404: a
// site of another partner is never loaded, since its key holds the
// caller's partner id.
func siteOf(a *dynamo.Auth) (portal.Site, error) {
	if a.Site == nil {
		return portal.Site{}, portal.NotFound("site")
	}
	return *a.Site, nil
}

// etag is a site's entity tag: its version, quoted.
func etag(site portal.Site) string { return `"` + strconv.FormatInt(site.Version, 10) + `"` }

func siteResponse(status int, site portal.Site) (*httpapi.Response, error) {
	resp, err := httpapi.JSON(status, site)
	if err != nil {
		return nil, err
	}
	return resp.With("etag", etag(site)), nil
}

const (
	maxSiteName = 100
	maxQuery    = 100
)

func (s *Service) listSites(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f := dynamo.SiteFilter{Query: r.Query("q"), Country: r.Query("country")}
	var v portal.Validation
	v.Check(len([]rune(f.Query)) <= maxQuery, "q", "must be at most %d characters", maxQuery)
	v.Check(f.Country == "" || portal.ValidCountry(f.Country), "country", "must be an ISO 3166-1 alpha-2 code such as FR or US")
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := s.Store.ListSites(ctx, a.Principal.Partner.ID, f, limit, cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
}

func (s *Service) getSite(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	site, err := siteOf(a)
	if err != nil {
		return nil, err
	}
	return siteResponse(http.StatusOK, site)
}

func validateSiteFields(v *portal.Validation, name, country, timeZone *string) {
	if name != nil {
		v.Check(portal.ValidName(*name, maxSiteName), "name", "must be 1 to %d characters without leading or trailing spaces or control characters", maxSiteName)
	}
	if country != nil {
		v.Check(portal.ValidCountry(*country), "country", "must be an ISO 3166-1 alpha-2 code such as FR or US")
	}
	if timeZone != nil {
		v.Check(portal.ValidTimeZone(*timeZone), "timeZone", "must be an IANA time zone such as Europe/Paris")
	}
}

func (s *Service) createSite(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		Name     *string `json:"name"`
		Country  *string `json:"country"`
		TimeZone *string `json:"timeZone"`
		Credits  *int64  `json:"credits"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Name != nil, "name", "is required")
	v.Check(in.Country != nil, "country", "is required")
	v.Check(in.TimeZone != nil, "timeZone", "is required")
	validateSiteFields(&v, in.Name, in.Country, in.TimeZone)
	if in.Credits != nil {
		v.Check(*in.Credits >= 0 && *in.Credits <= portal.MaxMove, "credits", "must be 0 to %d", portal.MaxMove)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := a.Principal.Partner
	return s.idempotent(ctx, r, p.ID, a.Idempotency, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		now := s.now()
		site := portal.Site{ID: portal.NewID(now), Name: *in.Name, Country: *in.Country, TimeZone: *in.TimeZone,
			Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
		if in.Credits != nil {
			site.Credits = *in.Credits
		}
		s.Store.Rates().Price(&site)
		resp, err := siteResponse(http.StatusCreated, site)
		if err != nil {
			return nil, err
		}
		resp.With("location", "/v1/sites/"+site.ID)
		setResponse(idem, resp)
		if err := s.Store.CreateSite(ctx, p.ID, p.Credits.Available, site, a.Principal.Actor(), idem); err != nil {
			return nil, err
		}
		return resp, nil
	})
}

// ifMatch reads the If-Match header: 0 when absent or "*", the version it
// names otherwise. A tag that cannot be one of ours never matches (412).
func ifMatch(r *httpapi.Request, current int64) (int64, error) {
	h := strings.TrimSpace(r.Header("if-match"))
	if h == "" || h == "*" {
		return 0, nil
	}
	for _, tag := range strings.Split(h, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if n, err := strconv.ParseInt(strings.Trim(tag, `"`), 10, 64); err == nil && n > 0 && n == current {
			return n, nil
		}
	}
	return 0, dynamo.ErrStaleETag(current)
}

func (s *Service) patchSite(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	site, err := siteOf(a)
	if err != nil {
		return nil, err
	}
	var in struct {
		Name     *string `json:"name"`
		Country  *string `json:"country"`
		TimeZone *string `json:"timeZone"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	validateSiteFields(&v, in.Name, in.Country, in.TimeZone)
	if err := v.Err(); err != nil {
		return nil, err
	}
	want, err := ifMatch(r, site.Version)
	if err != nil {
		return nil, err
	}
	site, err = s.Store.UpdateSite(ctx, a.Principal.Partner.ID, site, dynamo.SitePatch{Name: in.Name, Country: in.Country, TimeZone: in.TimeZone}, want, a.Principal.Actor())
	if err != nil {
		return nil, err
	}
	return siteResponse(http.StatusOK, site)
}

func (s *Service) deleteSite(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	pid := a.Principal.Partner.ID
	site, err := siteOf(a)
	if err != nil {
		// An absent site may be one whose deletion was interrupted before
		// its notes and administrators were removed: finish that first.
		if perr := s.Store.PurgeSiteChildren(ctx, pid, r.Path("siteId")); perr != nil {
			return nil, perr
		}
		return nil, err
	}
	err = s.Store.DeleteSite(ctx, pid, site, a.Principal.Partner.Credits.Available, a.Principal.Actor())
	var cleanup *dynamo.CleanupError
	if errors.As(err, &cleanup) {
		// The site is gone and its credits are back in the pool; a later
		// DELETE of the same site finishes removing notes and administrators.
		s.Log.ErrorContext(ctx, "site children cleanup failed", slog.String("siteId", site.ID), slog.String("error", cleanup.Err.Error()))
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
