package api_test

import (
	"context"
	"strings"
	"testing"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

type siteAdmin struct {
	Email, Status, InvitedAt, ExpiresAt string
	Delivery                            struct{ Status string }
}

// acceptSiteLink accepts a site-administrator link through the public route.
func acceptSiteLink(t *testing.T, env *portaltest.Env, token string) *portaltest.Response {
	t.Helper()
	return env.Do(t, "POST", "/v1/invitations/"+token+"/accept", map[string]any{})
}

func TestSiteAdministrators(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	opToken, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	obsToken, _ := env.NewAdmin(t, p, portal.RoleObserver)
	op, obs := portaltest.Bearer(opToken), portaltest.Bearer(obsToken)
	s := createSite(t, env, p.MasterToken, "Lyon HQ", "FR")
	base := "/v1/sites/" + s.ID + "/administrators"

	var res *portaltest.Response
	n := roundTrips(env, func() { res = env.Do(t, "POST", base, map[string]any{"email": " Alice@Customer.Example "}, op...) })
	if res.Status != 201 {
		t.Fatalf("invite: %d %s", res.Status, res.Body)
	}
	// Authentication, the transaction, then the delivery record after the
	// mail went out.
	if n != 3 {
		t.Errorf("POST administrators: %d round trips, want 3", n)
	}
	var sa siteAdmin
	res.Decode(t, &sa)
	if sa.Email != "alice@customer.example" || sa.Status != "invited" || sa.InvitedAt != "2026-11-16T09:00:00Z" || sa.ExpiresAt != "2026-11-23T09:00:00Z" || sa.Delivery.Status != "sent" {
		t.Errorf("invited = %+v", sa)
	}
	msgs := env.Mail.Messages("alice@customer.example")
	first := env.Mail.LinkToken(t, "alice@customer.example")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, portaltest.PublicURL+"/invitations/"+first) || !strings.Contains(msgs[0].Text, "Lyon HQ") {
		t.Fatalf("mail = %+v", msgs)
	}

	// Re-inviting an invited email issues a new link and voids the old one.
	env.Clock.Advance(3600e9)
	if res = env.Do(t, "POST", base, map[string]any{"email": "alice@customer.example"}, op...); res.Status != 201 {
		t.Fatalf("re-invite: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &sa)
	if sa.ExpiresAt != "2026-11-23T10:00:00Z" {
		t.Errorf("re-invited = %+v", sa)
	}
	second := env.Mail.LinkToken(t, "alice@customer.example")
	if second == first {
		t.Fatal("re-invitation reused the link")
	}
	if res = env.Do(t, "GET", "/v1/invitations/"+first, nil); res.Status != 410 || res.Code() != "invitation_expired" {
		t.Errorf("old link: %d %s", res.Status, res.Body)
	}

	res = env.Do(t, "GET", "/v1/invitations/"+second, nil)
	if res.Status != 200 {
		t.Fatalf("lookup: %d %s", res.Status, res.Body)
	}
	view := res.Map(t)
	if view["kind"] != "site_admin" || view["email"] != "alice@customer.example" || view["site"].(map[string]any)["name"] != "Lyon HQ" ||
		view["partner"].(map[string]any)["name"] != "Acme" || view["role"] != nil {
		t.Errorf("view = %v", view)
	}

	if res = acceptSiteLink(t, env, second); res.Status != 200 || res.Map(t)["status"] != "accepted" {
		t.Fatalf("accept: %d %s", res.Status, res.Body)
	}
	if res = acceptSiteLink(t, env, second); res.Status != 410 {
		t.Errorf("accept twice: %d %s", res.Status, res.Body)
	}
	if res = env.Do(t, "GET", "/v1/invitations/"+second, nil); res.Status != 410 || res.Code() != "invitation_used" {
		t.Errorf("used link: %d %s", res.Status, res.Body)
	}
	// No portal account was created: the email cannot sign in.
	if _, err := env.Store.Authenticate(context.Background(), second, dynamoAuthNone()); err == nil {
		t.Error("the link token authenticates")
	}

	// An active administrator cannot be invited again.
	if res = env.Do(t, "POST", base, map[string]any{"email": "alice@customer.example"}, op...); res.Status != 409 || res.Code() != "already_exists" {
		t.Errorf("invite active: %d %s", res.Status, res.Body)
	}
	// A portal administrator of this partner cannot be a site administrator.
	if res = env.Do(t, "POST", base, map[string]any{"email": strings.ToUpper(opEmail)}, op...); res.Status != 409 || res.Code() != "conflict" {
		t.Errorf("invite a portal administrator: %d %s", res.Status, res.Body)
	}
	if res = env.Do(t, "POST", base, map[string]any{"email": "not an email"}, op...); res.Status != 422 {
		t.Errorf("bad email: %d", res.Status)
	}
	if res = env.Do(t, "POST", base, map[string]any{"email": "bob@customer.example"}, obs...); res.Status != 403 {
		t.Errorf("observer invites: %d", res.Status)
	}
	if res = env.Do(t, "POST", base, map[string]any{"email": "bob@customer.example"}, op...); res.Status != 201 {
		t.Fatalf("invite bob: %d %s", res.Status, res.Body)
	}
	bobLink := env.Mail.LinkToken(t, "bob@customer.example")

	// Any role lists them, by email.
	n = roundTrips(env, func() { res = env.Do(t, "GET", base, nil, obs...) })
	var l struct{ Items []siteAdmin }
	res.Decode(t, &l)
	if res.Status != 200 || n != 2 || len(l.Items) != 2 || l.Items[0].Email != "alice@customer.example" || l.Items[0].Status != "active" || l.Items[1].Status != "invited" {
		t.Errorf("list: %d %s (%d round trips)", res.Status, res.Body, n)
	}

	// Removing a pending invitation voids its link.
	n = roundTrips(env, func() { res = env.Do(t, "DELETE", base+"/bob%40customer.example", nil, op...) })
	if res.Status != 204 || n != 2 {
		t.Fatalf("remove bob: %d %s (%d round trips)", res.Status, res.Body, n)
	}
	if res = env.Do(t, "GET", "/v1/invitations/"+bobLink, nil); res.Status != 410 {
		t.Errorf("removed invitation's link: %d", res.Status)
	}
	if res = env.Do(t, "DELETE", base+"/bob@customer.example", nil, op...); res.Status != 404 {
		t.Errorf("remove twice: %d", res.Status)
	}
	if res = env.Do(t, "DELETE", base+"/alice@customer.example", nil, obs...); res.Status != 403 {
		t.Errorf("observer removes: %d", res.Status)
	}
	if res = env.Do(t, "DELETE", base+"/alice@customer.example", nil, op...); res.Status != 204 {
		t.Errorf("remove alice: %d", res.Status)
	}
	if res = env.Do(t, "GET", base, nil, obs...); len(res.Map(t)["items"].([]any)) != 0 {
		t.Errorf("after removals: %s", res.Body)
	}
}

func TestSiteAdministratorMailFailureIsRecorded(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	s := createSite(t, env, p.MasterToken, "Lyon", "FR")
	auth := portaltest.Bearer(p.MasterToken)
	env.Mail.Fail(true)
	res := env.Do(t, "POST", "/v1/sites/"+s.ID+"/administrators", map[string]any{"email": "a@customer.example"}, auth...)
	if res.Status != 201 {
		t.Fatalf("invite: %d %s", res.Status, res.Body)
	}
	var sa siteAdmin
	res.Decode(t, &sa)
	if sa.Delivery.Status != "failed" {
		t.Errorf("delivery = %+v", sa.Delivery)
	}
	res = env.Do(t, "GET", "/v1/sites/"+s.ID+"/administrators", nil, auth...)
	if !strings.Contains(res.Body, `"status":"failed"`) {
		t.Errorf("list = %s", res.Body)
	}
	// Inviting again resends.
	env.Mail.Fail(false)
	res = env.Do(t, "POST", "/v1/sites/"+s.ID+"/administrators", map[string]any{"email": "a@customer.example"}, auth...)
	res.Decode(t, &sa)
	if res.Status != 201 || sa.Delivery.Status != "sent" || len(env.Mail.Messages("a@customer.example")) != 1 {
		t.Errorf("resend: %d %s", res.Status, res.Body)
	}
}
