package api

import (
	"context"

	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// pendingRoutes are template routes whose handlers are still being built.
// Each answers 501 until its slice lands; this file goes when it is empty.
func (s *Service) pendingRoutes() []route {
	return []route{
		{"POST /v1/platform/partners/{partnerId}/credits", GroupPlatform, notImplemented},
		{"PUT /v1/platform/partners/{partnerId}/sites/{siteId}/usage", GroupPlatform, notImplemented},
		{"GET /v1/audit", GroupAccounts, notImplemented},
		{"GET /v1/sites", GroupSites, notImplemented},
		{"POST /v1/sites", GroupSites, notImplemented},
		{"GET /v1/sites/{siteId}", GroupSites, notImplemented},
		{"PATCH /v1/sites/{siteId}", GroupSites, notImplemented},
		{"DELETE /v1/sites/{siteId}", GroupSites, notImplemented},
		{"GET /v1/sites/{siteId}/notes", GroupSites, notImplemented},
		{"POST /v1/sites/{siteId}/notes", GroupSites, notImplemented},
		{"PATCH /v1/sites/{siteId}/notes/{noteId}", GroupSites, notImplemented},
		{"DELETE /v1/sites/{siteId}/notes/{noteId}", GroupSites, notImplemented},
		{"GET /v1/sites/{siteId}/administrators", GroupSites, notImplemented},
		{"POST /v1/sites/{siteId}/administrators", GroupSites, notImplemented},
		{"DELETE /v1/sites/{siteId}/administrators/{email}", GroupSites, notImplemented},
		{"POST /v1/sites/{siteId}/credits", GroupCredits, notImplemented},
		{"GET /v1/credits", GroupCredits, notImplemented},
		{"GET /v1/credits/history", GroupCredits, notImplemented},
	}
}

func notImplemented(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return nil, portal.Errorf(portal.CodeNotImplemented, "this route is not implemented yet")
}
