package api

import (
	"context"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
)

// acceptSiteInvitation accepts a site-administrator link resolved by the
// accept route: the body is {}, the token is spent, the administrator
// becomes active. No portal account or session is created: a site
// administrator is an end customer and never signs in to the portal.
func (s *Service) acceptSiteInvitation(ctx context.Context, r *httpapi.Request, view dynamo.InvitationView) (*httpapi.Response, error) {
	var in struct{}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	if err := s.Store.AcceptSiteInvitation(ctx, r.Path("token"), view); err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "accepted"})
}
