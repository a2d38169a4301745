package dynamo

import (
	"context"

	"partnerportal/shared/portal"
)

// accountItem owns an email address system-wide: it holds the credentials
// and the lockout state, and points at the administrator.
type accountItem struct {
	Email        string
	PartnerID    string
	AdminID      string
	PasswordHash string
	FailedLogins int
	LockedUntil  int64 // epoch seconds; 0 when not locked
}

// Acceptance is the outcome of accepting a portal invitation.
type Acceptance struct {
	Admin   portal.Admin
	Partner portal.Partner
	Session Session
}

// AcceptPortalInvitation turns a live portal invitation into an account, an
// administrator and a first session, in one transaction. Accepting a master
// invitation activates a pending partner; other roles cannot join a partner
// that is not active. Of two concurrent acceptances exactly one succeeds.
func (s *Store) AcceptPortalInvitation(ctx context.Context, token, name, passwordHash string) (Acceptance, error) {
	var out Acceptance
	hash := portal.HashToken(token)
	view, err := s.LookupInvitation(ctx, token)
	if err != nil {
		return out, err
	}
	if view.Kind != portal.KindPortalAdmin {
		return out, portal.NotFound("invitation")
	}
	p, err := s.GetPartner(ctx, view.PartnerID)
	if err != nil {
		return out, err
	}
	activate := p.Status == portal.PartnerPending && view.Role == portal.RoleMaster
	if p.Status != portal.PartnerActive && !activate {
		return out, portal.Errorf(portal.CodeForbidden, "the partner account is %s; only a master invitation can activate it", p.Status)
	}
	now := s.Now()
	a := portal.Admin{ID: portal.NewID(now), PartnerID: p.ID, Email: view.Email, Name: name, Role: view.Role, CreatedAt: now, LastLoginAt: &now, SessionEpoch: 1}
	adminIt, err := marshal(adminKey(p.ID, a.ID), a, nil)
	if err != nil {
		return out, err
	}
	accIt, err := marshal(accountKey(a.Email), accountItem{Email: a.Email, PartnerID: p.ID, AdminID: a.ID, PasswordHash: passwordHash}, nil)
	if err != nil {
		return out, err
	}
	used := portal.Errorf(portal.CodeInvitationUsed, "this invitation has already been accepted")
	partnerEpoch := p.Epoch()
	writes := []write{
		s.update(tokenKey(hash), expr{text: "SET #State = :used", values: map[string]any{":used": tokenUsed}},
			expr{text: "#State = :live", values: map[string]any{":live": tokenLive}}, used),
		s.update(invitationKey(p.ID, view.InvitationID), expr{text: "SET #Status = :acc", values: map[string]any{":acc": portal.InvitationAccepted}},
			expr{text: "#Status = :pending AND #TokenHash = :h", values: map[string]any{":pending": portal.InvitationPending, ":h": hash}}, used),
		s.put(accIt, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeAlreadyExists, "%s already has a portal account", a.Email)),
		s.put(adminIt, expr{text: "attribute_not_exists(PK)"}, nil),
	}
	if activate {
		writes = append(writes, s.update(partnerKey(p.ID),
			expr{text: "SET #Status = :active, #UpdatedAt = :now, #Version = #Version + :one", values: map[string]any{":active": portal.PartnerActive, ":now": now, ":one": 1}},
			expr{text: "#Status = :pending", values: map[string]any{":pending": portal.PartnerPending}}, used))
		p.Status = portal.PartnerActive
	} else {
		writes = append(writes, s.check(partnerKey(p.ID), expr{text: "#Status = :active AND #Epoch = :e", values: map[string]any{":active": portal.PartnerActive, ":e": partnerEpoch}},
			portal.Errorf(portal.CodeForbidden, "the partner account is not active")))
	}
	sess, sw := s.sessionWrite(a, partnerEpoch, now)
	writes = append(writes, sw, s.audit(p.ID, portal.Actor{Type: portal.ActorAdmin, ID: a.ID, Email: a.Email}, "invitation.accepted", "admin/"+a.ID,
		map[string]any{"invitationId": view.InvitationID, "role": a.Role, "activatedPartner": activate}, now))
	if err := s.transact(ctx, writes...); err != nil {
		return out, err
	}
	return Acceptance{Admin: a, Partner: p, Session: sess}, nil
}
