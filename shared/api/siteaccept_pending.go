package api

import (
	"context"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
)

// acceptSiteInvitation accepts a site-administrator invitation link. The
// sites slice replaces this file; until then the route answers 501 for site
// links while portal links work.
func (s *Service) acceptSiteInvitation(ctx context.Context, r *httpapi.Request, _ dynamo.InvitationView) (*httpapi.Response, error) {
	return notImplemented(ctx, r)
}
