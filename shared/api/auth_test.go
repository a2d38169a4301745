package api_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

const newPassword = "a-much-Better-passphrase"

func TestLoginAndLogout(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")

	env.Counter.Reset()
	res := env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": "  " + strings.ToUpper(p.MasterEmail), "password": portaltest.Password})
	wantStatus(t, "login", res, 200, "")
	var out struct {
		Token     string
		ExpiresAt time.Time
		Admin     portal.Admin
	}
	res.Decode(t, &out)
	if out.Admin.Email != p.MasterEmail || out.Admin.Role != portal.RoleMaster || out.Admin.LastLoginAt == nil {
		t.Errorf("login admin = %+v", out.Admin)
	}
	if want := env.Clock.Now().Add(12 * time.Hour); !out.ExpiresAt.Equal(want) {
		t.Errorf("expiresAt = %v, want %v", out.ExpiresAt, want)
	}
	if n := env.Counter.Total(); n != 3 {
		t.Errorf("login: %d round trips, want 3 (credentials, admin+partner, transaction)", n)
	}
	if got := me(t, env, out.Token); got.ID != out.Admin.ID {
		t.Fatalf("me = %+v", got)
	}

	env.Counter.Reset()
	wantStatus(t, "logout", env.Do(t, "POST", "/v1/auth/logout", nil, portaltest.Bearer(out.Token)...), 204, "")
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("logout: %d round trips, want 1", n)
	}
	wantStatus(t, "after logout", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(out.Token)...), 401, "unauthenticated")
	wantStatus(t, "logout again", env.Do(t, "POST", "/v1/auth/logout", nil, portaltest.Bearer(out.Token)...), 204, "")
	wantStatus(t, "logout without token", env.Do(t, "POST", "/v1/auth/logout", nil), 401, "unauthenticated")
	// The other session (the fixture's) is untouched.
	me(t, env, p.MasterToken)
}

func TestLoginSameAnswerForUnknownEmailAndWrongPassword(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")

	env.Counter.Reset()
	wrong := env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": "not-the-password"})
	wrongOps := env.Counter.Ops()
	env.Counter.Reset()
	unknown := env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": "nobody@acme.example", "password": "not-the-password"})
	unknownOps := env.Counter.Ops()

	wantStatus(t, "wrong password", wrong, 401, "unauthenticated")
	wantStatus(t, "unknown email", unknown, 401, "unauthenticated")
	if wrong.Body != unknown.Body {
		t.Errorf("bodies differ:\n%s\n%s", wrong.Body, unknown.Body)
	}
	// Same storage work on both paths (the argon2id work is the same by
	// construction: the dummy hash has Default's parameters).
	if len(wrongOps) != len(unknownOps) || wrongOps["BatchGetItem"] != unknownOps["BatchGetItem"] || wrongOps["TransactWriteItems"] != unknownOps["TransactWriteItems"] {
		t.Errorf("round trips differ: wrong password %v, unknown email %v", wrongOps, unknownOps)
	}
	wantStatus(t, "missing fields", env.Do(t, "POST", "/v1/auth/login", map[string]any{}), 422, "validation_failed")
}

func TestLockout(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	fail := func(email string) *portaltest.Response {
		return env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": email, "password": "wrong-password!"})
	}
	for i := 1; i < 5; i++ {
		wantStatus(t, "failure", fail(p.MasterEmail), 401, "unauthenticated")
	}
	// A success resets the count: four more failures do not lock.
	login(t, env, p.MasterEmail, portaltest.Password)
	for i := 1; i < 5; i++ {
		wantStatus(t, "failure after reset", fail(p.MasterEmail), 401, "unauthenticated")
	}
	res := fail(p.MasterEmail)
	wantStatus(t, "fifth straight failure", res, 429, "account_locked")
	if res.Headers["retry-after"] != "900" {
		t.Errorf("Retry-After = %q, want 900", res.Headers["retry-after"])
	}
	// Locked: even the right password is refused, with the time left.
	env.Clock.Advance(10 * time.Minute)
	res = env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": portaltest.Password})
	wantStatus(t, "right password while locked", res, 429, "account_locked")
	if res.Headers["retry-after"] != "300" {
		t.Errorf("Retry-After = %q, want 300", res.Headers["retry-after"])
	}
	// Sessions already open keep working: the lockout guards sign-in only.
	me(t, env, p.MasterToken)
	env.Clock.Advance(5 * time.Minute)
	login(t, env, p.MasterEmail, portaltest.Password)

	// An unknown email locks the same way, so a 429 does not reveal accounts.
	for i := 1; i < 5; i++ {
		wantStatus(t, "unknown failure", fail("ghost@acme.example"), 401, "unauthenticated")
	}
	wantStatus(t, "unknown fifth failure", fail("ghost@acme.example"), 429, "account_locked")
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	var wg sync.WaitGroup
	statuses := make([]int, 5)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": "wrong-password!"}).Status
		}()
	}
	wg.Wait()
	locked := 0
	for _, s := range statuses {
		if s == 429 {
			locked++
		} else if s != 401 {
			t.Errorf("status %d", s)
		}
	}
	if locked == 0 {
		t.Errorf("five concurrent failures did not lock the account: %v", statuses)
	}
	res := env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": portaltest.Password})
	wantStatus(t, "after five concurrent failures", res, 429, "account_locked")
}

func TestPendingAndSuspendedPartnersCannotSignIn(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	opTok, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	plat := []string{"authorization", portaltest.PlatformAuth}

	wantStatus(t, "suspend", env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "suspended"}, plat...), 200, "")
	// Existing sessions stop at once (403 while the partner is suspended)...
	wantStatus(t, "master session after suspension", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(p.MasterToken)...), 403, "forbidden")
	wantStatus(t, "operator session after suspension", env.Do(t, "GET", "/v1/partner", nil, portaltest.Bearer(opTok)...), 403, "forbidden")
	// ...and nobody signs in (the right password gets 403, a wrong one 401).
	wantStatus(t, "sign-in while suspended", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": opEmail, "password": portaltest.Password}), 403, "forbidden")
	wantStatus(t, "wrong password while suspended", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": opEmail, "password": "wrong-password!"}), 401, "unauthenticated")

	wantStatus(t, "restore", env.Do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "active"}, plat...), 200, "")
	// Restoring does not revive old sessions; signing in again works.
	wantStatus(t, "old session after restore", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(opTok)...), 401, "unauthenticated")
	login(t, env, opEmail, portaltest.Password)

	// A pending partner: its master has not accepted yet, so there is no
	// account to sign in with, and a non-master invitation cannot activate it.
	res := env.Do(t, "POST", "/v1/platform/partners", map[string]any{"name": "Pending Co", "country": "DE", "masterEmail": "boss@pending.example"}, plat...)
	wantStatus(t, "create pending partner", res, 201, "")
	wantStatus(t, "login before activation", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": "boss@pending.example", "password": portaltest.Password}), 401, "unauthenticated")
}

func TestPasswordReset(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	other := login(t, env, p.MasterEmail, portaltest.Password)

	wantStatus(t, "unknown email", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": "nobody@acme.example"}), 202, "")
	if n := len(env.Mail.Messages("nobody@acme.example")); n != 0 {
		t.Fatalf("%d mails to an unknown email", n)
	}
	wantStatus(t, "bad email", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": "nope"}), 422, "validation_failed")

	wantStatus(t, "request", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail}), 202, "")
	first := env.Mail.LinkToken(t, p.MasterEmail)
	if !strings.Contains(env.Mail.Messages(p.MasterEmail)[1].Text, portaltest.PublicURL+"/password-reset/"+first) {
		t.Fatalf("reset mail lacks the link: %s", env.Mail.Messages(p.MasterEmail)[1].Text)
	}
	env.Clock.Advance(dynamo.PasswordResetInterval)
	wantStatus(t, "second request", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail}), 202, "")
	link := env.Mail.LinkToken(t, p.MasterEmail)

	confirm := func(token, pw string) *portaltest.Response {
		return env.Do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": token, "password": pw})
	}
	// Only the newest link works.
	wantStatus(t, "superseded link", confirm(first, newPassword), 422, "validation_failed")
	// The policy applies: the email's local part is refused.
	local := strings.SplitN(p.MasterEmail, "@", 2)[0]
	wantStatus(t, "password with local part", confirm(link, "xx"+strings.ToUpper(local)+"xxxxxxxx"), 422, "validation_failed")
	wantStatus(t, "short password", confirm(link, "short"), 422, "validation_failed")

	env.Counter.Reset()
	wantStatus(t, "confirm", confirm(link, newPassword), 204, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("confirm: %d round trips, want 2", n)
	}
	wantStatus(t, "reuse", confirm(link, newPassword+"2"), 422, "validation_failed")
	// Every session of the account ended.
	for _, tok := range []string{p.MasterToken, other} {
		wantStatus(t, "session after reset", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(tok)...), 401, "unauthenticated")
	}
	wantStatus(t, "old password", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": portaltest.Password}), 401, "unauthenticated")
	login(t, env, p.MasterEmail, newPassword)

	// Links expire after an hour.
	wantStatus(t, "request", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail}), 202, "")
	link = env.Mail.LinkToken(t, p.MasterEmail)
	env.Clock.Advance(time.Hour)
	wantStatus(t, "expired link", confirm(link, newPassword+"3"), 422, "validation_failed")
	wantStatus(t, "unknown link", confirm("x", newPassword), 422, "validation_failed")
}

func TestResetUnlocks(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	for i := 0; i < 5; i++ {
		env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": "wrong-password!"})
	}
	wantStatus(t, "locked", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": portaltest.Password}), 429, "account_locked")
	env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail})
	wantStatus(t, "confirm", env.Do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": env.Mail.LinkToken(t, p.MasterEmail), "password": newPassword}), 204, "")
	login(t, env, p.MasterEmail, newPassword)
}

func TestPatchMe(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	tok, email := env.NewAdmin(t, p, portal.RoleOperator)
	second := login(t, env, email, portaltest.Password)

	env.Counter.Reset()
	res := env.Do(t, "PATCH", "/v1/me", map[string]any{"name": "Olga Operator"}, portaltest.Bearer(tok)...)
	wantStatus(t, "rename", res, 200, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("rename: %d round trips, want 2", n)
	}
	if got := me(t, env, second); got.Name != "Olga Operator" {
		t.Errorf("name = %q", got.Name)
	}
	if res.Map(t)["session"] != nil {
		t.Errorf("a rename returned a new session: %s", res.Body)
	}

	for _, tc := range []struct {
		body any
		code string
	}{
		{map[string]any{}, "validation_failed"},
		{map[string]any{"name": " padded "}, "validation_failed"},
		{map[string]any{"newPassword": newPassword}, "validation_failed"},
		{map[string]any{"currentPassword": portaltest.Password, "newPassword": "short"}, "validation_failed"},
		{map[string]any{"currentPassword": "not-my-password", "newPassword": newPassword}, "validation_failed"},
		{map[string]any{"email": "new@x.example"}, "malformed_request"},
	} {
		res := env.Do(t, "PATCH", "/v1/me", tc.body, portaltest.Bearer(tok)...)
		if res.Code() != tc.code {
			t.Errorf("%v: %d %s", tc.body, res.Status, res.Body)
		}
	}

	env.Counter.Reset()
	res = env.Do(t, "PATCH", "/v1/me", map[string]any{"currentPassword": portaltest.Password, "newPassword": newPassword}, portaltest.Bearer(tok)...)
	wantStatus(t, "change password", res, 200, "")
	if n := env.Counter.Total(); n != 3 {
		t.Errorf("password change: %d round trips, want 3 (auth, account, transaction)", n)
	}
	// The account's other session is dead; the caller's own token keeps working.
	wantStatus(t, "other session", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(second)...), 401, "unauthenticated")
	me(t, env, tok)
	login(t, env, email, newPassword)
}

func TestWrongCurrentPasswordCountsTowardsLockout(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	for i := 1; i < 5; i++ {
		res := env.Do(t, "PATCH", "/v1/me", map[string]any{"currentPassword": "guess-number-" + string(rune('0'+i)), "newPassword": newPassword}, portaltest.Bearer(p.MasterToken)...)
		wantStatus(t, "wrong current password", res, 422, "validation_failed")
	}
	res := env.Do(t, "PATCH", "/v1/me", map[string]any{"currentPassword": "guess-number-5", "newPassword": newPassword}, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "fifth wrong current password", res, 429, "account_locked")
}

func TestAcceptInvitation(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	_, link := invite(t, env, p.MasterToken, "Ops@Acme.example", portal.RoleOperator)

	acceptRes := func(body any) *portaltest.Response {
		return env.Do(t, "POST", "/v1/invitations/"+link+"/accept", body)
	}
	wantStatus(t, "missing fields", acceptRes(map[string]any{}), 422, "validation_failed")
	wantStatus(t, "password with local part", acceptRes(map[string]any{"name": "Ops", "password": "my-OPS-password-1"}), 422, "validation_failed")

	env.Counter.Reset()
	res := acceptRes(map[string]any{"name": "Ops", "password": newPassword})
	wantStatus(t, "accept", res, 201, "")
	if n := env.Counter.Total(); n != 4 {
		t.Errorf("accept: %d round trips, want 4 (token, partner+invitation, site-administrator query, transaction)", n)
	}
	var out struct {
		Token string
		Admin portal.Admin
	}
	res.Decode(t, &out)
	if out.Admin.Email != "ops@acme.example" || out.Admin.Role != portal.RoleOperator || out.Admin.Name != "Ops" {
		t.Errorf("admin = %+v", out.Admin)
	}
	me(t, env, out.Token)
	login(t, env, "ops@acme.example", newPassword)
	wantStatus(t, "single use", acceptRes(map[string]any{"name": "Ops", "password": newPassword}), 410, "invitation_used")
	wantStatus(t, "unknown link", env.Do(t, "POST", "/v1/invitations/nope/accept", map[string]any{"name": "X", "password": newPassword}), 404, "not_found")

	// Expiry after 7 days.
	_, link2 := invite(t, env, p.MasterToken, "late@acme.example", portal.RoleObserver)
	env.Clock.Advance(7 * 24 * time.Hour)
	res = env.Do(t, "POST", "/v1/invitations/"+link2+"/accept", map[string]any{"name": "Late", "password": newPassword})
	wantStatus(t, "expired", res, 410, "invitation_expired")
}

func TestAcceptRefusesAnEmailThatGotAnAccountMeanwhile(t *testing.T) {
	env := portaltest.New(t)
	a := env.NewPartner(t, "Acme")
	b := env.NewPartner(t, "Bravo")
	// Two partners invite the same person; the first acceptance wins.
	_, linkA := invite(t, env, a.MasterToken, "shared@people.example", portal.RoleOperator)
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "shared@people.example", "role": "observer"}, portaltest.Bearer(b.MasterToken)...)
	wantStatus(t, "second partner invites", res, 201, "")
	linkB := env.Mail.LinkToken(t, "shared@people.example")
	accept(t, env, linkA, "Shared", newPassword)
	res = env.Do(t, "POST", "/v1/invitations/"+linkB+"/accept", map[string]any{"name": "Shared", "password": newPassword})
	wantStatus(t, "accept at the other partner", res, 409, "already_exists")
	// Inviting an email that has an account is refused up front.
	res = env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "shared@people.example", "role": "observer"}, portaltest.Bearer(b.MasterToken)...)
	wantStatus(t, "invite an existing account", res, 409, "already_exists")
}

func TestConcurrentAcceptance(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	_, link := invite(t, env, p.MasterToken, "race@acme.example", portal.RoleAdmin)
	const n = 6
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.Do(t, "POST", "/v1/invitations/"+link+"/accept", map[string]any{"name": "Racer", "password": newPassword}).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 201:
			won++
		case 409, 410:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d acceptances succeeded, want exactly 1: %v", won, statuses)
	}
	res := env.Do(t, "GET", "/v1/admins", nil, portaltest.Bearer(p.MasterToken)...)
	if c := strings.Count(res.Body, `"race@acme.example"`); c != 1 {
		t.Fatalf("%d administrators with the email: %s", c, res.Body)
	}
}

func TestMasterInvitationActivatesPendingPartner(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth}
	res := env.Do(t, "POST", "/v1/platform/partners", map[string]any{"name": "New Co", "country": "DE", "masterEmail": "boss@new.example"}, plat...)
	wantStatus(t, "create", res, 201, "")
	var created struct{ Partner struct{ ID string } }
	res.Decode(t, &created)
	tok := accept(t, env, env.Mail.LinkToken(t, "boss@new.example"), "Boss", newPassword)
	got := env.Do(t, "GET", "/v1/partner", nil, portaltest.Bearer(tok)...)
	wantStatus(t, "partner", got, 200, "")
	if got.Map(t)["status"] != "active" {
		t.Fatalf("partner after activation: %s", got.Body)
	}
	login(t, env, "boss@new.example", newPassword)
}

// TestPasswordResetMailIsThrottled checks repeated reset requests for one
// account mail at most once per PasswordResetInterval, answering 202 always.
func TestPasswordResetMailIsThrottled(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	for i := 0; i < 3; i++ {
		res := env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail})
		wantStatus(t, "reset request", res, 202, "")
	}
	resets := func() int {
		n := 0
		for _, m := range env.Mail.Messages(p.MasterEmail) {
			if strings.Contains(m.Text, "/password-reset/") {
				n++
			}
		}
		return n
	}
	if n := resets(); n != 1 {
		t.Fatalf("%d reset mails for 3 quick requests, want 1", n)
	}
	env.Clock.Advance(dynamo.PasswordResetInterval)
	wantStatus(t, "reset after the interval", env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail}), 202, "")
	if n := resets(); n != 2 {
		t.Fatalf("%d reset mails after the interval, want 2", n)
	}
}
