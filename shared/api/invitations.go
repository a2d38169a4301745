package api

import (
	"context"
	"net/http"

	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

func (s *Service) invitationRoutes() []route {
	return []route{
		{"GET /v1/invitations/{token}", GroupPublic, s.getInvitation},
	}
}

type invitationView struct {
	Kind    portal.InvitationKind `json:"kind"`
	Email   string                `json:"email"`
	Role    portal.Role           `json:"role,omitempty"`
	Partner struct {
		Name string `json:"name"`
	} `json:"partner"`
	Site *struct {
		Name string `json:"name"`
	} `json:"site,omitempty"`
	ExpiresAt string `json:"expiresAt"`
}

// getInvitation shows what a link invites to, so the front end can greet
// the recipient before they accept.
func (s *Service) getInvitation(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	v, err := s.Store.LookupInvitation(ctx, r.Path("token"))
	if err != nil {
		return nil, err
	}
	out := invitationView{Kind: v.Kind, Email: v.Email, Role: v.Role, ExpiresAt: v.ExpiresAt.UTC().Format(rfc3339)}
	out.Partner.Name = v.PartnerName
	if v.Kind == portal.KindSiteAdmin {
		out.Site = &struct {
			Name string `json:"name"`
		}{v.SiteName}
	}
	return httpapi.JSON(http.StatusOK, out)
}
