package api_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

type invitationBody struct {
	ID        string
	Email     string
	Role      portal.Role
	Status    string
	ExpiresAt time.Time
	InvitedBy portal.Actor
	Delivery  struct {
		Status string
		At     *time.Time
		Error  string
	}
}

func TestInviteResendRevoke(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	adminTok, _ := env.NewAdmin(t, p, portal.RoleAdmin)
	bearer := portaltest.Bearer(adminTok)

	env.Counter.Reset()
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "new@acme.example", "role": "operator"}, bearer...)
	wantStatus(t, "invite", res, 201, "")
	if n := env.Counter.Total(); n != 4 {
		t.Errorf("invite: %d round trips, want 4 (auth, site-administrator query, transaction, delivery record)", n)
	}
	var inv invitationBody
	res.Decode(t, &inv)
	caller := me(t, env, adminTok)
	if inv.Status != "pending" || inv.Role != portal.RoleOperator || inv.Delivery.Status != "sent" || inv.Delivery.At == nil ||
		inv.InvitedBy.ID != caller.ID || !inv.ExpiresAt.Equal(env.Clock.Now().Add(7*24*time.Hour)) {
		t.Errorf("invitation = %+v", inv)
	}
	first := env.Mail.LinkToken(t, "new@acme.example")

	// A second invitation to the same email in the same partner is refused.
	res = env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "NEW@acme.example", "role": "observer"}, bearer...)
	wantStatus(t, "duplicate", res, 409, "already_exists")

	env.Counter.Reset()
	res = env.Do(t, "GET", "/v1/admins/invitations", nil, bearer...)
	wantStatus(t, "list", res, 200, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("list invitations: %d round trips, want 2", n)
	}
	if !strings.Contains(res.Body, inv.ID) {
		t.Errorf("list lacks the invitation: %s", res.Body)
	}

	// Resend: a new link; the old one is void.
	env.Clock.Advance(time.Hour)
	env.Counter.Reset()
	res = env.Do(t, "POST", "/v1/admins/invitations/"+inv.ID+"/resend", nil, bearer...)
	wantStatus(t, "resend", res, 200, "")
	if n := env.Counter.Total(); n != 3 {
		t.Errorf("resend: %d round trips, want 3 (auth+invitation, transaction, delivery record)", n)
	}
	var resent invitationBody
	res.Decode(t, &resent)
	if !resent.ExpiresAt.Equal(env.Clock.Now().Add(7 * 24 * time.Hour)) {
		t.Errorf("resent expiry = %v", resent.ExpiresAt)
	}
	second := env.Mail.LinkToken(t, "new@acme.example")
	if second == first {
		t.Fatal("resend mailed the same token")
	}
	wantStatus(t, "old link", env.Do(t, "GET", "/v1/invitations/"+first, nil), 410, "invitation_expired")
	wantStatus(t, "old link accept", env.Do(t, "POST", "/v1/invitations/"+first+"/accept", map[string]any{"name": "N", "password": newPassword}), 410, "invitation_expired")
	wantStatus(t, "new link", env.Do(t, "GET", "/v1/invitations/"+second, nil), 200, "")

	// Revoke: the link dies and the invitation leaves the list.
	env.Counter.Reset()
	wantStatus(t, "revoke", env.Do(t, "DELETE", "/v1/admins/invitations/"+inv.ID, nil, bearer...), 204, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("revoke: %d round trips, want 2", n)
	}
	wantStatus(t, "revoked link", env.Do(t, "POST", "/v1/invitations/"+second+"/accept", map[string]any{"name": "N", "password": newPassword}), 410, "invitation_expired")
	wantStatus(t, "revoke again", env.Do(t, "DELETE", "/v1/admins/invitations/"+inv.ID, nil, bearer...), 204, "")
	wantStatus(t, "resend revoked", env.Do(t, "POST", "/v1/admins/invitations/"+inv.ID+"/resend", nil, bearer...), 409, "conflict")
	if res := env.Do(t, "GET", "/v1/admins/invitations", nil, bearer...); strings.Contains(res.Body, inv.ID) {
		t.Errorf("revoked invitation still listed: %s", res.Body)
	}
	// The email can be invited again once the old invitation is revoked.
	invite(t, env, adminTok, "new@acme.example", portal.RoleObserver)
}

func TestExpiredInvitationCanBeResentAndReinvited(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	id, link := invite(t, env, p.MasterToken, "slow@acme.example", portal.RoleObserver)
	env.Clock.Advance(8 * 24 * time.Hour)
	tok := login(t, env, p.MasterEmail, portaltest.Password) // the fixture's session expired
	res := env.Do(t, "GET", "/v1/admins/invitations", nil, portaltest.Bearer(tok)...)
	if !strings.Contains(res.Body, `"status":"expired"`) {
		t.Errorf("expired invitation not shown as expired: %s", res.Body)
	}
	wantStatus(t, "expired link", env.Do(t, "GET", "/v1/invitations/"+link, nil), 410, "invitation_expired")
	wantStatus(t, "resend", env.Do(t, "POST", "/v1/admins/invitations/"+id+"/resend", nil, portaltest.Bearer(tok)...), 200, "")
	accept(t, env, env.Mail.LinkToken(t, "slow@acme.example"), "Slow", newPassword)

	// An expired invitation does not block a new one to the same email.
	invite(t, env, tok, "later@acme.example", portal.RoleObserver)
	env.Clock.Advance(8 * 24 * time.Hour)
	tok = login(t, env, p.MasterEmail, portaltest.Password)
	invite(t, env, tok, "later@acme.example", portal.RoleOperator)
}

func TestInvitationSurvivesMailFailure(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	env.Mail.Fail(true)
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "lost@acme.example", "role": "observer"}, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "invite with SES down", res, 201, "")
	var inv invitationBody
	res.Decode(t, &inv)
	if inv.Delivery.Status != "failed" || inv.Delivery.Error == "" {
		t.Fatalf("delivery = %+v", inv.Delivery)
	}
	res = env.Do(t, "GET", "/v1/admins/invitations", nil, portaltest.Bearer(p.MasterToken)...)
	var list struct{ Items []invitationBody }
	res.Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != inv.ID || list.Items[0].Delivery.Status != "failed" {
		t.Fatalf("stored invitation = %s", res.Body)
	}

	env.Mail.Fail(false)
	res = env.Do(t, "POST", "/v1/admins/invitations/"+inv.ID+"/resend", nil, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "resend", res, 200, "")
	res.Decode(t, &inv)
	if inv.Delivery.Status != "sent" {
		t.Fatalf("delivery after resend = %+v", inv.Delivery)
	}
	accept(t, env, env.Mail.LinkToken(t, "lost@acme.example"), "Found", newPassword)
}

func TestInviteIsIdempotent(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	h := append(portaltest.Bearer(p.MasterToken), "idempotency-key", "k-1")
	body := map[string]any{"email": "once@acme.example", "role": "observer"}
	first := env.Do(t, "POST", "/v1/admins/invitations", body, h...)
	wantStatus(t, "first", first, 201, "")
	again := env.Do(t, "POST", "/v1/admins/invitations", body, h...)
	wantStatus(t, "replay", again, 201, "")
	if again.Headers["idempotent-replayed"] != "true" || again.Map(t)["id"] != first.Map(t)["id"] {
		t.Fatalf("replay: %v %s", again.Headers, again.Body)
	}
	if n := len(env.Mail.Messages("once@acme.example")); n != 1 {
		t.Errorf("%d mails, want 1", n)
	}
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "other@acme.example", "role": "observer"}, h...)
	wantStatus(t, "same key, other body", res, 422, "idempotency_key_reused")
}

func TestInviteRefusesEndCustomers(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	other := env.NewPartner(t, "Bravo")
	// A site administrator of one of Acme's sites, stored as the sites slice
	// stores them (GSI2PK = P#<partner>#SITEADMIN#<email>).
	siteAdmin := func(pid, email string) {
		_, err := env.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(env.Table), Item: map[string]types.AttributeValue{
			"PK":     &types.AttributeValueMemberS{Value: "P#" + pid},
			"SK":     &types.AttributeValueMemberS{Value: "SITE#s1#ADMIN#" + email},
			"GSI2PK": &types.AttributeValueMemberS{Value: "P#" + pid + "#SITEADMIN#" + email},
			"GSI2SK": &types.AttributeValueMemberS{Value: "SITE#s1"},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	siteAdmin(p.ID, "customer@client.example")
	res := env.Do(t, "POST", "/v1/admins/invitations", map[string]any{"email": "Customer@client.example", "role": "observer"}, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "invite an end customer", res, 409, "end_customer_email")
	// Another partner's end customer is not Acme's concern.
	invite(t, env, other.MasterToken, "customer@client.example", portal.RoleObserver)

	// Becoming a site administrator while invited blocks the acceptance.
	_, link := invite(t, env, p.MasterToken, "switch@client.example", portal.RoleObserver)
	siteAdmin(p.ID, "switch@client.example")
	res = env.Do(t, "POST", "/v1/invitations/"+link+"/accept", map[string]any{"name": "S", "password": newPassword})
	wantStatus(t, "accept as end customer", res, 409, "end_customer_email")
}

func TestRoleRules(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	adminTok, _ := env.NewAdmin(t, p, portal.RoleAdmin)
	opTok, _ := env.NewAdmin(t, p, portal.RoleOperator)
	obsTok, _ := env.NewAdmin(t, p, portal.RoleObserver)
	master2Tok, _ := env.NewAdmin(t, p, portal.RoleMaster)
	op, obs, master2, master := me(t, env, opTok), me(t, env, obsTok), me(t, env, master2Tok), me(t, env, p.MasterToken)
	masterInv, _ := invite(t, env, p.MasterToken, "m3@acme.example", portal.RoleMaster)

	for _, tc := range []struct {
		what         string
		token        string
		method, path string
		body         any
		status       int
	}{
		{"admin invites a master", adminTok, "POST", "/v1/admins/invitations", map[string]any{"email": "x@acme.example", "role": "master"}, 403},
		{"admin promotes to master", adminTok, "PATCH", "/v1/admins/" + op.ID, map[string]any{"role": "master"}, 403},
		{"admin demotes a master", adminTok, "PATCH", "/v1/admins/" + master2.ID, map[string]any{"role": "admin"}, 403},
		{"admin removes a master", adminTok, "DELETE", "/v1/admins/" + master2.ID, nil, 403},
		{"admin resends a master invitation", adminTok, "POST", "/v1/admins/invitations/" + masterInv + "/resend", nil, 403},
		{"admin revokes a master invitation", adminTok, "DELETE", "/v1/admins/invitations/" + masterInv, nil, 403},
		{"operator raises self", opTok, "PATCH", "/v1/admins/" + op.ID, map[string]any{"role": "admin"}, 403},
		{"admin raises self", adminTok, "PATCH", "/v1/admins/" + me(t, env, adminTok).ID, map[string]any{"role": "master"}, 403},
		{"invalid role", adminTok, "PATCH", "/v1/admins/" + op.ID, map[string]any{"role": "owner"}, 422},
		{"unknown administrator", adminTok, "PATCH", "/v1/admins/" + portal.NewID(env.Clock.Now()), map[string]any{"role": "observer"}, 404},
		{"malformed id", adminTok, "DELETE", "/v1/admins/nope", nil, 404},
		{"admin removes self", adminTok, "DELETE", "/v1/admins/" + me(t, env, adminTok).ID, nil, 409},
		{"admin promotes an observer to admin", adminTok, "PATCH", "/v1/admins/" + obs.ID, map[string]any{"role": "admin"}, 200},
		{"admin invites an admin", adminTok, "POST", "/v1/admins/invitations", map[string]any{"email": "a2@acme.example", "role": "admin"}, 201},
		{"master promotes an operator to master", p.MasterToken, "PATCH", "/v1/admins/" + op.ID, map[string]any{"role": "master"}, 200},
		{"master steps down while others remain", p.MasterToken, "PATCH", "/v1/admins/" + master.ID, map[string]any{"role": "admin"}, 200},
	} {
		if got := status(t, env, tc.token, tc.method, tc.path, tc.body); got != tc.status {
			t.Errorf("%s: %d, want %d", tc.what, got, tc.status)
		}
	}
	// The observer promoted to admin sees it on the very next request.
	if got := me(t, env, obsTok); got.Role != portal.RoleAdmin {
		t.Errorf("promoted role = %s", got.Role)
	}
}

func TestLastMaster(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	adminTok, _ := env.NewAdmin(t, p, portal.RoleAdmin)
	master := me(t, env, p.MasterToken)

	res := env.Do(t, "PATCH", "/v1/admins/"+master.ID, map[string]any{"role": "admin"}, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "last master steps down", res, 409, "last_master")
	admin := me(t, env, adminTok)
	wantStatus(t, "promote admin", env.Do(t, "PATCH", "/v1/admins/"+admin.ID, map[string]any{"role": "master"}, portaltest.Bearer(p.MasterToken)...), 200, "")
	// Two masters now; removing one is fine, removing the last is not.
	env.Counter.Reset()
	wantStatus(t, "remove a master", env.Do(t, "DELETE", "/v1/admins/"+master.ID, nil, portaltest.Bearer(adminTok)...), 204, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("remove: %d round trips, want 2", n)
	}
	// The removed master's session died with the administrator.
	wantStatus(t, "removed master's session", env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(p.MasterToken)...), 401, "unauthenticated")
	wantStatus(t, "removed master signs in", env.Do(t, "POST", "/v1/auth/login", map[string]any{"email": p.MasterEmail, "password": portaltest.Password}), 401, "unauthenticated")
	res = env.Do(t, "PATCH", "/v1/admins/"+admin.ID, map[string]any{"role": "operator"}, portaltest.Bearer(adminTok)...)
	wantStatus(t, "demote the last master", res, 409, "last_master")
	// The removed email is free again: it can be invited back.
	invite(t, env, adminTok, p.MasterEmail, portal.RoleObserver)
}

// Two masters demote each other at the same moment: the master count on the
// partner item is changed under a condition in each transaction, so one
// demotion wins and the partner keeps exactly one master.
func TestLastMasterRace(t *testing.T) {
	for round := 0; round < 3; round++ {
		env := portaltest.New(t)
		p := env.NewPartner(t, "Acme")
		otherTok, _ := env.NewAdmin(t, p, portal.RoleMaster)
		a, b := me(t, env, p.MasterToken), me(t, env, otherTok)
		var wg sync.WaitGroup
		var resA, resB *portaltest.Response
		wg.Add(2)
		go func() {
			defer wg.Done()
			resA = env.Do(t, "PATCH", "/v1/admins/"+b.ID, map[string]any{"role": "admin"}, portaltest.Bearer(p.MasterToken)...)
		}()
		go func() {
			defer wg.Done()
			resB = env.Do(t, "PATCH", "/v1/admins/"+a.ID, map[string]any{"role": "admin"}, portaltest.Bearer(otherTok)...)
		}()
		wg.Wait()
		ok := 0
		for _, r := range []*portaltest.Response{resA, resB} {
			switch {
			case r.Status == 200:
				ok++
			case r.Status == 409 || r.Status == 403:
				// last_master, a conflict, or 403 when the loser was demoted first
			default:
				t.Errorf("status %d %s", r.Status, r.Body)
			}
		}
		if ok != 1 {
			t.Fatalf("%d demotions succeeded, want 1: %s / %s", ok, resA.Body, resB.Body)
		}
		list := env.Do(t, "GET", "/v1/admins", nil, portaltest.Bearer(map[bool]string{true: p.MasterToken, false: otherTok}[resA.Status != 200])...)
		if c := strings.Count(list.Body, `"role":"master"`); c != 1 {
			t.Fatalf("%d masters left: %s", c, list.Body)
		}
	}
}

func TestRemovalEndsSessionsOnNextRequest(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	opTok, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	second := login(t, env, opEmail, portaltest.Password)
	op := me(t, env, opTok)
	wantStatus(t, "remove", env.Do(t, "DELETE", "/v1/admins/"+op.ID, nil, portaltest.Bearer(p.MasterToken)...), 204, "")
	for _, tok := range []string{opTok, second} {
		wantStatus(t, "removed admin's session", env.Do(t, "GET", "/v1/partner", nil, portaltest.Bearer(tok)...), 401, "unauthenticated")
	}
	wantStatus(t, "remove again", env.Do(t, "DELETE", "/v1/admins/"+op.ID, nil, portaltest.Bearer(p.MasterToken)...), 404, "not_found")
}

func TestAdminsPagination(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	for i := 0; i < 4; i++ {
		env.NewAdmin(t, p, portal.RoleObserver)
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		path := "/v1/admins?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := env.Do(t, "GET", path, nil, portaltest.Bearer(p.MasterToken)...)
		wantStatus(t, "page", res, 200, "")
		var page struct {
			Items      []portal.Admin
			NextCursor *string
		}
		res.Decode(t, &page)
		for _, a := range page.Items {
			seen[a.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(seen) != 5 {
		t.Fatalf("saw %d administrators, want 5", len(seen))
	}
	other := env.NewPartner(t, "Bravo")
	res := env.Do(t, "GET", "/v1/admins?limit=1", nil, portaltest.Bearer(p.MasterToken)...)
	var page struct{ NextCursor *string }
	res.Decode(t, &page)
	res = env.Do(t, "GET", "/v1/admins?limit=1&cursor="+*page.NextCursor, nil, portaltest.Bearer(other.MasterToken)...)
	wantStatus(t, "another partner's cursor", res, 400, "malformed_request")
	wantStatus(t, "bad limit", env.Do(t, "GET", "/v1/admins?limit=101", nil, portaltest.Bearer(p.MasterToken)...), 422, "validation_failed")
}

func TestPartnerSettings(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	env.Counter.Reset()
	res := env.Do(t, "GET", "/v1/partner", nil, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "get", res, 200, "")
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("GET /v1/partner: %d round trips, want 1", n)
	}
	m := res.Map(t)
	for _, k := range []string{"id", "name", "country", "status", "lowCreditThresholdMonths", "credits", "siteCount"} {
		if _, ok := m[k]; !ok {
			t.Errorf("partner lacks %s: %s", k, res.Body)
		}
	}
	if len(m) != 7 || m["lowCreditThresholdMonths"] != float64(1) {
		t.Errorf("partner = %s", res.Body)
	}
	env.Counter.Reset()
	res = env.Do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 12}, portaltest.Bearer(p.MasterToken)...)
	wantStatus(t, "patch", res, 200, "")
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("PATCH /v1/partner: %d round trips, want 2", n)
	}
	if got := env.Do(t, "GET", "/v1/partner", nil, portaltest.Bearer(p.MasterToken)...).Map(t)["lowCreditThresholdMonths"]; got != float64(12) {
		t.Errorf("threshold after patch = %v", got)
	}
	for _, body := range []any{map[string]any{"lowCreditThresholdMonths": 13}, map[string]any{"lowCreditThresholdMonths": -1}, map[string]any{}} {
		wantStatus(t, "invalid threshold", env.Do(t, "PATCH", "/v1/partner", body, portaltest.Bearer(p.MasterToken)...), 422, "validation_failed")
	}
	wantStatus(t, "fractional threshold", env.Do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 1.5}, portaltest.Bearer(p.MasterToken)...), 400, "malformed_request")
}

func TestMe(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	tok, _ := env.NewAdmin(t, p, portal.RoleOperator)
	env.Counter.Reset()
	res := env.Do(t, "GET", "/v1/me", nil, portaltest.Bearer(tok)...)
	wantStatus(t, "me", res, 200, "")
	if n := env.Counter.Total(); n != 1 {
		t.Errorf("GET /v1/me: %d round trips, want 1", n)
	}
	var out struct {
		Admin       map[string]any
		Partner     map[string]any
		Permissions []string
	}
	res.Decode(t, &out)
	if out.Partner["id"] != p.ID || out.Admin["role"] != "operator" {
		t.Errorf("me = %s", res.Body)
	}
	want := "view sites:write credits:write"
	if got := strings.Join(out.Permissions, " "); got != want {
		t.Errorf("permissions = %q, want %q", got, want)
	}
	for _, k := range []string{"id", "email", "name", "role", "createdAt", "lastLoginAt"} {
		if _, ok := out.Admin[k]; !ok {
			t.Errorf("admin lacks %s", k)
		}
	}
}

// TestAuditTrail checks that each mutation of this slice leaves its entry.
func TestAuditTrail(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	tok := login(t, env, p.MasterEmail, portaltest.Password)
	id, _ := invite(t, env, tok, "a@acme.example", portal.RoleObserver)
	env.Do(t, "POST", "/v1/admins/invitations/"+id+"/resend", nil, portaltest.Bearer(tok)...)
	env.Do(t, "DELETE", "/v1/admins/invitations/"+id, nil, portaltest.Bearer(tok)...)
	opTok, _ := env.NewAdmin(t, p, portal.RoleOperator)
	op := me(t, env, opTok)
	env.Do(t, "PATCH", "/v1/admins/"+op.ID, map[string]any{"role": "observer"}, portaltest.Bearer(tok)...)
	env.Do(t, "DELETE", "/v1/admins/"+op.ID, nil, portaltest.Bearer(tok)...)
	env.Do(t, "PATCH", "/v1/partner", map[string]any{"lowCreditThresholdMonths": 2}, portaltest.Bearer(tok)...)
	env.Do(t, "PATCH", "/v1/me", map[string]any{"name": "Boss"}, portaltest.Bearer(tok)...)
	env.Do(t, "POST", "/v1/auth/logout", nil, portaltest.Bearer(tok)...)
	env.Do(t, "POST", "/v1/auth/password-reset", map[string]any{"email": p.MasterEmail})
	env.Do(t, "POST", "/v1/auth/password-reset/confirm", map[string]any{"token": env.Mail.LinkToken(t, p.MasterEmail), "password": newPassword})

	page, err := env.Store.ListAudit(context.Background(), p.ID, time.Time{}, time.Time{}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range page.Items {
		got[e.Action] = true
	}
	for _, a := range []string{"invitation.accepted", "session.created", "invitation.created", "invitation.resent", "invitation.revoked",
		"admin.role_changed", "admin.removed", "partner.updated", "admin.self_updated", "session.ended", "password.reset_requested", "password.reset"} {
		if !got[a] {
			t.Errorf("no audit entry %s (have %v)", a, got)
		}
	}
}
