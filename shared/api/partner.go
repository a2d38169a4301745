package api

import (
	"context"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// partnerView is GET /v1/partner: exactly the fields of SPEC §5.
type partnerView struct {
	ID                       string               `json:"id"`
	Name                     string               `json:"name"`
	Country                  string               `json:"country"`
	Status                   portal.PartnerStatus `json:"status"`
	LowCreditThresholdMonths int                  `json:"lowCreditThresholdMonths"`
	Credits                  struct {
		Available   int64 `json:"available"`
		Allocated   int64 `json:"allocated"`
		MonthlyCost int64 `json:"monthlyCost"`
	} `json:"credits"`
	SiteCount int `json:"siteCount"`
}

func viewPartner(p portal.Partner) partnerView {
	v := partnerView{ID: p.ID, Name: p.Name, Country: p.Country, Status: p.Status, LowCreditThresholdMonths: p.LowCreditThresholdMonths, SiteCount: p.SiteCount}
	v.Credits.Available, v.Credits.Allocated, v.Credits.MonthlyCost = p.Credits.Available, p.Credits.Allocated, p.Credits.MonthlyCost
	return v
}

// MaxLowCreditThresholdMonths bounds PATCH /v1/partner (SPEC §5).
const MaxLowCreditThresholdMonths = 12

func (s *Service) getOwnPartner(_ context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, viewPartner(a.Principal.Partner))
}

func (s *Service) patchOwnPartner(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		LowCreditThresholdMonths *int `json:"lowCreditThresholdMonths"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.LowCreditThresholdMonths != nil && *in.LowCreditThresholdMonths >= 0 && *in.LowCreditThresholdMonths <= MaxLowCreditThresholdMonths,
		"lowCreditThresholdMonths", "must be an integer from 0 to %d", MaxLowCreditThresholdMonths)
	if err := v.Err(); err != nil {
		return nil, err
	}
	p, err := s.Store.UpdatePartnerSettings(ctx, a.Principal.Actor(), a.Principal.Partner, *in.LowCreditThresholdMonths)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewPartner(p))
}
