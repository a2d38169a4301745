package api_test

import (
	"testing"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// login signs in and returns the bearer token, failing the test otherwise.
func login(t *testing.T, env *portaltest.Env, email, pw string) string {
	t.Helper()
	res := env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": email, "password": pw})
	if res.Status != 200 {
		t.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	var out struct{ Token string }
	res.Decode(t, &out)
	return out.Token
}

// me returns GET /v1/me's admin for a token.
func me(t *testing.T, env *portaltest.Env, token string) portal.Admin {
	t.Helper()
	res := env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(token)...)
	if res.Status != 200 {
		t.Fatalf("GET /v1/me: %d %s", res.Status, res.Body)
	}
	var out struct{ Admin portal.Admin }
	res.Decode(t, &out)
	return out.Admin
}

// invite creates a portal invitation with the token's rights and returns
// its id and the link token mailed to the email.
func invite(t *testing.T, env *portaltest.Env, token, email string, role portal.Role) (id, link string) {
	t.Helper()
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": email, "role": role}, portaltest.Bearer(token)...)
	if res.Status != 201 {
		t.Fatalf("inviting %s as %s: %d %s", email, role, res.Status, res.Body)
	}
	var out struct{ ID string }
	res.Decode(t, &out)
	return out.ID, env.Mail.LinkToken(t, portal.NormalizeEmail(email))
}

// accept accepts a portal invitation link and returns the new session token.
func accept(t *testing.T, env *portaltest.Env, link, name, pw string) string {
	t.Helper()
	res := env.Do(t, "POST", "/v1/invitations/"+link+"/accept", map[string]any{"name": name, "password": pw})
	if res.Status != 201 {
		t.Fatalf("accepting: %d %s", res.Status, res.Body)
	}
	var out struct{ Token string }
	res.Decode(t, &out)
	return out.Token
}

// status calls a route with a token and returns the status.
func status(t *testing.T, env *portaltest.Env, token, method, path string, body any) int {
	t.Helper()
	return env.Do(t, method, path, body, portaltest.Bearer(token)...).Status
}

// wantStatus fails unless the response has the status and, when given, the
// problem code.
func wantStatus(t *testing.T, what string, res *portaltest.Response, status int, code string) {
	t.Helper()
	if res.Status != status || (code != "" && res.Code() != code) {
		t.Fatalf("%s: got %d %s, want %d %s", what, res.Status, res.Body, status, code)
	}
}
