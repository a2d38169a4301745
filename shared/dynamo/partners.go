package dynamo

import (
	"context"
	"time"

	"partnerportal/shared/portal"
)

// partnerItem is the stored partner. It also holds the credit pool and the
// running totals that keep GET /v1/partner and GET /v1/credits one read.
type partnerItem struct {
	ID           string
	Name         string
	Country      string
	Status       portal.PartnerStatus
	Threshold    int
	Available    int64
	Allocated    int64
	Purchased    int64
	Charged      int64
	TotalUsers   int64
	TotalDevices int64
	SiteCount    int
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Version      int64
	// Epoch is stamped into sessions; suspending the partner raises it, so
	// every session of the partner dies at once and stays dead on restore.
	Epoch int64
}

func (p partnerItem) domain(r portal.Rates) portal.Partner {
	out := portal.Partner{
		ID: p.ID, Name: p.Name, Country: p.Country, Status: p.Status,
		LowCreditThresholdMonths: p.Threshold, SiteCount: p.SiteCount,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version,
		TotalUsers: p.TotalUsers, TotalDevices: p.TotalDevices, SessionEpoch: p.Epoch,
		Credits: portal.PartnerCredits{Available: p.Available, Allocated: p.Allocated, Purchased: p.Purchased, Charged: p.Charged},
	}
	r.PricePartner(&out)
	return out
}

func decodePartner(it item, r portal.Rates) (portal.Partner, error) {
	var p partnerItem
	if err := unmarshal(it, &p); err != nil {
		return portal.Partner{}, err
	}
	return p.domain(r), nil
}

// CreatePartner stores a new pending partner together with its first master
// invitation and the invitation's link token, in one transaction.
func (s *Store) CreatePartner(ctx context.Context, p portal.Partner, inv portal.Invitation, idem *Idempotency) error {
	pi := partnerItem{ID: p.ID, Name: p.Name, Country: p.Country, Status: portal.PartnerPending,
		Threshold: p.LowCreditThresholdMonths, CreatedAt: p.CreatedAt, UpdatedAt: p.CreatedAt, Version: 1}
	it, err := marshal(partnerKey(p.ID), pi, map[string]string{attrGSI1PK: partnersIndexPK, attrGSI1SK: ts(p.CreatedAt) + "#" + p.ID})
	if err != nil {
		return err
	}
	writes := []write{
		s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeAlreadyExists, "partner exists")),
	}
	invWrites, err := s.invitationWrites(inv, portal.PlatformActor)
	if err != nil {
		return err
	}
	writes = append(writes, invWrites...)
	writes = append(writes, s.audit(p.ID, portal.PlatformActor, "partner.created", "partner/"+p.ID,
		map[string]any{"name": p.Name, "country": p.Country, "masterEmail": inv.Email}, p.CreatedAt))
	if idem != nil {
		writes = append(writes, s.idempotencyWrite(*idem))
	}
	return s.transact(ctx, writes...)
}

// GetPartner returns one partner.
func (s *Store) GetPartner(ctx context.Context, pid string) (portal.Partner, error) {
	if !portal.ValidID(pid) {
		return portal.Partner{}, portal.NotFound("partner")
	}
	var p partnerItem
	found, err := s.get(ctx, partnerKey(pid), &p)
	if err != nil {
		return portal.Partner{}, err
	}
	if !found {
		return portal.Partner{}, portal.NotFound("partner")
	}
	return p.domain(s.rates), nil
}

// ListPartners returns partners oldest first, for the platform.
func (s *Store) ListPartners(ctx context.Context, limit int, cursor string) (Page[portal.Partner], error) {
	items, next, err := s.runQuery(ctx, query{index: gsi1, pk: partnersIndexPK}, limit, cursor)
	if err != nil {
		return Page[portal.Partner]{}, err
	}
	page := Page[portal.Partner]{Items: make([]portal.Partner, 0, len(items)), Next: next}
	for _, it := range items {
		p, err := decodePartner(it, s.rates)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, p)
	}
	return page, nil
}

// SetPartnerStatus suspends or restores an activated partner. A pending
// partner can only be activated by its master accepting the invitation.
func (s *Store) SetPartnerStatus(ctx context.Context, pid string, status portal.PartnerStatus) (portal.Partner, error) {
	p, err := s.GetPartner(ctx, pid)
	if err != nil {
		return p, err
	}
	if p.Status == portal.PartnerPending {
		return p, portal.Errorf(portal.CodeConflict, "the partner is pending: only its master can activate it by accepting the invitation")
	}
	if p.Status == status {
		return p, nil
	}
	now := s.Now()
	err = s.transact(ctx,
		s.update(partnerKey(pid),
			expr{text: "SET #Status = :st, #UpdatedAt = :now, #Version = #Version + :one, #Epoch = #Epoch + :one", values: map[string]any{":st": status, ":now": now, ":one": 1}},
			expr{text: "#Version = :v", values: map[string]any{":v": p.Version}},
			portal.Errorf(portal.CodeConflict, "the partner changed; retry")),
		s.audit(pid, portal.PlatformActor, "partner.status_changed", "partner/"+pid,
			map[string]any{"from": p.Status, "to": status}, now),
	)
	if err != nil {
		return p, err
	}
	p.Status, p.UpdatedAt, p.Version = status, now, p.Version+1
	return p, nil
}
