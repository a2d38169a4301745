package dynamo

import (
	"context"
	"strings"
	"time"

	"partnerportal/shared/portal"
)

// SessionTTL is how long a bearer token lives (SPEC §5).
const SessionTTL = 12 * time.Hour

// sessionItem is a signed-in session, stored under the hash of its token.
type sessionItem struct {
	PartnerID    string
	AdminID      string
	AdminEpoch   int64
	PartnerEpoch int64
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// Tokens are "<partnerId>.<adminId>.<secret>": the ids let authentication
// read the session, the administrator and the partner in one BatchGetItem;
// only the SHA-256 of the whole token is stored.
func newSessionToken(pid, aid string) (token, hash string) {
	secret, _ := portal.NewToken()
	token = pid + "." + aid + "." + secret
	return token, portal.HashToken(token)
}

func parseSessionToken(token string) (pid, aid string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || !portal.ValidID(parts[0]) || !portal.ValidID(parts[1]) || len(parts[2]) != 43 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// Session is a new bearer token and when it expires.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// sessionWrite starts a session for an administrator.
func (s *Store) sessionWrite(a portal.Admin, partnerEpoch int64, now time.Time) (Session, write) {
	token, hash := newSessionToken(a.PartnerID, a.ID)
	si := sessionItem{PartnerID: a.PartnerID, AdminID: a.ID, AdminEpoch: a.SessionEpoch, PartnerEpoch: partnerEpoch, CreatedAt: now, ExpiresAt: now.Add(SessionTTL)}
	it, err := marshal(sessionKey(hash), si, nil)
	if err != nil {
		return Session{}, write{err: err}
	}
	it[AttrTTL] = ttlAttr(si.ExpiresAt)
	return Session{Token: token, ExpiresAt: si.ExpiresAt}, s.put(it, expr{}, nil)
}

// AuthOptions asks Authenticate to read more items in the same round trip.
type AuthOptions struct {
	// SiteID, when set and well formed, loads that site of the caller's partner.
	SiteID string
	// IdempotencyRoute and IdempotencyKey, when set, load a stored response.
	IdempotencyRoute string
	IdempotencyKey   string
	// AdminID and InvitationID, when set and well formed, load that
	// administrator or portal invitation of the caller's partner.
	AdminID      string
	InvitationID string
	// Child, with SiteID, loads one item under that site (a note or a site
	// administrator); read it with Auth.Note or Auth.SiteAdmin.
	Child SiteChild
}

// Auth is an authenticated caller and what AuthOptions asked for.
type Auth struct {
	Principal portal.Principal
	// Site is nil when not asked for or absent.
	Site *portal.Site
	// Idempotency is nil when not asked for, absent or expired.
	Idempotency *Idempotency
	// Admin and Invitation are nil when not asked for or absent.
	Admin      *portal.Admin
	Invitation *portal.Invitation
	// child is the raw item AuthOptions.Child asked for; nil when absent.
	child item
}

var errUnauthenticated = portal.Errorf(portal.CodeUnauthenticated, "the bearer token is missing, invalid or expired")

// Authenticate resolves a bearer token with one BatchGetItem: the session,
// the administrator and the partner, plus whatever opts asks for. A token
// dies on expiry, logout, a password change or reset (administrator epoch),
// removal (administrator gone) and suspension (partner epoch).
func (s *Store) Authenticate(ctx context.Context, token string, opts AuthOptions) (Auth, error) {
	var a Auth
	pid, aid, ok := parseSessionToken(token)
	if !ok {
		return a, errUnauthenticated
	}
	hash := portal.HashToken(token)
	keys := []key{sessionKey(hash), adminKey(pid, aid), partnerKey(pid)}
	siteAt, idemAt, childAt := -1, -1, -1
	if opts.SiteID != "" && portal.ValidID(opts.SiteID) {
		siteAt = len(keys)
		keys = append(keys, siteKey(pid, opts.SiteID))
		if k, ok := opts.Child.key(pid, opts.SiteID); ok {
			childAt = len(keys)
			keys = append(keys, k)
		}
	}
	if opts.IdempotencyKey != "" {
		idemAt = len(keys)
		keys = append(keys, idempotencyKey(pid, opts.IdempotencyRoute, opts.IdempotencyKey))
	}
	adminAt, invAt := -1, -1
	if opts.AdminID != "" && portal.ValidID(opts.AdminID) {
		adminAt = len(keys)
		keys = append(keys, adminKey(pid, opts.AdminID))
	}
	if opts.InvitationID != "" && portal.ValidID(opts.InvitationID) {
		invAt = len(keys)
		keys = append(keys, invitationKey(pid, opts.InvitationID))
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return a, err
	}
	now := s.Now()
	var sess sessionItem
	var admin portal.Admin
	var partner partnerItem
	if items[0] == nil || items[1] == nil || items[2] == nil {
		return a, errUnauthenticated
	}
	if err := unmarshal(items[0], &sess); err != nil {
		return a, err
	}
	if err := unmarshal(items[1], &admin); err != nil {
		return a, err
	}
	if err := unmarshal(items[2], &partner); err != nil {
		return a, err
	}
	if sess.PartnerID != pid || sess.AdminID != aid || !now.Before(sess.ExpiresAt) || sess.AdminEpoch != admin.SessionEpoch {
		return a, errUnauthenticated
	}
	// While the partner is suspended its sessions answer 403 (SPEC §5's
	// "partner pending or suspended"); suspension also moved the partner's
	// epoch, so after a restore they are dead (401) and everyone signs in
	// again.
	if partner.Status != portal.PartnerActive {
		return a, portal.Errorf(portal.CodeForbidden, "the partner account is %s", partner.Status)
	}
	if sess.PartnerEpoch != partner.Epoch {
		return a, errUnauthenticated
	}
	admin.PartnerID = pid
	a.Principal = portal.Principal{Admin: admin, Partner: partner.domain(s.rates), SessionID: hash}
	if siteAt >= 0 && items[siteAt] != nil {
		site, err := decodeSite(items[siteAt], s.rates)
		if err != nil {
			return a, err
		}
		a.Site = &site
	}
	if childAt >= 0 && a.Site != nil {
		a.child = items[childAt]
	}
	if idemAt >= 0 && items[idemAt] != nil {
		var r Idempotency
		if err := unmarshal(items[idemAt], &r); err != nil {
			return a, err
		}
		if now.Before(r.ExpiresAt) {
			a.Idempotency = &r
		}
	}
	if adminAt >= 0 && items[adminAt] != nil {
		var t portal.Admin
		if err := unmarshal(items[adminAt], &t); err != nil {
			return a, err
		}
		t.PartnerID = pid
		a.Admin = &t
	}
	if invAt >= 0 && items[invAt] != nil {
		var inv portal.Invitation
		if err := unmarshal(items[invAt], &inv); err != nil {
			return a, err
		}
		inv.PartnerID = pid
		a.Invitation = &inv
	}
	return a, nil
}
