package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

// withInvitedSiteAdmin loads, during authentication, the route's site, the
// stored response of the Idempotency-Key, and the site's administrator with
// the email of the body (to tell an invitation from a re-invitation without
// another round trip). The body is decoded strictly later by the handler.
func withInvitedSiteAdmin(r *httpapi.Request) dynamo.AuthOptions {
	o := withIdempotency(r)
	var in struct {
		Email string `json:"email"`
	}
	if body, err := r.Body(); err == nil && len(body) <= httpapi.MaxBody && json.Unmarshal(body, &in) == nil {
		o.Child = dynamo.SiteAdminChild(portal.NormalizeEmail(in.Email))
	}
	return o
}

// withPathSiteAdmin loads the route's site and its administrator {email}.
func withPathSiteAdmin(r *httpapi.Request) dynamo.AuthOptions {
	o := withSite(r)
	o.Child = dynamo.SiteAdminChild(pathEmail(r))
	return o
}

// pathEmail is the {email} path parameter, percent-decoded when a client
// encoded the "@", and normalised.
func pathEmail(r *httpapi.Request) string {
	raw := r.Path("email")
	if dec, err := url.PathUnescape(raw); err == nil {
		raw = dec
	}
	return portal.NormalizeEmail(raw)
}

func (s *Service) listSiteAdmins(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	return listUnderSite(ctx, r, a, s.Store.ListSiteAdmins)
}

func (s *Service) inviteSiteAdmin(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	site, err := siteOf(a)
	if err != nil {
		return nil, err
	}
	var in struct {
		Email *string `json:"email"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var email string
	if in.Email != nil {
		email = portal.NormalizeEmail(*in.Email)
	}
	var v portal.Validation
	v.Check(portal.ValidEmail(email), "email", "must be an email address")
	if err := v.Err(); err != nil {
		return nil, err
	}
	var existing *dynamo.SiteAdmin
	if sa, ok := a.SiteAdmin(); ok && sa.Email == email {
		existing = &sa
	}
	p := a.Principal.Partner
	return s.idempotent(ctx, r, p.ID, a.Idempotency, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		now := s.now()
		token, hash := portal.NewToken()
		sa := dynamo.SiteAdmin{SiteID: site.ID, Email: email, Status: dynamo.SiteAdminInvited, InvitedAt: now,
			ExpiresAt: now.Add(portal.InvitationTTL), InvitedBy: a.Principal.Actor(), TokenHash: hash,
			Delivery: portal.Delivery{Status: portal.DeliveryPending}}
		location := "/v1/sites/" + site.ID + "/administrators/" + url.PathEscape(email)
		// A replay of the Idempotency-Key answers what was stored with the
		// invitation, before the mail went out (delivery "pending").
		stored, err := httpapi.JSON(http.StatusCreated, sa)
		if err != nil {
			return nil, err
		}
		setResponse(idem, stored.With("location", location))
		if err := s.Store.InviteSiteAdmin(ctx, p.ID, sa, existing, a.Principal.Actor(), idem); err != nil {
			return nil, err
		}
		// Stored first, then mailed, then the outcome recorded: a failed
		// send never loses the invitation, and inviting again resends.
		sa.Delivery = s.deliverSiteInvitation(ctx, p.ID, p.Name, site.Name, sa, token)
		resp, err := httpapi.JSON(http.StatusCreated, sa)
		if err != nil {
			return nil, err
		}
		return resp.With("location", location), nil
	})
}

func siteInvitationMail(to, partnerName, siteName, link string, sa dynamo.SiteAdmin) mail.Message {
	return mail.Compose(to, fmt.Sprintf("You are invited to administer %s", siteName), []string{
		fmt.Sprintf("%s has invited you to be an administrator of the site %s.", partnerName, siteName),
		fmt.Sprintf("The link works once and expires on %s (UTC).", sa.ExpiresAt.UTC().Format("2 January 2006 at 15:04")),
		"If you did not expect this invitation, you can ignore this email.",
	}, link, "Accept the invitation")
}

// deliverSiteInvitation sends the invitation mail and records the outcome on
// the site administrator; a failure is recorded and logged, never undone.
func (s *Service) deliverSiteInvitation(ctx context.Context, pid, partnerName, siteName string, sa dynamo.SiteAdmin, token string) portal.Delivery {
	err := s.Mail.Send(ctx, siteInvitationMail(sa.Email, partnerName, siteName, s.invitationLink(token), sa))
	at := s.now()
	d := portal.Delivery{Status: portal.DeliverySent, At: &at}
	if err != nil {
		s.Log.ErrorContext(ctx, "mail failed", slog.String("partnerId", pid), slog.String("siteId", sa.SiteID), slog.String("error", err.Error()))
		d.Status, d.Error = portal.DeliveryFailed, "the email could not be sent; invite the address again to resend"
	}
	if rerr := s.Store.RecordSiteAdminDelivery(ctx, pid, sa, d); rerr != nil {
		s.Log.ErrorContext(ctx, "recording delivery failed", slog.String("siteId", sa.SiteID), slog.String("error", rerr.Error()))
	}
	return d
}

func (s *Service) removeSiteAdmin(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if _, err := siteOf(a); err != nil {
		return nil, err
	}
	sa, ok := a.SiteAdmin()
	if !ok {
		return nil, portal.NotFound("site administrator")
	}
	if err := s.Store.RemoveSiteAdmin(ctx, a.Principal.Partner.ID, sa, a.Principal.Actor()); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
