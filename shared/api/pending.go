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
		{"PUT /v1/platform/partners/{partnerId}/sites/{siteId}/usage", GroupPlatform, notImplemented},
		{"POST /v1/auth/login", GroupPublic, notImplemented},
		{"POST /v1/auth/logout", GroupPublic, notImplemented},
		{"POST /v1/auth/password-reset", GroupPublic, notImplemented},
		{"POST /v1/auth/password-reset/confirm", GroupPublic, notImplemented},
		{"POST /v1/invitations/{token}/accept", GroupPublic, notImplemented},
		{"GET /v1/me", GroupAccounts, notImplemented},
		{"PATCH /v1/me", GroupAccounts, notImplemented},
		{"GET /v1/partner", GroupAccounts, notImplemented},
		{"PATCH /v1/partner", GroupAccounts, notImplemented},
		{"GET /v1/admins", GroupAccounts, notImplemented},
		{"PATCH /v1/admins/{adminId}", GroupAccounts, notImplemented},
		{"DELETE /v1/admins/{adminId}", GroupAccounts, notImplemented},
		{"GET /v1/admins/invitations", GroupAccounts, notImplemented},
		{"POST /v1/admins/invitations", GroupAccounts, notImplemented},
		{"DELETE /v1/admins/invitations/{invitationId}", GroupAccounts, notImplemented},
		{"POST /v1/admins/invitations/{invitationId}/resend", GroupAccounts, notImplemented},
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
	}
}

func notImplemented(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return nil, portal.Errorf(portal.CodeNotImplemented, "this route is not implemented yet")
}
