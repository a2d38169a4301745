package apidoc_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// absentID is well-formed but names nothing.
const absentID = "01jcv3w0a1b2c3d4e5f6g7h8j9"

// fx is the state the cases share: one partner with a signed-in
// administrator of each role and credits in its pool, on one embedded
// engine. Cases that change lasting state (suspension, removal, password
// changes, the last master) make their own partner or administrator.
type fx struct {
	env                               *portaltest.Env
	p                                 portaltest.Partner
	master, admin, operator, observer []string
	n                                 int
}

func newFx(t *testing.T) *fx {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	f := &fx{env: env, p: p, master: portaltest.Bearer(p.MasterToken)}
	tok, _ := env.NewAdmin(t, p, portal.RoleAdmin)
	f.admin = portaltest.Bearer(tok)
	tok, _ = env.NewAdmin(t, p, portal.RoleOperator)
	f.operator = portaltest.Bearer(tok)
	tok, _ = env.NewAdmin(t, p, portal.RoleObserver)
	f.observer = portaltest.Bearer(tok)
	f.buy(t, p.ID, 100_000)
	return f
}

// uniq returns a name no other case uses.
func (f *fx) uniq(prefix string) string {
	f.n++
	return fmt.Sprintf("%s%d", prefix, f.n)
}

func (f *fx) do(t *testing.T, method, target string, body any, headers ...string) *portaltest.Response {
	t.Helper()
	return f.env.Do(t, method, target, body, headers...)
}

func platform(extra ...string) []string {
	return append([]string{"authorization", portaltest.PlatformAuth}, extra...)
}

func with(auth []string, extra ...string) []string {
	return append(append([]string{}, auth...), extra...)
}

// must fails the test unless res has the status.
func must(t *testing.T, what string, res *portaltest.Response, status int) *portaltest.Response {
	t.Helper()
	if res.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, res.Status, res.Body, status)
	}
	return res
}

func (f *fx) buy(t *testing.T, pid string, amount int) {
	t.Helper()
	must(t, "buying credits", f.do(t, "POST", "/v1/platform/partners/"+pid+"/credits",
		map[string]any{"amount": amount, "reference": f.uniq("SO-")}, platform()...), 201)
}

func (f *fx) site(t *testing.T) string {
	t.Helper()
	res := must(t, "creating a site", f.do(t, "POST", "/v1/sites",
		map[string]any{"name": f.uniq("Site "), "country": "FR", "timeZone": "Europe/Paris", "credits": 100}, f.master...), 201)
	return res.Map(t)["id"].(string)
}

func (f *fx) note(t *testing.T, sid string) string {
	t.Helper()
	res := must(t, "adding a note", f.do(t, "POST", "/v1/sites/"+sid+"/notes", map[string]any{"text": "hello"}, f.operator...), 201)
	return res.Map(t)["id"].(string)
}

// siteAdmin invites an email to a site and returns the email and its link token.
func (f *fx) siteAdmin(t *testing.T, sid string) (email, token string) {
	t.Helper()
	email = f.uniq("customer") + "@client.example"
	must(t, "inviting a site administrator", f.do(t, "POST", "/v1/sites/"+sid+"/administrators", map[string]any{"email": email}, f.operator...), 201)
	return email, f.env.Mail.LinkToken(t, email)
}

// invitation invites a portal administrator and returns the invitation id,
// email and link token.
func (f *fx) invitation(t *testing.T, role portal.Role) (id, email, token string) {
	t.Helper()
	email = f.uniq("new") + "@acme.example"
	res := must(t, "inviting an administrator", f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": email, "role": role}, f.master...), 201)
	return res.Map(t)["id"].(string), email, f.env.Mail.LinkToken(t, email)
}

// throwaway is a new signed-in administrator that a case may change for good.
func (f *fx) throwaway(t *testing.T, role portal.Role) (auth []string, email string) {
	t.Helper()
	tok, email := f.env.NewAdmin(t, f.p, role)
	return portaltest.Bearer(tok), email
}

func (f *fx) adminID(t *testing.T, auth []string) string {
	t.Helper()
	res := must(t, "GET /v1/me", f.do(t, "GET", "/v1/me", nil, auth...), 200)
	return res.Map(t)["admin"].(map[string]any)["id"].(string)
}

// tcase is one request and the status it must get.
type tcase struct {
	name string
	want int
	run  func(t *testing.T, f *fx) *portaltest.Response
}

// cases lists, per documented operation, at least one success and one error.
var cases = map[string][]tcase{
	// ---------------------------------------------------------------- public
	"POST /v1/auth/login": {
		{"signed in", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", map[string]any{"email": f.p.MasterEmail, "password": portaltest.Password})
		}},
		{"unknown email", 401, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", map[string]any{"email": "nobody@nowhere.example", "password": "whatever-it-is"})
		}},
		{"locked", 429, func(t *testing.T, f *fx) *portaltest.Response {
			body := map[string]any{"email": "locked@nowhere.example", "password": "wrong-password"}
			for range 4 {
				must(t, "failing", f.do(t, "POST", "/v1/auth/login", body), 401)
			}
			return f.do(t, "POST", "/v1/auth/login", body)
		}},
		{"unknown field", 400, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", map[string]any{"email": "a@b.example", "password": "x", "remember": true})
		}},
		{"not JSON", 415, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", "email=a", "content-type", "application/x-www-form-urlencoded")
		}},
		{"too large", 413, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", `{"email":"`+strings.Repeat("a", 70_000)+`"}`)
		}},
		{"missing password", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/login", map[string]any{"email": "a@b.example"})
		}},
	},
	"POST /v1/auth/logout": {
		{"signed out", 204, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "POST", "/v1/auth/logout", nil, auth...)
		}},
		{"no token", 401, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/logout", nil)
		}},
	},
	"POST /v1/auth/password-reset": {
		{"known email", 202, func(t *testing.T, f *fx) *portaltest.Response {
			_, email := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": email})
		}},
		{"unknown email", 202, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": "nobody@nowhere.example"})
		}},
		{"not an email", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": "nobody"})
		}},
	},
	"POST /v1/auth/password-reset/confirm": {
		{"password set", 204, func(t *testing.T, f *fx) *portaltest.Response {
			_, email := f.throwaway(t, portal.RoleObserver)
			must(t, "asking for a link", f.do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": email}), 202)
			return f.do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": f.env.Mail.LinkToken(t, email), "password": "a-brand-new-Passphrase-9"})
		}},
		{"unknown link", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": "not-a-token", "password": "a-brand-new-Passphrase-9"})
		}},
		{"wrong type", 400, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": 42, "password": "a-brand-new-Passphrase-9"})
		}},
	},
	"GET /v1/invitations/{token}": {
		{"portal invitation", 200, func(t *testing.T, f *fx) *portaltest.Response {
			_, _, token := f.invitation(t, portal.RoleOperator)
			return f.do(t, "GET", "/v1/invitations/"+token, nil)
		}},
		{"site invitation", 200, func(t *testing.T, f *fx) *portaltest.Response {
			_, token := f.siteAdmin(t, f.site(t))
			return f.do(t, "GET", "/v1/invitations/"+token, nil)
		}},
		{"unknown", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/invitations/no-such-token", nil)
		}},
		{"used", 410, func(t *testing.T, f *fx) *portaltest.Response {
			_, token := f.siteAdmin(t, f.site(t))
			must(t, "accepting", f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{}), 200)
			return f.do(t, "GET", "/v1/invitations/"+token, nil)
		}},
	},
	"POST /v1/invitations/{token}/accept": {
		{"portal invitation", 201, func(t *testing.T, f *fx) *portaltest.Response {
			_, _, token := f.invitation(t, portal.RoleOperator)
			return f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{"name": "New Operator", "password": "a-long-enough-Passphrase"})
		}},
		{"site invitation", 200, func(t *testing.T, f *fx) *portaltest.Response {
			_, token := f.siteAdmin(t, f.site(t))
			return f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{})
		}},
		{"short password", 422, func(t *testing.T, f *fx) *portaltest.Response {
			_, _, token := f.invitation(t, portal.RoleOperator)
			return f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{"name": "New Operator", "password": "short"})
		}},
		{"unknown", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/invitations/no-such-token/accept", map[string]any{})
		}},
		{"revoked", 410, func(t *testing.T, f *fx) *portaltest.Response {
			id, _, token := f.invitation(t, portal.RoleOperator)
			must(t, "revoking", f.do(t, "DELETE", "/v1/admins/invitations/"+id, nil, f.master...), 204)
			return f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{"name": "New Operator", "password": "a-long-enough-Passphrase"})
		}},
		{"end customer", 409, func(t *testing.T, f *fx) *portaltest.Response {
			_, email, token := f.invitation(t, portal.RoleOperator)
			must(t, "making them a site administrator", f.do(t, "POST", "/v1/sites/"+f.site(t)+"/administrators", map[string]any{"email": email}, f.operator...), 201)
			return f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{"name": "New Operator", "password": "a-long-enough-Passphrase"})
		}},
	},

	// ---------------------------------------------------------------- account
	"GET /v1/me": {
		{"observer", 200, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/me", nil, f.observer...) }},
		{"master", 200, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/me", nil, f.master...) }},
		{"no token", 401, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/me", nil) }},
		{"suspended partner", 403, func(t *testing.T, f *fx) *portaltest.Response {
			p := f.env.NewPartner(t, f.uniq("Suspended"))
			must(t, "suspending", f.do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "suspended"}, platform()...), 200)
			return f.do(t, "GET", "/v1/me", nil, portaltest.Bearer(p.MasterToken)...)
		}},
	},
	"PATCH /v1/me": {
		{"name", 200, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "PATCH", "/v1/me", map[string]any{"name": "Renamed"}, auth...)
		}},
		{"password", 200, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "PATCH", "/v1/me", map[string]any{"currentPassword": portaltest.Password, "newPassword": "a-brand-new-Passphrase-9"}, auth...)
		}},
		{"wrong current password", 422, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "PATCH", "/v1/me", map[string]any{"currentPassword": "not-the-password", "newPassword": "a-brand-new-Passphrase-9"}, auth...)
		}},
		{"email", 400, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/me", map[string]any{"email": "x@y.example"}, f.observer...)
		}},
	},
	"GET /v1/partner": {
		{"partner", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/partner", nil, f.observer...)
		}},
		{"bad token", 401, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/partner", nil, portaltest.Bearer("nope")...)
		}},
	},
	"PATCH /v1/partner": {
		{"threshold", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 2}, f.admin...)
		}},
		{"operator", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 2}, f.operator...)
		}},
		{"out of range", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 13}, f.admin...)
		}},
	},

	// ---------------------------------------------------------------- sites
	"GET /v1/sites": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			f.site(t)
			f.site(t)
			return f.do(t, "GET", "/v1/sites?limit=1", nil, f.observer...)
		}},
		{"filtered", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites?q=site&country=FR", nil, f.observer...)
		}},
		{"limit 0", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites?limit=0", nil, f.observer...)
		}},
		{"tampered cursor", 400, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites?cursor=bm9wZQ", nil, f.observer...)
		}},
	},
	"POST /v1/sites": {
		{"created", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("Created "), "country": "DE", "timeZone": "Europe/Berlin"}, f.operator...)
		}},
		{"replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			body := map[string]any{"name": f.uniq("Replayed "), "country": "DE", "timeZone": "Europe/Berlin", "credits": 5}
			h := with(f.operator, "idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/sites", body, h...), 201)
			return f.do(t, "POST", "/v1/sites", body, h...)
		}},
		{"key reused", 422, func(t *testing.T, f *fx) *portaltest.Response {
			h := with(f.operator, "idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("Key "), "country": "DE", "timeZone": "Europe/Berlin"}, h...), 201)
			return f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("Key "), "country": "DE", "timeZone": "Europe/Berlin"}, h...)
		}},
		{"name taken", 409, func(t *testing.T, f *fx) *portaltest.Response {
			body := map[string]any{"name": f.uniq("Taken "), "country": "DE", "timeZone": "Europe/Berlin"}
			must(t, "first", f.do(t, "POST", "/v1/sites", body, f.operator...), 201)
			return f.do(t, "POST", "/v1/sites", body, f.operator...)
		}},
		{"pool short", 409, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("Rich "), "country": "DE", "timeZone": "Europe/Berlin", "credits": 1_000_000}, f.operator...)
		}},
		{"observer", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("No "), "country": "DE", "timeZone": "Europe/Berlin"}, f.observer...)
		}},
		{"bad time zone", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites", map[string]any{"name": f.uniq("Zone "), "country": "DE", "timeZone": "Mars/Olympus"}, f.operator...)
		}},
	},
	"GET /v1/sites/{siteId}": {
		{"site", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites/"+f.site(t), nil, f.observer...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites/"+absentID, nil, f.observer...)
		}},
	},
	"PATCH /v1/sites/{siteId}": {
		{"renamed with If-Match", 200, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			etag := f.do(t, "GET", "/v1/sites/"+sid, nil, f.operator...).Headers["etag"]
			return f.do(t, "PATCH", "/v1/sites/"+sid, map[string]any{"name": f.uniq("Renamed ")}, with(f.operator, "if-match", etag)...)
		}},
		{"stale If-Match", 412, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/sites/"+f.site(t), map[string]any{"timeZone": "Europe/Rome"}, with(f.operator, "if-match", `"99"`)...)
		}},
		{"name taken", 409, func(t *testing.T, f *fx) *portaltest.Response {
			other := f.do(t, "GET", "/v1/sites/"+f.site(t), nil, f.operator...).Map(t)["name"]
			return f.do(t, "PATCH", "/v1/sites/"+f.site(t), map[string]any{"name": other}, f.operator...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/sites/"+absentID, map[string]any{"name": "x"}, f.operator...)
		}},
	},
	"DELETE /v1/sites/{siteId}": {
		{"deleted", 204, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			f.note(t, sid)
			return f.do(t, "DELETE", "/v1/sites/"+sid, nil, f.admin...)
		}},
		{"operator", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/sites/"+f.site(t), nil, f.operator...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/sites/"+absentID, nil, f.admin...)
		}},
	},
	"GET /v1/sites/{siteId}/notes": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			f.note(t, sid)
			return f.do(t, "GET", "/v1/sites/"+sid+"/notes", nil, f.observer...)
		}},
		{"absent site", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites/"+absentID+"/notes", nil, f.observer...)
		}},
	},
	"POST /v1/sites/{siteId}/notes": {
		{"created", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/notes", map[string]any{"text": "Call before visits."}, f.operator...)
		}},
		{"replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			sid, h := f.site(t), with(f.operator, "idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/sites/"+sid+"/notes", map[string]any{"text": "once"}, h...), 201)
			return f.do(t, "POST", "/v1/sites/"+sid+"/notes", map[string]any{"text": "once"}, h...)
		}},
		{"blank", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/notes", map[string]any{"text": "  "}, f.operator...)
		}},
		{"observer", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/notes", map[string]any{"text": "no"}, f.observer...)
		}},
	},
	"PATCH /v1/sites/{siteId}/notes/{noteId}": {
		{"edited", 200, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			return f.do(t, "PATCH", "/v1/sites/"+sid+"/notes/"+f.note(t, sid), map[string]any{"text": "edited"}, f.operator...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/sites/"+f.site(t)+"/notes/"+absentID, map[string]any{"text": "edited"}, f.operator...)
		}},
	},
	"DELETE /v1/sites/{siteId}/notes/{noteId}": {
		{"deleted", 204, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			return f.do(t, "DELETE", "/v1/sites/"+sid+"/notes/"+f.note(t, sid), nil, f.operator...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/sites/"+f.site(t)+"/notes/"+absentID, nil, f.operator...)
		}},
	},
	"GET /v1/sites/{siteId}/administrators": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			f.siteAdmin(t, sid)
			_, token := f.siteAdmin(t, sid)
			must(t, "accepting", f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{}), 200)
			return f.do(t, "GET", "/v1/sites/"+sid+"/administrators", nil, f.observer...)
		}},
		{"absent site", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/sites/"+absentID+"/administrators", nil, f.observer...)
		}},
	},
	"POST /v1/sites/{siteId}/administrators": {
		{"invited", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/administrators", map[string]any{"email": f.uniq("c") + "@client.example"}, f.operator...)
		}},
		{"mail failed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			f.env.Mail.Fail(true)
			defer f.env.Mail.Fail(false)
			return f.do(t, "POST", "/v1/sites/"+sid+"/administrators", map[string]any{"email": f.uniq("c") + "@client.example"}, f.operator...)
		}},
		{"replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			sid, h := f.site(t), with(f.operator, "idempotency-key", f.uniq("key-"))
			body := map[string]any{"email": f.uniq("c") + "@client.example"}
			must(t, "first", f.do(t, "POST", "/v1/sites/"+sid+"/administrators", body, h...), 201)
			return f.do(t, "POST", "/v1/sites/"+sid+"/administrators", body, h...)
		}},
		{"already active", 409, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			email, token := f.siteAdmin(t, sid)
			must(t, "accepting", f.do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{}), 200)
			return f.do(t, "POST", "/v1/sites/"+sid+"/administrators", map[string]any{"email": email}, f.operator...)
		}},
		{"not an email", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/administrators", map[string]any{"email": "nope"}, f.operator...)
		}},
	},
	"DELETE /v1/sites/{siteId}/administrators/{email}": {
		{"removed", 204, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			email, _ := f.siteAdmin(t, sid)
			return f.do(t, "DELETE", "/v1/sites/"+sid+"/administrators/"+url.PathEscape(email), nil, f.operator...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/sites/"+f.site(t)+"/administrators/nobody%40client.example", nil, f.operator...)
		}},
	},

	// ---------------------------------------------------------------- credits
	"POST /v1/sites/{siteId}/credits": {
		{"allocated", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/credits", map[string]any{"amount": 50, "note": "winter"}, f.operator...)
		}},
		{"reclaimed, replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			sid, h := f.site(t), with(f.operator, "idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/sites/"+sid+"/credits", map[string]any{"amount": -20}, h...), 201)
			return f.do(t, "POST", "/v1/sites/"+sid+"/credits", map[string]any{"amount": -20}, h...)
		}},
		{"site short", 409, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/credits", map[string]any{"amount": -101}, f.operator...)
		}},
		{"zero", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+f.site(t)+"/credits", map[string]any{"amount": 0}, f.operator...)
		}},
		{"absent site", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/sites/"+absentID+"/credits", map[string]any{"amount": 1}, f.operator...)
		}},
	},
	"GET /v1/credits": {
		{"balances", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits", nil, f.observer...)
		}},
		{"no token", 401, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/credits", nil) }},
	},
	"GET /v1/credits/history": {
		{"json", 200, func(t *testing.T, f *fx) *portaltest.Response {
			sid := f.site(t)
			must(t, "reclaiming", f.do(t, "POST", "/v1/sites/"+sid+"/credits", map[string]any{"amount": -1, "note": "=1+1"}, f.operator...), 201)
			return f.do(t, "GET", "/v1/credits/history?limit=3", nil, f.observer...)
		}},
		{"json, filtered", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits/history?type=purchase&from=2026-01-01&to=2027-01-01&format=json", nil, f.observer...)
		}},
		{"csv", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits/history?format=csv&siteId="+f.site(t), nil, f.observer...)
		}},
		{"malformed siteId", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits/history?siteId=nope", nil, f.observer...)
		}},
		{"unknown format", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits/history?format=xml", nil, f.observer...)
		}},
		{"tampered cursor", 400, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/credits/history?cursor=bm9wZQ", nil, f.observer...)
		}},
	},

	// ---------------------------------------------------------------- administrators
	"GET /v1/admins": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/admins", nil, f.admin...) }},
		{"operator", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/admins", nil, f.operator...)
		}},
	},
	"PATCH /v1/admins/{adminId}": {
		{"re-roled", 200, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleOperator)
			return f.do(t, "PATCH", "/v1/admins/"+f.adminID(t, auth), map[string]any{"role": "observer"}, f.admin...)
		}},
		{"last master", 409, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/admins/"+f.adminID(t, f.master), map[string]any{"role": "admin"}, f.master...)
		}},
		{"above own role", 403, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleOperator)
			return f.do(t, "PATCH", "/v1/admins/"+f.adminID(t, auth), map[string]any{"role": "master"}, f.admin...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/admins/"+absentID, map[string]any{"role": "observer"}, f.admin...)
		}},
	},
	"DELETE /v1/admins/{adminId}": {
		{"removed", 204, func(t *testing.T, f *fx) *portaltest.Response {
			auth, _ := f.throwaway(t, portal.RoleObserver)
			return f.do(t, "DELETE", "/v1/admins/"+f.adminID(t, auth), nil, f.admin...)
		}},
		{"self", 409, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/admins/"+f.adminID(t, f.admin), nil, f.admin...)
		}},
		{"a master, by an admin", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/admins/"+f.adminID(t, f.master), nil, f.admin...)
		}},
	},
	"GET /v1/admins/invitations": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			f.invitation(t, portal.RoleObserver)
			return f.do(t, "GET", "/v1/admins/invitations", nil, f.admin...)
		}},
		{"operator", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/admins/invitations", nil, f.operator...)
		}},
	},
	"POST /v1/admins/invitations": {
		{"invited", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": f.uniq("inv") + "@acme.example", "role": "operator"}, f.admin...)
		}},
		{"mail failed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			f.env.Mail.Fail(true)
			defer f.env.Mail.Fail(false)
			return f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": f.uniq("inv") + "@acme.example", "role": "operator"}, f.admin...)
		}},
		{"replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			body, h := map[string]any{"email": f.uniq("inv") + "@acme.example", "role": "observer"}, with(f.admin, "idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/admins/invitations", body, h...), 201)
			return f.do(t, "POST", "/v1/admins/invitations", body, h...)
		}},
		{"end customer", 409, func(t *testing.T, f *fx) *portaltest.Response {
			email, _ := f.siteAdmin(t, f.site(t))
			return f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": email, "role": "operator"}, f.admin...)
		}},
		{"a master, by an admin", 403, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": f.uniq("inv") + "@acme.example", "role": "master"}, f.admin...)
		}},
		{"bad role", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/admins/invitations", map[string]any{"email": f.uniq("inv") + "@acme.example", "role": "owner"}, f.admin...)
		}},
	},
	"DELETE /v1/admins/invitations/{invitationId}": {
		{"revoked", 204, func(t *testing.T, f *fx) *portaltest.Response {
			id, _, _ := f.invitation(t, portal.RoleObserver)
			return f.do(t, "DELETE", "/v1/admins/invitations/"+id, nil, f.admin...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "DELETE", "/v1/admins/invitations/"+absentID, nil, f.admin...)
		}},
	},
	"POST /v1/admins/invitations/{invitationId}/resend": {
		{"resent", 200, func(t *testing.T, f *fx) *portaltest.Response {
			id, _, _ := f.invitation(t, portal.RoleObserver)
			return f.do(t, "POST", "/v1/admins/invitations/"+id+"/resend", nil, f.admin...)
		}},
		{"revoked", 409, func(t *testing.T, f *fx) *portaltest.Response {
			id, _, _ := f.invitation(t, portal.RoleObserver)
			must(t, "revoking", f.do(t, "DELETE", "/v1/admins/invitations/"+id, nil, f.admin...), 204)
			return f.do(t, "POST", "/v1/admins/invitations/"+id+"/resend", nil, f.admin...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/admins/invitations/"+absentID+"/resend", nil, f.admin...)
		}},
	},
	"GET /v1/audit": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/audit?limit=100&from=2026-01-01", nil, f.admin...)
		}},
		{"operator", 403, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/audit", nil, f.operator...) }},
		{"bad from", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/audit?from=yesterday", nil, f.admin...)
		}},
	},

	// ---------------------------------------------------------------- platform
	"POST /v1/platform/partners": {
		{"created", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners", map[string]any{"name": f.uniq("Partner "), "country": "ES", "masterEmail": f.uniq("boss") + "@p.example"}, platform()...)
		}},
		{"replayed", 201, func(t *testing.T, f *fx) *portaltest.Response {
			body, h := map[string]any{"name": f.uniq("Partner "), "country": "ES", "masterEmail": f.uniq("boss") + "@p.example"}, platform("idempotency-key", f.uniq("key-"))
			must(t, "first", f.do(t, "POST", "/v1/platform/partners", body, h...), 201)
			return f.do(t, "POST", "/v1/platform/partners", body, h...)
		}},
		{"unsigned", 401, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners", map[string]any{"name": "X", "country": "ES", "masterEmail": "x@p.example"})
		}},
		{"bad country", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners", map[string]any{"name": "X", "country": "Spain", "masterEmail": "x@p.example"}, platform()...)
		}},
	},
	"GET /v1/platform/partners": {
		{"page", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/platform/partners?limit=2", nil, platform()...)
		}},
		{"unsigned", 401, func(t *testing.T, f *fx) *portaltest.Response { return f.do(t, "GET", "/v1/platform/partners", nil) }},
		{"limit 101", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/platform/partners?limit=101", nil, platform()...)
		}},
	},
	"GET /v1/platform/partners/{partnerId}": {
		{"partner", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/platform/partners/"+f.p.ID, nil, platform()...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "GET", "/v1/platform/partners/"+absentID, nil, platform()...)
		}},
	},
	"PATCH /v1/platform/partners/{partnerId}": {
		{"suspended", 200, func(t *testing.T, f *fx) *portaltest.Response {
			p := f.env.NewPartner(t, f.uniq("Suspendable"))
			return f.do(t, "PATCH", "/v1/platform/partners/"+p.ID, map[string]any{"status": "suspended"}, platform()...)
		}},
		{"pending", 409, func(t *testing.T, f *fx) *portaltest.Response {
			res := must(t, "creating", f.do(t, "POST", "/v1/platform/partners", map[string]any{"name": f.uniq("Pending "), "country": "ES", "masterEmail": f.uniq("boss") + "@p.example"}, platform()...), 201)
			pid := res.Map(t)["partner"].(map[string]any)["id"].(string)
			return f.do(t, "PATCH", "/v1/platform/partners/"+pid, map[string]any{"status": "suspended"}, platform()...)
		}},
		{"bad status", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PATCH", "/v1/platform/partners/"+f.p.ID, map[string]any{"status": "pending"}, platform()...)
		}},
	},
	"POST /v1/platform/partners/{partnerId}/master-invitation": {
		{"invited", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/master-invitation", map[string]any{"email": f.uniq("master") + "@acme.example"}, platform()...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners/"+absentID+"/master-invitation", map[string]any{"email": "m@acme.example"}, platform()...)
		}},
	},
	"POST /v1/platform/partners/{partnerId}/credits": {
		{"purchased", 201, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", map[string]any{"amount": 10, "reference": f.uniq("SO-")}, platform("idempotency-key", f.uniq("key-"))...)
		}},
		{"same reference, same amount", 201, func(t *testing.T, f *fx) *portaltest.Response {
			body := map[string]any{"amount": 10, "reference": f.uniq("SO-")}
			must(t, "first", f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", body, platform()...), 201)
			return f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", body, platform()...)
		}},
		{"same reference, other amount", 409, func(t *testing.T, f *fx) *portaltest.Response {
			ref := f.uniq("SO-")
			must(t, "first", f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", map[string]any{"amount": 10, "reference": ref}, platform()...), 201)
			return f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", map[string]any{"amount": 11, "reference": ref}, platform()...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners/"+absentID+"/credits", map[string]any{"amount": 10, "reference": "SO-1"}, platform()...)
		}},
		{"zero", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "POST", "/v1/platform/partners/"+f.p.ID+"/credits", map[string]any{"amount": 0, "reference": "SO-1"}, platform()...)
		}},
	},
	"PUT /v1/platform/partners/{partnerId}/sites/{siteId}/usage": {
		{"reported", 200, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PUT", "/v1/platform/partners/"+f.p.ID+"/sites/"+f.site(t)+"/usage", map[string]any{"users": 3, "devices": 40}, platform()...)
		}},
		{"absent", 404, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PUT", "/v1/platform/partners/"+f.p.ID+"/sites/"+absentID+"/usage", map[string]any{"users": 3, "devices": 40}, platform()...)
		}},
		{"negative", 422, func(t *testing.T, f *fx) *portaltest.Response {
			return f.do(t, "PUT", "/v1/platform/partners/"+f.p.ID+"/sites/"+f.site(t)+"/usage", map[string]any{"users": -1, "devices": 40}, platform()...)
		}},
	},
}

// TestCasesCoverTheDocument fails when an operation of openapi.yaml has no
// success case or no error case, or when a case names no operation.
func TestCasesCoverTheDocument(t *testing.T) {
	c := loadContract(t)
	ops := c.operations()
	if len(ops) == 0 {
		t.Fatal("openapi.yaml has no operations")
	}
	documented := map[string]bool{}
	for _, op := range ops {
		documented[op] = true
		var ok, failed bool
		for _, tc := range cases[op] {
			ok = ok || tc.want < 300
			failed = failed || tc.want >= 400
		}
		if !ok {
			t.Errorf("%s: no success case", op)
		}
		if !failed {
			t.Errorf("%s: no error case", op)
		}
	}
	for op := range cases {
		if !documented[op] {
			t.Errorf("cases has %s, which openapi.yaml does not document", op)
		}
	}
}

// TestHandlersConformToTheDocument drives every case through the real
// handlers and validates each response against the document.
func TestHandlersConformToTheDocument(t *testing.T) {
	c := loadContract(t)
	f := newFx(t)
	for _, op := range c.operations() {
		for _, tc := range cases[op] {
			t.Run(op+"/"+tc.name, func(t *testing.T) {
				res := tc.run(t, f)
				if res.Status != tc.want {
					t.Fatalf("status %d, want %d: %s", res.Status, tc.want, res.Body)
				}
				c.check(t, op, res)
			})
		}
	}
}
