package dynamo

import (
	"context"
	"time"

	"partnerportal/shared/portal"
)

// tokenState says whether a link token still works.
type tokenState string

const (
	tokenLive tokenState = "live"
	tokenUsed tokenState = "used"
	tokenVoid tokenState = "void" // replaced by a resend, or revoked
)

// tokenItem points from the hash of a secret link to what it unlocks. Used
// and voided tokens are kept until their TTL so a reused link gets a clear
// 410 rather than a 404.
type tokenItem struct {
	Kind         string // portal_admin, site_admin, password_reset
	State        tokenState
	PartnerID    string
	InvitationID string `dynamodbav:",omitempty"`
	SiteID       string `dynamodbav:",omitempty"`
	Email        string
	ExpiresAt    time.Time
}

// tokenRetention keeps spent tokens around to explain a reused link.
const tokenRetention = 30 * 24 * time.Hour

func (s *Store) tokenWrite(hash string, t tokenItem) write {
	it, err := marshal(tokenKey(hash), t, nil)
	if err != nil {
		return write{err: err}
	}
	it[AttrTTL] = ttlAttr(t.ExpiresAt.Add(tokenRetention))
	return s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeConflict, "token collision"))
}

// voidTokenWrite overwrites a link token as void, whether or not its item
// still exists, so a replaced or revoked link answers 410.
func (s *Store) voidTokenWrite(hash string, t tokenItem) write {
	t.State = tokenVoid
	it, err := marshal(tokenKey(hash), t, nil)
	if err != nil {
		return write{err: err}
	}
	it[AttrTTL] = ttlAttr(t.ExpiresAt.Add(tokenRetention))
	return s.put(it, expr{}, nil)
}

// invitationWrites stores a portal invitation and its link token. The
// account check makes an invitation to an email that already has an account
// fail with already_exists.
func (s *Store) invitationWrites(inv portal.Invitation, actor portal.Actor) ([]write, error) {
	inv.InvitedBy = actor
	it, err := marshal(invitationKey(inv.PartnerID, inv.ID), inv, nil)
	if err != nil {
		return nil, err
	}
	return []write{
		s.check(accountKey(inv.Email), expr{text: "attribute_not_exists(PK)"},
			portal.Errorf(portal.CodeAlreadyExists, "%s already has a portal account", inv.Email)),
		s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeConflict, "invitation exists")),
		s.tokenWrite(inv.TokenHash, tokenItem{Kind: string(portal.KindPortalAdmin), State: tokenLive,
			PartnerID: inv.PartnerID, InvitationID: inv.ID, Email: inv.Email, ExpiresAt: inv.ExpiresAt}),
	}, nil
}

// CreateInvitation stores a new portal invitation of a partner on behalf of
// actor. It fails with not_found for an unknown partner and already_exists
// when the email has an account.
func (s *Store) CreateInvitation(ctx context.Context, inv portal.Invitation, actor portal.Actor, idem *Idempotency) error {
	writes := []write{s.check(partnerKey(inv.PartnerID), expr{text: "attribute_exists(PK)"}, portal.NotFound("partner"))}
	iw, err := s.invitationWrites(inv, actor)
	if err != nil {
		return err
	}
	writes = append(writes, iw...)
	writes = append(writes, s.audit(inv.PartnerID, actor, "invitation.created", "invitation/"+inv.ID,
		map[string]any{"email": inv.Email, "role": inv.Role}, inv.CreatedAt))
	if idem != nil {
		writes = append(writes, s.idempotencyWrite(*idem))
	}
	return s.transact(ctx, writes...)
}

// RecordDelivery stores what the mailer did with an invitation's email. It
// only touches the invitation while the mailed token is still its token, so a
// slow first send never overwrites a resend's status.
func (s *Store) RecordDelivery(ctx context.Context, pid, iid, tokenHash string, d portal.Delivery) error {
	err := s.transact(ctx, s.update(invitationKey(pid, iid),
		expr{text: "SET #Delivery = :d", values: map[string]any{":d": d}},
		expr{text: "#TokenHash = :h", values: map[string]any{":h": tokenHash}}, errStale))
	if err == errStale {
		return nil
	}
	return err
}

var errStale = portal.Errorf(portal.CodeConflict, "stale")

// InvitationView is what an invitation link shows before it is accepted.
type InvitationView struct {
	Kind        portal.InvitationKind
	Email       string
	Role        portal.Role
	PartnerID   string
	PartnerName string
	SiteID      string
	SiteName    string
	ExpiresAt   time.Time
	// InvitationID is set for portal invitations.
	InvitationID string
	// PartnerStatus and PartnerEpoch let acceptance decide on activation
	// and stamp the first session without reading the partner again.
	PartnerStatus portal.PartnerStatus
	PartnerEpoch  int64
}

// LookupInvitation resolves a link token: not_found for an unknown token,
// invitation_used once accepted, invitation_expired when past its expiry or
// replaced by a resend or revoked.
func (s *Store) LookupInvitation(ctx context.Context, token string) (InvitationView, error) {
	var v InvitationView
	var t tokenItem
	found, err := s.get(ctx, tokenKey(portal.HashToken(token)), &t)
	if err != nil {
		return v, err
	}
	if !found || (t.Kind != string(portal.KindPortalAdmin) && t.Kind != string(portal.KindSiteAdmin)) {
		return v, portal.NotFound("invitation")
	}
	switch {
	case t.State == tokenUsed:
		return v, portal.Errorf(portal.CodeInvitationUsed, "this invitation has already been accepted")
	case t.State == tokenVoid:
		return v, portal.Errorf(portal.CodeInvitationExpired, "this invitation link was replaced or revoked; ask for a new one")
	case !s.Now().Before(t.ExpiresAt):
		return v, portal.Errorf(portal.CodeInvitationExpired, "this invitation expired at %s", t.ExpiresAt.Format(time.RFC3339))
	}
	keys := []key{partnerKey(t.PartnerID)}
	if t.Kind == string(portal.KindPortalAdmin) {
		keys = append(keys, invitationKey(t.PartnerID, t.InvitationID))
	} else {
		keys = append(keys, siteKey(t.PartnerID, t.SiteID))
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return v, err
	}
	if items[0] == nil || items[1] == nil {
		return v, portal.NotFound("invitation")
	}
	p, err := decodePartner(items[0], s.rates)
	if err != nil {
		return v, err
	}
	v = InvitationView{Kind: portal.InvitationKind(t.Kind), Email: t.Email, PartnerID: p.ID, PartnerName: p.Name, ExpiresAt: t.ExpiresAt,
		PartnerStatus: p.Status, PartnerEpoch: p.Epoch()}
	if t.Kind == string(portal.KindPortalAdmin) {
		var inv portal.Invitation
		if err := unmarshal(items[1], &inv); err != nil {
			return v, err
		}
		v.Role, v.InvitationID = inv.Role, inv.ID
	} else {
		var site struct{ ID, Name string }
		if err := unmarshal(items[1], &site); err != nil {
			return v, err
		}
		v.SiteID, v.SiteName = site.ID, site.Name
	}
	return v, nil
}
