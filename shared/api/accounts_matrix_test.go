package api_test

import (
	"fmt"
	"testing"

	"partnerportal/shared/api"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// matrixCell is one call of the matrix: the caller (a fresh administrator
// of the role in partner own) acts on a target in partner target (own or
// other).
type matrixCell struct {
	env       *portaltest.Env
	own       portaltest.Partner
	target    portaltest.Partner
	token     string // the caller's session
	email     string // the caller's email
	role      portal.Role
	seq       *int
	lastReply *portaltest.Response
}

func (c *matrixCell) fresh(prefix string) string {
	*c.seq++
	return fmt.Sprintf("%s%d@matrix.example", prefix, *c.seq)
}

// targetAdmin adds an administrator with role to the target partner.
func (c *matrixCell) targetAdmin(t *testing.T, role portal.Role) string {
	tok, _ := c.env.NewAdmin(t, c.target, role)
	return me(t, c.env, tok).ID
}

// targetInvitation invites an observer to the target partner.
func (c *matrixCell) targetInvitation(t *testing.T) string {
	id, _ := invite(t, c.env, c.target.MasterToken, c.fresh("inv"), portal.RoleObserver)
	return id
}

func (c *matrixCell) do(t *testing.T, method, path string, body any) int {
	c.lastReply = c.env.Do(t, method, path, body, portaltest.Bearer(c.token)...)
	return c.lastReply.Status
}

// Statuses per caller role, in the order observer, operator, admin, master.
type byRole [4]int

var everyone200 = byRole{200, 200, 200, 200}

// accountsMatrix is every route of the accounts slice. scoped rows act on a
// resource that can belong to another partner and are run both ways.
var accountsMatrix = []struct {
	route  string
	scoped bool
	own    byRole
	other  byRole
	call   func(t *testing.T, c *matrixCell) int
}{
	// Public routes: the role is that of the account involved.
	{"POST /v1/auth/login", false, everyone200, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": c.email, "password": portaltest.Password}).Status
	}},
	{"POST /v1/auth/logout", false, byRole{204, 204, 204, 204}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "POST", "/v1/auth/logout", nil)
	}},
	{"POST /v1/auth/password-reset", false, byRole{202, 202, 202, 202}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": c.email}).Status
	}},
	{"POST /v1/auth/password-reset/confirm", false, byRole{204, 204, 204, 204}, byRole{}, func(t *testing.T, c *matrixCell) int {
		c.env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": c.email})
		return c.env.Do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": c.env.Mail.LinkToken(t, c.email), "password": newPassword}).Status
	}},
	{"GET /v1/invitations/{token}", false, everyone200, byRole{}, func(t *testing.T, c *matrixCell) int {
		_, link := invite(t, c.env, c.own.MasterToken, c.fresh("look"), c.role)
		return c.env.Do(t, "GET", "/v1/invitations/"+link, nil).Status
	}},
	{"POST /v1/invitations/{token}/accept", false, byRole{201, 201, 201, 201}, byRole{}, func(t *testing.T, c *matrixCell) int {
		_, link := invite(t, c.env, c.own.MasterToken, c.fresh("join"), c.role)
		return c.env.Do(t, "POST", "/v1/invitations/"+link+"/accept", map[string]any{"name": "New", "password": newPassword}).Status
	}},
	// Partner routes.
	{"GET /v1/me", false, everyone200, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "GET", "/v1/me", nil)
	}},
	{"PATCH /v1/me", false, everyone200, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "PATCH", "/v1/me", map[string]any{"name": "Renamed"})
	}},
	{"GET /v1/partner", false, everyone200, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "GET", "/v1/partner", nil)
	}},
	{"PATCH /v1/partner", false, byRole{403, 403, 200, 200}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 3})
	}},
	{"GET /v1/admins", false, byRole{403, 403, 200, 200}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "GET", "/v1/admins", nil)
	}},
	{"GET /v1/admins/invitations", false, byRole{403, 403, 200, 200}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "GET", "/v1/admins/invitations", nil)
	}},
	{"POST /v1/admins/invitations", false, byRole{403, 403, 201, 201}, byRole{}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": c.fresh("new"), "role": "observer"})
	}},
	{"PATCH /v1/admins/{adminId}", true, byRole{403, 403, 200, 200}, byRole{403, 403, 404, 404}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "PATCH", "/v1/admins/"+c.targetAdmin(t, portal.RoleOperator), map[string]any{"role": "observer"})
	}},
	{"DELETE /v1/admins/{adminId}", true, byRole{403, 403, 204, 204}, byRole{403, 403, 404, 404}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "DELETE", "/v1/admins/"+c.targetAdmin(t, portal.RoleObserver), nil)
	}},
	{"DELETE /v1/admins/invitations/{invitationId}", true, byRole{403, 403, 204, 204}, byRole{403, 403, 404, 404}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "DELETE", "/v1/admins/invitations/"+c.targetInvitation(t), nil)
	}},
	{"POST /v1/admins/invitations/{invitationId}/resend", true, byRole{403, 403, 200, 200}, byRole{403, 403, 404, 404}, func(t *testing.T, c *matrixCell) int {
		return c.do(t, "POST", "/v1/admins/invitations/"+c.targetInvitation(t)+"/resend", nil)
	}},
}

// elsewhere lists routes of the public and accounts functions that other
// slices own and test; every other route of those groups needs a row above.
var elsewhere = map[string]string{
	"GET /v1/audit": "credit-ledger slice",
}

func TestAccountsMatrixCoversEveryRoute(t *testing.T) {
	env := portaltest.New(t)
	rows := map[string]bool{}
	for _, r := range accountsMatrix {
		if rows[r.route] {
			t.Errorf("two rows for %s", r.route)
		}
		rows[r.route] = true
	}
	served := map[string]bool{}
	for _, g := range []api.Group{api.GroupPublic, api.GroupAccounts} {
		for _, route := range env.Service.Router(g).Routes() {
			served[route] = true
			if !rows[route] && elsewhere[route] == "" {
				t.Errorf("route %s has no row in the permission matrix", route)
			}
		}
	}
	for r := range rows {
		if !served[r] {
			t.Errorf("matrix row %s is not a route of the public or accounts function", r)
		}
	}
}

func TestAccountsMatrix(t *testing.T) {
	for ri, role := range portal.Roles {
		t.Run(string(role), func(t *testing.T) {
			t.Parallel()
			env := portaltest.New(t)
			own := env.NewPartner(t, "Own")
			other := env.NewPartner(t, "Other")
			seq := 0
			for _, row := range accountsMatrix {
				for _, otherPartner := range []bool{false, true} {
					if otherPartner && !row.scoped {
						continue
					}
					token, email := env.NewAdmin(t, own, role)
					c := &matrixCell{env: env, own: own, target: own, token: token, email: email, role: role, seq: &seq}
					want := row.own[ri]
					if otherPartner {
						c.target, want = other, row.other[ri]
					}
					if got := row.call(t, c); got != want {
						body := ""
						if c.lastReply != nil {
							body = c.lastReply.Body
						}
						t.Errorf("%s as %s (other partner: %v): %d, want %d %s", row.route, role, otherPartner, got, want, body)
					}
				}
			}
		})
	}
}
