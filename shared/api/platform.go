package api

import (
	"context"
	"net/http"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

func (s *Service) platformRoutes() []route {
	return []route{
		{"POST /v1/platform/partners", GroupPlatform, s.platform(s.createPartner)},
		{"GET /v1/platform/partners", GroupPlatform, s.platform(s.listPartners)},
		{"GET /v1/platform/partners/{partnerId}", GroupPlatform, s.platform(s.getPartner)},
		{"PATCH /v1/platform/partners/{partnerId}", GroupPlatform, s.platform(s.patchPartnerStatus)},
		{"POST /v1/platform/partners/{partnerId}/master-invitation", GroupPlatform, s.platform(s.createMasterInvitation)},
	}
}

// platformScope scopes the platform's idempotency keys.
const platformScope = "platform"

// platform wraps a vendor route. API Gateway checks the SigV4 signature
// (AWS_IAM authorization); the handler refuses events that did not pass
// through that authorizer, in case a route is ever misconfigured.
func (s *Service) platform(h httpapi.Handler) httpapi.Handler {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		a := r.Event.RequestContext.Authorizer
		if a == nil || a.IAM == nil {
			return nil, portal.Errorf(portal.CodeUnauthenticated, "platform routes require AWS SigV4 (IAM) authorization")
		}
		return h(ctx, r)
	}
}

// platformPartner is the platform's view of a partner.
type platformPartner struct {
	portal.Partner
	Purchased int64 `json:"purchased"`
	Charged   int64 `json:"charged"`
}

func viewPlatformPartner(p portal.Partner) platformPartner {
	return platformPartner{Partner: p, Purchased: p.Credits.Purchased, Charged: p.Credits.Charged}
}

type invitationRef struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	ExpiresAt string `json:"expiresAt"`
}

func (s *Service) createPartner(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Name        string `json:"name"`
		Country     string `json:"country"`
		MasterEmail string `json:"masterEmail"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	email := portal.NormalizeEmail(in.MasterEmail)
	var v portal.Validation
	v.Check(portal.ValidName(in.Name, 100), "name", "must be 1 to 100 characters without leading or trailing spaces")
	v.Check(portal.ValidCountry(in.Country), "country", "must be an ISO 3166-1 alpha-2 code such as FR or US")
	v.Check(portal.ValidEmail(email), "masterEmail", "must be an email address")
	if err := v.Err(); err != nil {
		return nil, err
	}
	stored, err := s.platformIdempotency(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.idempotent(ctx, r, platformScope, stored, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		now := s.now()
		p := portal.Partner{ID: portal.NewID(now), Name: in.Name, Country: in.Country, Status: portal.PartnerPending,
			LowCreditThresholdMonths: portal.DefaultLowCreditThresholdMonths, CreatedAt: now, UpdatedAt: now, Version: 1}
		inv, token := newInvitation(p.ID, email, portal.RoleMaster, portal.PlatformActor, now)
		resp, err := httpapi.JSON(http.StatusCreated, map[string]any{
			"partner":    viewPlatformPartner(p),
			"invitation": invitationRef{ID: inv.ID, Email: inv.Email, ExpiresAt: inv.ExpiresAt.Format(rfc3339)},
		})
		if err != nil {
			return nil, err
		}
		resp.With("location", "/v1/platform/partners/"+p.ID)
		setResponse(idem, resp)
		if err := s.Store.CreatePartner(ctx, p, inv, idem); err != nil {
			return nil, err
		}
		s.deliver(ctx, p.ID, inv.ID, inv.TokenHash, portalInvitationMail(inv.Email, p.Name, inv.Role, s.invitationLink(token), inv))
		return resp, nil
	})
}

func (s *Service) platformIdempotency(ctx context.Context, r *httpapi.Request) (*dynamo.Idempotency, error) {
	k := r.Header("idempotency-key")
	if !validIdempotencyKey(k) {
		return nil, nil
	}
	return s.Store.GetIdempotency(ctx, platformScope, r.RouteKey(), k)
}

const rfc3339 = "2006-01-02T15:04:05Z07:00"

// newInvitation makes a pending portal invitation and its secret link token.
func newInvitation(pid, email string, role portal.Role, by portal.Actor, now time.Time) (portal.Invitation, string) {
	token, hash := portal.NewToken()
	return portal.Invitation{ID: portal.NewID(now), PartnerID: pid, Email: email, Role: role, Status: portal.InvitationPending,
		ExpiresAt: now.Add(portal.InvitationTTL), CreatedAt: now, InvitedBy: by, TokenHash: hash,
		Delivery: portal.Delivery{Status: portal.DeliveryPending}}, token
}

func (s *Service) listPartners(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListPartners(ctx, limit, cursor)
	if err != nil {
		return nil, err
	}
	items := make([]platformPartner, len(page.Items))
	for i, p := range page.Items {
		items[i] = viewPlatformPartner(p)
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(items, page.Next))
}

func (s *Service) getPartner(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	p, err := s.Store.GetPartner(ctx, r.Path("partnerId"))
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewPlatformPartner(p))
}

func (s *Service) patchPartnerStatus(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Status *portal.PartnerStatus `json:"status"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Status != nil && (*in.Status == portal.PartnerActive || *in.Status == portal.PartnerSuspended), "status", `must be "active" or "suspended"`)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p, err := s.Store.SetPartnerStatus(ctx, r.Path("partnerId"), *in.Status)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewPlatformPartner(p))
}

func (s *Service) createMasterInvitation(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	email, err := decodeEmail(r)
	if err != nil {
		return nil, err
	}
	p, err := s.Store.GetPartner(ctx, r.Path("partnerId"))
	if err != nil {
		return nil, err
	}
	stored, err := s.platformIdempotency(ctx, r)
	if err != nil {
		return nil, err
	}
	return s.idempotent(ctx, r, platformScope, stored, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		now := s.now()
		inv, token := newInvitation(p.ID, email, portal.RoleMaster, portal.PlatformActor, now)
		resp, err := httpapi.JSON(http.StatusCreated, invitationRef{ID: inv.ID, Email: inv.Email, ExpiresAt: inv.ExpiresAt.Format(rfc3339)})
		if err != nil {
			return nil, err
		}
		setResponse(idem, resp)
		if err := s.Store.CreateInvitation(ctx, inv, portal.PlatformActor, idem); err != nil {
			return nil, err
		}
		s.deliver(ctx, p.ID, inv.ID, inv.TokenHash, portalInvitationMail(inv.Email, p.Name, inv.Role, s.invitationLink(token), inv))
		return resp, nil
	})
}

// decodeEmail reads a body that is just {"email"}, normalised and checked.
func decodeEmail(r *httpapi.Request) (string, error) {
	var in struct {
		Email string `json:"email"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return "", err
	}
	email := portal.NormalizeEmail(in.Email)
	var v portal.Validation
	v.Check(portal.ValidEmail(email), "email", "must be an email address")
	return email, v.Err()
}
