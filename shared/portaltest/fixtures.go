package portaltest

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"partnerportal/shared/password"
	"partnerportal/shared/portal"
)

// Password signs in every administrator the fixtures create.
const Password = "fixture-Passphrase-42"

var fixtureHash = sync.OnceValues(func() (string, error) { return password.Hash(Password) })

// passwordHash is Password's argon2id hash, computed once per test binary
// so fixtures cost no more than a store write.
func passwordHash(t testing.TB) string {
	t.Helper()
	h, err := fixtureHash()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func itoa(i int) string { return strconv.Itoa(i) }

func unescape(s string) (string, error) { return url.QueryUnescape(s) }

// Partner is a partner created through the platform route and activated by
// its master.
type Partner struct {
	ID          string
	Name        string
	MasterEmail string
	// MasterToken is the signed-in master's bearer token.
	MasterToken string
}

// Bearer returns the Authorization header pair for a token.
func Bearer(token string) []string { return []string{"authorization", "Bearer " + token} }

// NewPartner creates a partner with the platform route and accepts its
// master invitation; the partner is active and its master signed in. The
// master can also sign in with Password.
func (e *Env) NewPartner(t testing.TB, name string) Partner {
	t.Helper()
	e.mu.Lock()
	e.seq++
	n := e.seq
	e.mu.Unlock()
	email := fmt.Sprintf("master%d@%s.example", n, sanitize(name))
	res := e.Do(t, "POST", "/v1/platform/partners", map[string]any{"name": name, "country": "FR", "masterEmail": email}, "authorization", PlatformAuth)
	if res.Status != 201 {
		t.Fatalf("creating partner %q: %d %s", name, res.Status, res.Body)
	}
	var out struct {
		Partner struct{ ID string }
	}
	res.Decode(t, &out)
	acc, err := e.Store.AcceptPortalInvitation(context.Background(), e.Mail.LinkToken(t, email), "Master "+name, passwordHash(t))
	if err != nil {
		t.Fatalf("accepting master invitation: %v", err)
	}
	return Partner{ID: out.Partner.ID, Name: name, MasterEmail: email, MasterToken: acc.Session.Token}
}

// NewAdmin adds a signed-in administrator with role to the partner and
// returns its bearer token. It goes through the store, not the invitation
// routes, so that tests of other features do not depend on them. The
// administrator can also sign in with email and Password.
func (e *Env) NewAdmin(t testing.TB, p Partner, role portal.Role) (token, email string) {
	t.Helper()
	ctx := context.Background()
	e.mu.Lock()
	e.seq++
	email = fmt.Sprintf("%s%d@%s.example", role, e.seq, sanitize(p.Name))
	e.mu.Unlock()
	now := e.Clock.Now()
	tok, hash := portal.NewToken()
	inv := portal.Invitation{ID: portal.NewID(now), PartnerID: p.ID, Email: email, Role: role, Status: portal.InvitationPending,
		ExpiresAt: now.Add(portal.InvitationTTL), CreatedAt: now, TokenHash: hash}
	if err := e.Store.CreateInvitation(ctx, inv, portal.PlatformActor, nil); err != nil {
		t.Fatalf("inviting %s: %v", role, err)
	}
	acc, err := e.Store.AcceptPortalInvitation(ctx, tok, string(role)+" user", passwordHash(t))
	if err != nil {
		t.Fatalf("accepting %s invitation: %v", role, err)
	}
	return acc.Session.Token, email
}

func sanitize(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			out = append(out, r)
		} else if r >= 'A' && r <= 'Z' {
			out = append(out, r+32)
		}
	}
	if len(out) == 0 {
		return "x"
	}
	return string(out)
}
