package api

import (
	"context"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// viewInvitation shows an invitation with its effective status (a pending
// invitation past its expiry reads "expired").
func (s *Service) viewInvitation(inv portal.Invitation) portal.Invitation {
	inv.Status = inv.EffectiveStatus(s.now())
	return inv
}

func (s *Service) listInvitations(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListInvitations(ctx, a.Principal.Partner.ID, limit, cursor)
	if err != nil {
		return nil, err
	}
	for i := range page.Items {
		page.Items[i] = s.viewInvitation(page.Items[i])
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
}

// createInvitation invites an email to the caller's partner. The invitation
// is stored first and mailed after; the 201 shows the delivery outcome (a
// replay under the same Idempotency-Key shows it as it was stored: pending).
func (s *Service) createInvitation(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		Email string       `json:"email"`
		Role  *portal.Role `json:"role"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	email := portal.NormalizeEmail(in.Email)
	var v portal.Validation
	v.Check(portal.ValidEmail(email), "email", "must be an email address")
	validRole(&v, "role", in.Role)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p := a.Principal
	if err := mayAssign(p.Admin, *in.Role); err != nil {
		return nil, err
	}
	return s.idempotent(ctx, r, p.Partner.ID, a.Idempotency, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		if err := s.refuseEndCustomer(ctx, p.Partner.ID, email); err != nil {
			return nil, err
		}
		inv, token := newInvitation(p.Partner.ID, email, *in.Role, p.Actor(), s.now())
		stored, err := httpapi.JSON(http.StatusCreated, s.viewInvitation(inv))
		if err != nil {
			return nil, err
		}
		setResponse(idem, stored)
		if err := s.Store.InvitePortalAdmin(ctx, inv, p.Actor(), idem); err != nil {
			return nil, err
		}
		inv.Delivery = s.deliver(ctx, p.Partner.ID, inv.ID, inv.TokenHash, portalInvitationMail(inv.Email, p.Partner.Name, inv.Role, s.invitationLink(token), inv))
		return httpapi.JSON(http.StatusCreated, s.viewInvitation(inv))
	})
}

// resendInvitation mails a pending (or expired) invitation again with a new
// link; the old link stops working.
func (s *Service) resendInvitation(ctx context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if a.Invitation == nil {
		return nil, portal.NotFound("invitation")
	}
	p := a.Principal
	if err := mayManage(p.Admin, a.Invitation.Role); err != nil {
		return nil, err
	}
	token, hash := portal.NewToken()
	inv, err := s.Store.ResendInvitation(ctx, p.Actor(), *a.Invitation, hash)
	if err != nil {
		return nil, err
	}
	inv.Delivery = s.deliver(ctx, p.Partner.ID, inv.ID, inv.TokenHash, portalInvitationMail(inv.Email, p.Partner.Name, inv.Role, s.invitationLink(token), inv))
	return httpapi.JSON(http.StatusOK, s.viewInvitation(inv))
}

func (s *Service) revokeInvitation(ctx context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if a.Invitation == nil {
		return nil, portal.NotFound("invitation")
	}
	if err := mayManage(a.Principal.Admin, a.Invitation.Role); err != nil {
		return nil, err
	}
	if err := s.Store.RevokeInvitation(ctx, a.Principal.Actor(), *a.Invitation); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
