package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// ListAdmins returns a page of a partner's administrators, oldest first.
func (s *Store) ListAdmins(ctx context.Context, pid string, limit int, cursor string) (Page[portal.Admin], error) {
	items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: adminPrefix}, limit, cursor)
	if err != nil {
		return Page[portal.Admin]{}, err
	}
	page := Page[portal.Admin]{Items: make([]portal.Admin, 0, len(items)), Next: next}
	for _, it := range items {
		var a portal.Admin
		if err := unmarshal(it, &a); err != nil {
			return page, err
		}
		a.PartnerID = pid
		page.Items = append(page.Items, a)
	}
	return page, nil
}

var errAdminChanged = portal.Errorf(portal.CodeConflict, "the administrator changed meanwhile; reload and retry")

// ChangeRole gives target (as read during authentication) a new role. The
// administrator is updated only if its role is still the one read, and the
// partner's master count moves in the same transaction: demoting the only
// master fails with last_master, however many requests race.
func (s *Store) ChangeRole(ctx context.Context, actor portal.Actor, target portal.Admin, role portal.Role) (portal.Admin, error) {
	if target.Role == role {
		return target, nil
	}
	now := s.Now()
	pid := target.PartnerID
	writes := []write{
		s.update(adminKey(pid, target.ID), expr{text: "SET #Role = :new", values: map[string]any{":new": role}},
			expr{text: "#Role = :old", values: map[string]any{":old": target.Role}}, errAdminChanged),
	}
	switch {
	case target.Role == portal.RoleMaster:
		writes = append(writes, s.lastMasterGuard(pid))
	case role == portal.RoleMaster:
		writes = append(writes, s.update(partnerKey(pid), expr{text: "SET " + incMasters, values: map[string]any{":zero": 0, ":one": 1}}, expr{}, nil))
	}
	writes = append(writes, s.audit(pid, actor, "admin.role_changed", "admin/"+target.ID,
		map[string]any{"email": target.Email, "from": target.Role, "to": role}, now))
	if err := s.transact(ctx, writes...); err != nil {
		return target, err
	}
	target.Role = role
	return target, nil
}

// RemoveAdmin deletes an administrator and the account that owns its email,
// in one transaction; its sessions fail from the next request on because
// authentication no longer finds the administrator. Removing the only
// master fails with last_master.
func (s *Store) RemoveAdmin(ctx context.Context, actor portal.Actor, target portal.Admin) error {
	pid := target.PartnerID
	writes := []write{
		s.delete(adminKey(pid, target.ID), expr{text: "#Role = :old", values: map[string]any{":old": target.Role}}, errAdminChanged),
		s.delete(accountKey(target.Email), expr{text: "#AdminID = :aid", values: map[string]any{":aid": target.ID}}, errAdminChanged),
	}
	if target.Role == portal.RoleMaster {
		writes = append(writes, s.lastMasterGuard(pid))
	}
	writes = append(writes, s.audit(pid, actor, "admin.removed", "admin/"+target.ID,
		map[string]any{"email": target.Email, "role": target.Role}, s.Now()))
	return s.transact(ctx, writes...)
}

// IsSiteAdministrator reports whether email administers one of the
// partner's sites. Site administrators carry GSI2PK = siteAdminEmailPK, so
// this is one Query with Limit 1. GSI reads are eventually consistent: an
// email added as a site administrator a moment ago may not be seen yet.
func (s *Store) IsSiteAdministrator(ctx context.Context, pid, email string) (bool, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		IndexName:                 aws.String(gsi2),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrGSI2PK},
		ExpressionAttributeValues: mustVals(map[string]any{":pk": siteAdminEmailPK(pid, email)}),
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return false, err
	}
	return len(out.Items) > 0, nil
}

func mustVals(m map[string]any) map[string]types.AttributeValue {
	v, err := expr{values: m}.vals()
	if err != nil {
		panic(err)
	}
	return v
}

// InvitePortalAdmin stores a new portal invitation from an administrator:
// the invitation, its link token and the marker that allows one pending
// invitation per email and partner, with the audit entry and the
// idempotency record, in one transaction. It fails with already_exists when
// the email has an account or a live pending invitation of the partner, and
// with forbidden when the partner is no longer active.
func (s *Store) InvitePortalAdmin(ctx context.Context, inv portal.Invitation, actor portal.Actor, idem *Idempotency) error {
	writes := []write{s.check(partnerKey(inv.PartnerID), expr{text: "#Status = :active", values: map[string]any{":active": portal.PartnerActive}},
		portal.Errorf(portal.CodeForbidden, "the partner account is not active"))}
	iw, err := s.invitationWrites(inv, actor)
	if err != nil {
		return err
	}
	writes = append(writes, iw...)
	marker, err := s.inviteEmailWrite(inv, expr{text: "attribute_not_exists(PK) OR #Expiry <= :now", values: map[string]any{":now": inv.CreatedAt.Unix()}},
		portal.Errorf(portal.CodeAlreadyExists, "%s already has a pending invitation; resend it instead", inv.Email))
	if err != nil {
		return err
	}
	writes = append(writes, marker, s.audit(inv.PartnerID, actor, "invitation.created", "invitation/"+inv.ID,
		map[string]any{"email": inv.Email, "role": inv.Role}, inv.CreatedAt))
	if idem != nil {
		writes = append(writes, s.idempotencyWrite(*idem))
	}
	return s.transact(ctx, writes...)
}

func (s *Store) inviteEmailWrite(inv portal.Invitation, cond expr, failure error) (write, error) {
	it, err := marshal(inviteEmailKey(inv.PartnerID, inv.Email), inviteEmailItem{InvitationID: inv.ID, Expiry: inv.ExpiresAt.Unix()}, nil)
	if err != nil {
		return write{}, err
	}
	it[AttrTTL] = ttlAttr(inv.ExpiresAt)
	return s.put(it, cond, failure), nil
}

// ListInvitations returns a page of a partner's pending invitations (those
// past their expiry included: they can be resent), oldest first.
func (s *Store) ListInvitations(ctx context.Context, pid string, limit int, cursor string) (Page[portal.Invitation], error) {
	items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: invitationPrefix,
		bind: "pending", match: func(it item) bool {
			var inv struct{ Status portal.InvitationStatus }
			return unmarshal(it, &inv) == nil && inv.Status == portal.InvitationPending
		}}, limit, cursor)
	if err != nil {
		return Page[portal.Invitation]{}, err
	}
	page := Page[portal.Invitation]{Items: make([]portal.Invitation, 0, len(items)), Next: next}
	for _, it := range items {
		var inv portal.Invitation
		if err := unmarshal(it, &inv); err != nil {
			return page, err
		}
		inv.PartnerID = pid
		page.Items = append(page.Items, inv)
	}
	return page, nil
}

var errInvitationChanged = portal.Errorf(portal.CodeConflict, "the invitation is no longer pending or was resent meanwhile; reload and retry")

// ResendInvitation gives a pending invitation (as read during
// authentication) a new link token and a fresh 7-day expiry, in one
// transaction: the old token is voided, the new one stored, the delivery
// reset to pending. It returns the updated invitation.
func (s *Store) ResendInvitation(ctx context.Context, actor portal.Actor, inv portal.Invitation, newHash string) (portal.Invitation, error) {
	if inv.Status != portal.InvitationPending {
		return inv, portal.Errorf(portal.CodeConflict, "the invitation is %s and cannot be resent", inv.Status)
	}
	now := s.Now()
	old := inv.TokenHash
	inv.TokenHash, inv.ExpiresAt, inv.Delivery = newHash, now.Add(portal.InvitationTTL), portal.Delivery{Status: portal.DeliveryPending}
	// The one-pending-invitation marker must be this invitation's (or gone
	// with its TTL): a newer invitation to the same email keeps the marker.
	marker, err := s.inviteEmailWrite(inv, expr{text: "attribute_not_exists(PK) OR #InvitationID = :iid", values: map[string]any{":iid": inv.ID}},
		portal.Errorf(portal.CodeAlreadyExists, "another invitation to %s is pending", inv.Email))
	if err != nil {
		return inv, err
	}
	err = s.transact(ctx,
		s.update(invitationKey(inv.PartnerID, inv.ID), expr{text: "SET #TokenHash = :new, #ExpiresAt = :exp, #Delivery = :d",
			values: map[string]any{":new": newHash, ":exp": inv.ExpiresAt, ":d": inv.Delivery}},
			expr{text: "#Status = :pending AND #TokenHash = :old", values: map[string]any{":pending": portal.InvitationPending, ":old": old}}, errInvitationChanged),
		s.voidInvitationToken(inv, old),
		s.tokenWrite(newHash, tokenItem{Kind: string(portal.KindPortalAdmin), State: tokenLive,
			PartnerID: inv.PartnerID, InvitationID: inv.ID, Email: inv.Email, ExpiresAt: inv.ExpiresAt}),
		marker,
		s.audit(inv.PartnerID, actor, "invitation.resent", "invitation/"+inv.ID, map[string]any{"email": inv.Email, "role": inv.Role}, now),
	)
	return inv, err
}

// voidInvitationToken makes a portal invitation's link answer "replaced or
// revoked". It writes the whole token item, so it works even after the old
// token's TTL removed it.
func (s *Store) voidInvitationToken(inv portal.Invitation, hash string) write {
	return s.voidTokenWrite(hash, tokenItem{Kind: string(portal.KindPortalAdmin), PartnerID: inv.PartnerID,
		InvitationID: inv.ID, Email: inv.Email, ExpiresAt: inv.ExpiresAt})
}

// RevokeInvitation withdraws a pending invitation: it is marked revoked and
// its link voided, in one transaction. Revoking a revoked invitation is a
// no-op; an accepted one cannot be revoked (remove the administrator).
func (s *Store) RevokeInvitation(ctx context.Context, actor portal.Actor, inv portal.Invitation) error {
	switch inv.Status {
	case portal.InvitationRevoked:
		return nil
	case portal.InvitationAccepted:
		return portal.Errorf(portal.CodeConflict, "the invitation was accepted; remove the administrator instead")
	}
	return s.transact(ctx,
		s.update(invitationKey(inv.PartnerID, inv.ID), expr{text: "SET #Status = :revoked", values: map[string]any{":revoked": portal.InvitationRevoked}},
			expr{text: "#Status = :pending AND #TokenHash = :h", values: map[string]any{":pending": portal.InvitationPending, ":h": inv.TokenHash}}, errInvitationChanged),
		s.voidInvitationToken(inv, inv.TokenHash),
		s.delete(inviteEmailKey(inv.PartnerID, inv.Email), expr{}, nil),
		s.audit(inv.PartnerID, actor, "invitation.revoked", "invitation/"+inv.ID, map[string]any{"email": inv.Email, "role": inv.Role}, s.Now()),
	)
}

// UpdatePartnerSettings sets the partner's low-credit threshold (PATCH
// /v1/partner) and returns the partner as read during authentication with
// the change applied.
func (s *Store) UpdatePartnerSettings(ctx context.Context, actor portal.Actor, p portal.Partner, threshold int) (portal.Partner, error) {
	if p.LowCreditThresholdMonths == threshold {
		return p, nil
	}
	now := s.Now()
	err := s.transact(ctx,
		s.update(partnerKey(p.ID), expr{text: "SET #Threshold = :t, #UpdatedAt = :now, #Version = #Version + :one", values: map[string]any{":t": threshold, ":now": now, ":one": 1}},
			expr{text: "#Status = :active", values: map[string]any{":active": portal.PartnerActive}}, portal.Errorf(portal.CodeForbidden, "the partner account is not active")),
		s.audit(p.ID, actor, "partner.updated", "partner/"+p.ID,
			map[string]any{"lowCreditThresholdMonths": map[string]any{"from": p.LowCreditThresholdMonths, "to": threshold}}, now),
	)
	if err != nil {
		return p, err
	}
	p.LowCreditThresholdMonths, p.UpdatedAt, p.Version = threshold, now, p.Version+1
	return p, nil
}
