package dynamo

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"

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
	// ResetTokenHash is the hash of the one password-reset link that works;
	// "" when none. A newer request, a password change or a reset clears it.
	ResetTokenHash string
}

// throttleKey keeps the failed sign-ins of an email that has no account, so
// that an unknown email locks exactly like a known one and the lockout does
// not tell which addresses have accounts.
func throttleKey(email string) key { return key{"EMAIL#" + email, "THROTTLE"} }

type throttleItem struct {
	FailedLogins int
	LockedUntil  int64
}

// inviteEmailKey marks the one pending portal invitation of an email within
// a partner; the invite transaction refuses a second one while it is live.
func inviteEmailKey(pid, email string) key { return key{partnerPK(pid), "INVITEMAIL#" + email} }

type inviteEmailItem struct {
	InvitationID string
	Expiry       int64 // epoch seconds, comparable in conditions
}

// Lockout policy (SPEC §5): five straight failures lock the email for 15
// minutes; a success resets the count.
const (
	MaxFailedLogins = 5
	LockoutDuration = 15 * time.Minute
)

// PasswordResetTTL is how long a password-reset link works.
const PasswordResetTTL = time.Hour

// mastersAttr counts a partner's master administrators. Every write that
// adds, removes or re-roles a master changes it under a condition in the same
// transaction, which is what makes last-master protection race-free.
const incMasters = "#Masters = if_not_exists(#Masters, :zero) + :one"

var errLastMaster = portal.Errorf(portal.CodeLastMaster, "the partner must keep at least one master")

// lastMasterGuard is the partner update that removes one master, failing
// with last_master when it is the only one.
func (s *Store) lastMasterGuard(pid string) write {
	return s.update(partnerKey(pid), expr{text: "SET #Masters = #Masters - :one", values: map[string]any{":one": 1}},
		expr{text: "#Masters > :one", values: map[string]any{":one": 1}}, errLastMaster)
}

// SignIn is a started session with the administrator and partner it is for.
type SignIn struct {
	Admin   portal.Admin
	Partner portal.Partner
	Session Session
}

// Acceptance is the outcome of accepting a portal invitation.
type Acceptance = SignIn

// AcceptPortalInvitation turns a live portal invitation into an account, an
// administrator and a first session, in one transaction. Accepting a master
// invitation activates a pending partner; other roles cannot join a partner
// that is not active. Of two concurrent acceptances exactly one succeeds.
func (s *Store) AcceptPortalInvitation(ctx context.Context, token, name, passwordHash string) (Acceptance, error) {
	view, err := s.LookupInvitation(ctx, token)
	if err != nil {
		return Acceptance{}, err
	}
	return s.AcceptPortalInvitationView(ctx, view, token, name, passwordHash)
}

// AcceptPortalInvitationView is AcceptPortalInvitation for a caller that has
// already looked the token up.
func (s *Store) AcceptPortalInvitationView(ctx context.Context, view InvitationView, token, name, passwordHash string) (Acceptance, error) {
	var out Acceptance
	if view.Kind != portal.KindPortalAdmin {
		return out, portal.NotFound("invitation")
	}
	hash := portal.HashToken(token)
	pid := view.PartnerID
	activate := view.PartnerStatus == portal.PartnerPending && view.Role == portal.RoleMaster
	if view.PartnerStatus != portal.PartnerActive && !activate {
		return out, portal.Errorf(portal.CodeForbidden, "the partner account is %s; only a master invitation can activate it", view.PartnerStatus)
	}
	now := s.Now()
	a := portal.Admin{ID: portal.NewID(now), PartnerID: pid, Email: view.Email, Name: name, Role: view.Role, CreatedAt: now, LastLoginAt: &now, SessionEpoch: 1}
	adminIt, err := marshal(adminKey(pid, a.ID), a, nil)
	if err != nil {
		return out, err
	}
	accIt, err := marshal(accountKey(a.Email), accountItem{Email: a.Email, PartnerID: pid, AdminID: a.ID, PasswordHash: passwordHash}, nil)
	if err != nil {
		return out, err
	}
	used := portal.Errorf(portal.CodeInvitationUsed, "this invitation has already been accepted")
	writes := []write{
		s.update(tokenKey(hash), expr{text: "SET #State = :used", values: map[string]any{":used": tokenUsed}},
			expr{text: "#State = :live", values: map[string]any{":live": tokenLive}}, used),
		s.update(invitationKey(pid, view.InvitationID), expr{text: "SET #Status = :acc", values: map[string]any{":acc": portal.InvitationAccepted}},
			expr{text: "#Status = :pending AND #TokenHash = :h", values: map[string]any{":pending": portal.InvitationPending, ":h": hash}}, used),
		s.put(accIt, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeAlreadyExists, "%s already has a portal account", a.Email)),
		s.put(adminIt, expr{text: "attribute_not_exists(PK)"}, nil),
		s.delete(inviteEmailKey(pid, a.Email), expr{}, nil),
	}
	// One update of the partner item: activation and/or the master count,
	// conditioned on the state the caller saw.
	set := "SET #UpdatedAt = :now"
	vals := map[string]any{":now": now}
	if activate {
		set += ", #Status = :active, #Version = #Version + :one"
		vals[":active"], vals[":one"] = portal.PartnerActive, 1
	}
	if a.Role == portal.RoleMaster {
		set += ", " + incMasters
		vals[":zero"], vals[":one"] = 0, 1
	}
	cond := expr{text: "#Status = :active AND #Epoch = :e", values: map[string]any{":active": portal.PartnerActive, ":e": view.PartnerEpoch}}
	failure := error(portal.Errorf(portal.CodeForbidden, "the partner account is not active"))
	if activate {
		cond, failure = expr{text: "#Status = :pending", values: map[string]any{":pending": portal.PartnerPending}}, used
	}
	if !activate && a.Role != portal.RoleMaster {
		writes = append(writes, s.check(partnerKey(pid), cond, failure))
	} else {
		writes = append(writes, s.update(partnerKey(pid), expr{text: set, values: vals}, cond, failure))
	}
	sess, sw := s.sessionWrite(a, view.PartnerEpoch, now)
	writes = append(writes, sw, s.audit(pid, portal.Actor{Type: portal.ActorAdmin, ID: a.ID, Email: a.Email}, "invitation.accepted", "admin/"+a.ID,
		map[string]any{"invitationId": view.InvitationID, "role": a.Role, "activatedPartner": activate}, now))
	if err := s.transact(ctx, writes...); err != nil {
		return out, err
	}
	// Only the partner's identity is returned: reading it again would cost a
	// round trip that no caller needs.
	p := portal.Partner{ID: pid, Name: view.PartnerName, Status: portal.PartnerActive, SessionEpoch: view.PartnerEpoch}
	return Acceptance{Admin: a, Partner: p, Session: sess}, nil
}

// Credentials is what sign-in knows about an email before the password is
// checked. Found is false for an email without an account; its lockout state
// is then the throttle record's.
type Credentials struct {
	Email        string
	Found        bool
	PartnerID    string
	AdminID      string
	PasswordHash string
	failed       int
	lockedUntil  int64
}

// LockedFor returns how long the email stays locked, or 0.
func (c Credentials) LockedFor(now time.Time) time.Duration {
	until := time.Unix(c.lockedUntil, 0)
	if c.lockedUntil == 0 || !now.Before(until) {
		return 0
	}
	return until.Sub(now)
}

// LockedError is the 429 for a locked email, with Retry-After in seconds.
func LockedError(d time.Duration) error {
	return &portal.Error{Code: portal.CodeAccountLocked, RetryAfter: int(math.Ceil(d.Seconds())),
		Message: "too many failed sign-ins; try again later or reset your password"}
}

// GetCredentials reads an email's account and throttle records in one round
// trip, whether or not the account exists.
func (s *Store) GetCredentials(ctx context.Context, email string) (Credentials, error) {
	c := Credentials{Email: email}
	items, err := s.batchGet(ctx, accountKey(email), throttleKey(email))
	if err != nil {
		return c, err
	}
	if items[0] != nil {
		var acc accountItem
		if err := unmarshal(items[0], &acc); err != nil {
			return c, err
		}
		c.Found, c.PartnerID, c.AdminID, c.PasswordHash = true, acc.PartnerID, acc.AdminID, acc.PasswordHash
		c.failed, c.lockedUntil = acc.FailedLogins, acc.LockedUntil
		return c, nil
	}
	if items[1] != nil {
		var t throttleItem
		if err := unmarshal(items[1], &t); err != nil {
			return c, err
		}
		c.failed, c.lockedUntil = t.FailedLogins, t.LockedUntil
	}
	return c, nil
}

// RecordFailedLogin counts a failed sign-in for c (read by GetCredentials)
// and returns account_locked when this failure locks the email. The write
// is conditioned on the count it read, so concurrent failures are never
// lost: on contention it re-reads and tries again.
func (s *Store) RecordFailedLogin(ctx context.Context, c Credentials) error {
	for attempt := 0; ; attempt++ {
		now := s.Now()
		failed, until := c.failed+1, int64(0)
		if c.lockedUntil != 0 && !now.Before(time.Unix(c.lockedUntil, 0)) {
			failed = 1 // an expired lock starts a fresh count
		}
		locks := failed >= MaxFailedLogins
		if locks {
			failed, until = 0, now.Add(LockoutDuration).Unix()
		}
		upd := expr{text: "SET #FailedLogins = :n, #LockedUntil = :u", values: map[string]any{":n": failed, ":u": until}}
		var w []write
		if c.Found {
			w = append(w, s.update(accountKey(c.Email), upd,
				expr{text: "#FailedLogins = :prev AND #LockedUntil = :prevLock AND #AdminID = :aid", values: map[string]any{":prev": c.failed, ":prevLock": c.lockedUntil, ":aid": c.AdminID}}, errStale))
			if locks {
				w = append(w, s.audit(c.PartnerID, portal.Actor{Type: portal.ActorAdmin, ID: c.AdminID, Email: c.Email}, "account.locked", "admin/"+c.AdminID,
					map[string]any{"until": time.Unix(until, 0).UTC(), "failedSignIns": MaxFailedLogins}, now))
			}
		} else {
			upd.text += ", #ttl = :ttl"
			upd.values[":ttl"] = now.Add(LockoutDuration + time.Hour).Unix()
			w = append(w, s.update(throttleKey(c.Email), upd,
				expr{text: "attribute_not_exists(PK) OR (#FailedLogins = :prev AND #LockedUntil = :prevLock)", values: map[string]any{":prev": c.failed, ":prevLock": c.lockedUntil}}, errStale))
		}
		err := s.transact(ctx, w...)
		switch {
		case err == nil && locks:
			return LockedError(LockoutDuration)
		case err == nil:
			return nil
		case (err != errStale && !errors.Is(err, ErrContention)) || attempt == MaxFailedLogins:
			// Each lost round is another failure recorded; after
			// MaxFailedLogins of them the re-read below finds the lock.
			// So this bound lets every concurrent failure be counted or
			// see the lock, and ends the loop only on contention that
			// records nothing.
			return err
		}
		if c, err = s.GetCredentials(ctx, c.Email); err != nil {
			return err
		}
		if d := c.LockedFor(s.Now()); d > 0 {
			return LockedError(d)
		}
	}
}

// Login starts a session for the account c whose password the caller has
// verified: it reads the administrator and the partner, refuses a partner
// that is not active, and in one transaction stores the session, resets the
// failure count and stamps the sign-in time.
func (s *Store) Login(ctx context.Context, c Credentials) (SignIn, error) {
	var out SignIn
	items, err := s.batchGet(ctx, adminKey(c.PartnerID, c.AdminID), partnerKey(c.PartnerID))
	if err != nil {
		return out, err
	}
	if items[0] == nil || items[1] == nil {
		return out, errUnauthenticated
	}
	var a portal.Admin
	if err := unmarshal(items[0], &a); err != nil {
		return out, err
	}
	a.PartnerID = c.PartnerID
	p, err := decodePartner(items[1], s.rates)
	if err != nil {
		return out, err
	}
	if p.Status != portal.PartnerActive {
		return out, portal.Errorf(portal.CodeForbidden, "the partner account is %s: nobody can sign in", p.Status)
	}
	now := s.Now()
	changed := portal.Errorf(portal.CodeConflict, "the account changed during sign-in; try again")
	sess, sw := s.sessionWrite(a, p.Epoch(), now)
	err = s.transact(ctx,
		sw,
		s.update(accountKey(c.Email), expr{text: "SET #FailedLogins = :zero, #LockedUntil = :zero", values: map[string]any{":zero": 0}},
			expr{text: "#PasswordHash = :h AND #AdminID = :aid", values: map[string]any{":h": c.PasswordHash, ":aid": a.ID}}, changed),
		s.update(adminKey(p.ID, a.ID), expr{text: "SET #LastLoginAt = :now", values: map[string]any{":now": now}},
			expr{text: "#SessionEpoch = :e", values: map[string]any{":e": a.SessionEpoch}}, changed),
		s.check(partnerKey(p.ID), expr{text: "#Status = :active AND #Epoch = :e", values: map[string]any{":active": portal.PartnerActive, ":e": p.Epoch()}},
			portal.Errorf(portal.CodeForbidden, "the partner account is not active")),
		s.audit(p.ID, portal.Actor{Type: portal.ActorAdmin, ID: a.ID, Email: a.Email}, "session.created", "admin/"+a.ID, map[string]any{"expiresAt": sess.ExpiresAt}, now),
	)
	if err != nil {
		return out, err
	}
	a.LastLoginAt = &now
	return SignIn{Admin: a, Partner: p, Session: sess}, nil
}

// EndSession ends the session of a bearer token (logout) and records it, in
// one transaction. The delete is conditioned on the session existing and
// belonging to the ids the token names, so a made-up token writes nothing;
// a session that is already gone is not an error.
func (s *Store) EndSession(ctx context.Context, token string) error {
	pid, aid, ok := parseSessionToken(token)
	if !ok {
		return nil
	}
	now := s.Now()
	err := s.transact(ctx,
		s.delete(sessionKey(portal.HashToken(token)), expr{text: "#PartnerID = :pid AND #AdminID = :aid", values: map[string]any{":pid": pid, ":aid": aid}}, errStale),
		s.audit(pid, portal.Actor{Type: portal.ActorAdmin, ID: aid}, "session.ended", "admin/"+aid, map[string]any{"reason": "logout"}, now),
	)
	if err == errStale {
		return nil
	}
	return err
}

// GetAccountPassword returns the stored password hash of the principal's
// account, for checking the current password before a change.
func (s *Store) GetAccountPassword(ctx context.Context, a portal.Admin) (Credentials, error) {
	c, err := s.GetCredentials(ctx, a.Email)
	if err != nil {
		return c, err
	}
	if !c.Found || c.AdminID != a.ID {
		return c, errUnauthenticated
	}
	return c, nil
}

// ChangeAccount applies PATCH /v1/me in one transaction. A non-empty name
// renames the administrator. A non-empty newHash replaces the password
// (c is the account as read before checking the current password): the
// administrator's session epoch goes up, which ends every other session of
// the account, and the caller's own session moves to the new epoch in the
// same transaction, so its token keeps working (SPEC §5).
func (s *Store) ChangeAccount(ctx context.Context, p portal.Principal, name string, c Credentials, newHash string) (portal.Admin, error) {
	a := p.Admin
	now := s.Now()
	changed := portal.Errorf(portal.CodeConflict, "the account changed meanwhile; sign in again")
	set := []string{}
	vals := map[string]any{":e": a.SessionEpoch}
	details := map[string]any{}
	if name != "" {
		set = append(set, "#Name = :name")
		vals[":name"] = name
		details["name"] = map[string]any{"from": a.Name, "to": name}
		a.Name = name
	}
	var writes []write
	if newHash != "" {
		set = append(set, "#SessionEpoch = #SessionEpoch + :one")
		vals[":one"] = 1
		a.SessionEpoch++
		details["password"] = "changed"
		writes = append(writes,
			s.update(accountKey(a.Email), expr{text: "SET #PasswordHash = :new, #ResetTokenHash = :none, #FailedLogins = :zero, #LockedUntil = :zero",
				values: map[string]any{":new": newHash, ":none": "", ":zero": 0}},
				expr{text: "#PasswordHash = :old AND #AdminID = :aid", values: map[string]any{":old": c.PasswordHash, ":aid": a.ID}}, changed),
			s.update(sessionKey(p.SessionID), expr{text: "SET #AdminEpoch = :newEpoch", values: map[string]any{":newEpoch": a.SessionEpoch}},
				expr{text: "#AdminEpoch = :oldEpoch", values: map[string]any{":oldEpoch": p.Admin.SessionEpoch}}, changed),
		)
	}
	if len(set) == 0 {
		return a, nil
	}
	writes = append(writes,
		s.update(adminKey(a.PartnerID, a.ID), expr{text: "SET " + strings.Join(set, ", "), values: vals},
			expr{text: "#SessionEpoch = :e"}, changed),
		s.audit(a.PartnerID, p.Actor(), "admin.self_updated", "admin/"+a.ID, details, now))
	if err := s.transact(ctx, writes...); err != nil {
		return p.Admin, err
	}
	return a, nil
}

// resetTokenItem is a password-reset link, stored under tokenKey like the
// invitation links (Kind "password_reset"), so the two kinds can never be
// confused: each reader checks Kind.
type resetTokenItem struct {
	Kind      string
	State     tokenState
	PartnerID string
	AdminID   string
	Email     string
	ExpiresAt time.Time
}

const kindPasswordReset = "password_reset"

// StartPasswordReset stores a one-hour reset link for the email's account
// and makes it the only one that works. It reports false, having written
// nothing, when the email has no account.
func (s *Store) StartPasswordReset(ctx context.Context, email, tokenHash string) (bool, time.Time, error) {
	c, err := s.GetCredentials(ctx, email)
	if err != nil || !c.Found {
		return false, time.Time{}, err
	}
	now := s.Now()
	t := resetTokenItem{Kind: kindPasswordReset, State: tokenLive, PartnerID: c.PartnerID, AdminID: c.AdminID, Email: email, ExpiresAt: now.Add(PasswordResetTTL)}
	it, err := marshal(tokenKey(tokenHash), t, nil)
	if err != nil {
		return false, t.ExpiresAt, err
	}
	it[AttrTTL] = ttlAttr(t.ExpiresAt.Add(tokenRetention))
	err = s.transact(ctx,
		s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeConflict, "token collision")),
		s.update(accountKey(email), expr{text: "SET #ResetTokenHash = :h, #ResetRequestedAt = :now", values: map[string]any{":h": tokenHash, ":now": now.Unix()}},
			expr{text: "#AdminID = :aid AND (attribute_not_exists(#ResetRequestedAt) OR #ResetRequestedAt <= :cutoff)",
				values: map[string]any{":aid": c.AdminID, ":cutoff": now.Add(-PasswordResetInterval).Unix()}}, errStale),
		s.audit(c.PartnerID, portal.Actor{Type: portal.ActorAdmin, ID: c.AdminID, Email: email}, "password.reset_requested", "admin/"+c.AdminID, map[string]any{"linkExpiresAt": t.ExpiresAt}, now),
	)
	if err == errStale {
		// The account went away meanwhile, or a link was mailed less than
		// PasswordResetInterval ago: mail nothing, answer as always.
		return false, t.ExpiresAt, nil
	}
	return err == nil, t.ExpiresAt, err
}

// PasswordResetInterval is the least time between two reset mails to one
// account, so the public reset route cannot be used to flood a mailbox. The
// route answers 202 either way, revealing nothing.
const PasswordResetInterval = time.Minute

// PasswordReset is a live reset link.
type PasswordReset struct {
	Email     string
	PartnerID string
	AdminID   string
	hash      string
}

func invalidResetLink(msg string) error {
	return &portal.Error{Code: portal.CodeValidation, Message: "one or more fields are invalid",
		Fields: []portal.FieldError{{Field: "token", Message: msg}}}
}

// LookupPasswordReset resolves a reset token; an unknown, used, replaced or
// expired link is a validation error on the token field.
func (s *Store) LookupPasswordReset(ctx context.Context, token string) (PasswordReset, error) {
	hash := portal.HashToken(token)
	var t resetTokenItem
	found, err := s.get(ctx, tokenKey(hash), &t)
	if err != nil {
		return PasswordReset{}, err
	}
	switch {
	case !found || t.Kind != kindPasswordReset:
		return PasswordReset{}, invalidResetLink("is not a valid password-reset link")
	case t.State != tokenLive:
		return PasswordReset{}, invalidResetLink("this link has already been used; ask for a new one")
	case !s.Now().Before(t.ExpiresAt):
		return PasswordReset{}, invalidResetLink("this link has expired; ask for a new one")
	}
	return PasswordReset{Email: t.Email, PartnerID: t.PartnerID, AdminID: t.AdminID, hash: hash}, nil
}

// ResetPassword sets a new password through a live reset link, in one
// transaction: the link is spent, the account gets the new hash and is
// unlocked, and the administrator's session epoch goes up, ending every
// session. A link that a newer request replaced fails.
func (s *Store) ResetPassword(ctx context.Context, r PasswordReset, newHash string) error {
	now := s.Now()
	stale := invalidResetLink("this link is no longer valid; ask for a new one")
	return s.transact(ctx,
		s.update(tokenKey(r.hash), expr{text: "SET #State = :used", values: map[string]any{":used": tokenUsed}},
			expr{text: "#State = :live", values: map[string]any{":live": tokenLive}}, stale),
		s.update(accountKey(r.Email), expr{text: "SET #PasswordHash = :new, #ResetTokenHash = :none, #FailedLogins = :zero, #LockedUntil = :zero",
			values: map[string]any{":new": newHash, ":none": "", ":zero": 0}},
			expr{text: "#ResetTokenHash = :h AND #AdminID = :aid", values: map[string]any{":h": r.hash, ":aid": r.AdminID}}, stale),
		s.update(adminKey(r.PartnerID, r.AdminID), expr{text: "SET #SessionEpoch = #SessionEpoch + :one", values: map[string]any{":one": 1}},
			expr{text: "attribute_exists(PK)"}, stale),
		s.audit(r.PartnerID, portal.Actor{Type: portal.ActorAdmin, ID: r.AdminID, Email: r.Email}, "password.reset", "admin/"+r.AdminID, map[string]any{"sessionsEnded": true}, now),
	)
}
