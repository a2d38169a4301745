package dynamo

import (
	"context"
	"time"

	"partnerportal/shared/portal"
)

// SiteAdminStatus is a site administrator's state.
type SiteAdminStatus string

// Site administrator states: invited until the link is accepted.
const (
	SiteAdminInvited SiteAdminStatus = "invited"
	SiteAdminActive  SiteAdminStatus = "active"
)

// SiteAdmin is an end customer invited by email to administer a site. It is
// not a portal account and can never sign in to the portal. It lives at
// P#<pid> / SITE#<sid>#ADMIN#<email>, and on GSI2 under
// P#<pid>#SITEADMIN#<email> so that a portal invitation to the same email
// can be refused (SPEC §2 rule 6).
type SiteAdmin struct {
	SiteID     string          `json:"-"`
	Email      string          `json:"email"`
	Status     SiteAdminStatus `json:"status"`
	InvitedAt  time.Time       `json:"invitedAt"`
	ExpiresAt  time.Time       `json:"expiresAt"`
	AcceptedAt *time.Time      `json:"acceptedAt,omitempty" dynamodbav:",omitempty"`
	Delivery   portal.Delivery `json:"delivery"`
	InvitedBy  portal.Actor    `json:"-"`
	// TokenHash identifies the one live invitation link; re-inviting
	// replaces it.
	TokenHash string `json:"-"`
}

// siteAdminItem stores a site administrator; the struct is the same.
type siteAdminItem = SiteAdmin

var errSiteAdminNotFound = portal.NotFound("site administrator")

// SiteAdmin returns the site administrator that AuthOptions.Child asked for;
// found is false when there is none.
func (a *Auth) SiteAdmin() (SiteAdmin, bool) {
	var sa SiteAdmin
	if a.child == nil || unmarshal(a.child, &sa) != nil || sa.Email == "" {
		return sa, false
	}
	return sa, true
}

func (s *Store) siteAdminWrite(pid string, a SiteAdmin, cond expr, failure error) write {
	it, err := marshal(siteAdminKey(pid, a.SiteID, a.Email), a, map[string]string{
		attrGSI2PK: siteAdminEmailPK(pid, a.Email), attrGSI2SK: a.SiteID,
	})
	if err != nil {
		return write{err: err}
	}
	return s.put(it, cond, failure)
}

// voidSiteToken overwrites a site-administrator link token as void, whatever
// state it was in: the link then answers 410. It is a whole-item put because
// the token may already have expired out of the table.
func (s *Store) voidSiteToken(pid string, a SiteAdmin) write {
	return s.voidTokenWrite(a.TokenHash, tokenItem{Kind: string(portal.KindSiteAdmin), PartnerID: pid, SiteID: a.SiteID, Email: a.Email, ExpiresAt: a.ExpiresAt})
}

// InviteSiteAdmin stores an invitation of a.Email to administer site a.SiteID,
// with the link token whose hash is a.TokenHash. existing is the site's
// current administrator with that email, if any (as read): an active one is
// already_exists; an invited one is re-invited, its old link voided. An email
// that is a portal administrator of the same partner is refused (409
// conflict): end customers and the reseller's staff are kept apart. All of
// it, the site's child count and the audit entry are one transaction.
func (s *Store) InviteSiteAdmin(ctx context.Context, pid string, a SiteAdmin, existing *SiteAdmin, actor portal.Actor, idem *Idempotency) error {
	if existing != nil && existing.Status == SiteAdminActive {
		return portal.Errorf(portal.CodeAlreadyExists, "%s is already an administrator of this site", a.Email)
	}
	return s.retryMoved(ctx, func(ctx context.Context) error {
		var writes []write
		if idem != nil {
			writes = append(writes, s.idempotencyWrite(*idem))
		}
		writes = append(writes, s.check(accountKey(a.Email),
			expr{text: "attribute_not_exists(PK) OR #PartnerID <> :pid", values: map[string]any{":pid": pid}},
			portal.Errorf(portal.CodeConflict, "%s is a portal administrator of this partner; site administrators are end customers and must use another address", a.Email)))
		changed := portal.Errorf(portal.CodeConflict, "the site administrator %s changed concurrently; retry", a.Email)
		action := "site_admin.invited"
		if existing == nil {
			writes = append(writes,
				s.siteAdminWrite(pid, a, expr{text: "attribute_not_exists(PK)"}, changed),
				s.countChild(pid, a.SiteID, 1))
		} else {
			action = "site_admin.reinvited"
			writes = append(writes,
				s.siteAdminWrite(pid, a, expr{text: "#TokenHash = :old AND #Status = :invited",
					values: map[string]any{":old": existing.TokenHash, ":invited": SiteAdminInvited}}, changed),
				s.siteExists(pid, a.SiteID),
				s.voidSiteToken(pid, *existing))
		}
		writes = append(writes,
			s.tokenWrite(a.TokenHash, tokenItem{Kind: string(portal.KindSiteAdmin), State: tokenLive, PartnerID: pid, SiteID: a.SiteID, Email: a.Email, ExpiresAt: a.ExpiresAt}),
			s.audit(pid, actor, action, "site/"+a.SiteID+"/administrator/"+a.Email, map[string]any{"email": a.Email, "expiresAt": a.ExpiresAt}, a.InvitedAt))
		return s.transact(ctx, writes...)
	})
}

// RecordSiteAdminDelivery stores what the mailer did with an invitation,
// only while the mailed link is still the administrator's current one.
func (s *Store) RecordSiteAdminDelivery(ctx context.Context, pid string, a SiteAdmin, d portal.Delivery) error {
	err := s.transact(ctx, s.update(siteAdminKey(pid, a.SiteID, a.Email),
		expr{text: "SET #Delivery = :d", values: map[string]any{":d": d}},
		expr{text: "#TokenHash = :h", values: map[string]any{":h": a.TokenHash}}, errStale))
	if err == errStale {
		return nil
	}
	return err
}

// RemoveSiteAdmin removes a site administrator (as read), voiding its link
// when the invitation is still pending.
func (s *Store) RemoveSiteAdmin(ctx context.Context, pid string, a SiteAdmin, actor portal.Actor) error {
	now := s.Now()
	return s.retryMoved(ctx, func(ctx context.Context) error {
		writes := []write{
			s.delete(siteAdminKey(pid, a.SiteID, a.Email), expr{text: "#TokenHash = :h AND #Status = :st",
				values: map[string]any{":h": a.TokenHash, ":st": a.Status}},
				portal.Errorf(portal.CodeConflict, "the site administrator %s changed concurrently; retry", a.Email)),
			s.countChild(pid, a.SiteID, -1),
			s.audit(pid, actor, "site_admin.removed", "site/"+a.SiteID+"/administrator/"+a.Email, map[string]any{"email": a.Email, "status": a.Status}, now),
		}
		if a.Status == SiteAdminInvited {
			writes = append(writes, s.voidSiteToken(pid, a))
		}
		return s.transact(ctx, writes...)
	})
}

// ListSiteAdmins returns a page of a site's administrators by email: one
// Query of at most limit+1 items.
func (s *Store) ListSiteAdmins(ctx context.Context, pid, sid string, limit int, cursor string) (Page[SiteAdmin], error) {
	items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: sitePrefix(sid) + "#ADMIN#"}, limit, cursor)
	if err != nil {
		return Page[SiteAdmin]{}, err
	}
	page := Page[SiteAdmin]{Items: make([]SiteAdmin, 0, len(items)), Next: next}
	for _, it := range items {
		var a SiteAdmin
		if err := unmarshal(it, &a); err != nil {
			return page, err
		}
		page.Items = append(page.Items, a)
	}
	return page, nil
}

// AcceptSiteInvitation accepts a site-administrator link that
// LookupInvitation resolved: the token is spent and the administrator
// becomes active, in one transaction. No portal account is created. Of two
// concurrent acceptances exactly one succeeds; the other gets
// invitation_used.
func (s *Store) AcceptSiteInvitation(ctx context.Context, token string, v InvitationView) error {
	if v.Kind != portal.KindSiteAdmin {
		return portal.NotFound("invitation")
	}
	hash := portal.HashToken(token)
	now := s.Now()
	email := v.Email
	return s.transact(ctx,
		s.update(tokenKey(hash), expr{text: "SET #State = :used", values: map[string]any{":used": tokenUsed}},
			expr{text: "#State = :live", values: map[string]any{":live": tokenLive}},
			portal.Errorf(portal.CodeInvitationUsed, "this invitation has already been accepted")),
		s.update(siteAdminKey(v.PartnerID, v.SiteID, email),
			expr{text: "SET #Status = :active, #AcceptedAt = :now", values: map[string]any{":active": SiteAdminActive, ":now": now}},
			expr{text: "#Status = :invited AND #TokenHash = :h", values: map[string]any{":invited": SiteAdminInvited, ":h": hash}},
			portal.Errorf(portal.CodeInvitationExpired, "this invitation link was replaced or revoked; ask for a new one")),
		s.siteExists(v.PartnerID, v.SiteID),
		s.audit(v.PartnerID, portal.Actor{Type: portal.ActorSystem, Email: email}, "site_admin.accepted",
			"site/"+v.SiteID+"/administrator/"+email, map[string]any{"email": email}, now),
	)
}
