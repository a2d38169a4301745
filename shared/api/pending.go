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
		{"GET /v1/audit", GroupAccounts, notImplemented},
		{"POST /v1/sites/{siteId}/credits", GroupCredits, notImplemented},
		{"GET /v1/credits", GroupCredits, notImplemented},
		{"GET /v1/credits/history", GroupCredits, notImplemented},
	}
}

func notImplemented(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return nil, portal.Errorf(portal.CodeNotImplemented, "this route is not implemented yet")
}
