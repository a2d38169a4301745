package api_test

import (
	"strings"
	"testing"

	"partnerportal/shared/portaltest"
)

func TestPlatformOnboarding(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth}

	res := env.Do(t, "POST", "/v1/platform/partners", map[string]any{"name": "Acme Security", "country": "FR", "masterEmail": "  Boss@Acme.Example "}, plat...)
	if res.Status != 201 {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var created struct {
		Partner    struct{ ID, Name, Status string }
		Invitation struct{ ID, Email, ExpiresAt string }
	}
	res.Decode(t, &created)
	if created.Partner.Status != "pending" || created.Invitation.Email != "boss@acme.example" {
		t.Fatalf("created = %+v", created)
	}
	if got := res.Headers["location"]; got != "/v1/platform/partners/"+created.Partner.ID {
		t.Errorf("location = %q", got)
	}
	token := env.Mail.LinkToken(t, "boss@acme.example")
	msg := env.Mail.Messages("boss@acme.example")[0]
	if !strings.Contains(msg.Text, portaltest.PublicURL+"/invitations/"+token) || !strings.Contains(msg.HTML, token) {
		t.Errorf("mail lacks the link: %q", msg.Text)
	}

	env.Counter.Reset()
	res = env.Do(t, "GET", "/v1/invitations/"+token, nil)
	if res.Status != 200 {
		t.Fatalf("invitation: %d %s", res.Status, res.Body)
	}
	inv := res.Map(t)
	if inv["kind"] != "portal_admin" || inv["role"] != "master" || inv["partner"].(map[string]any)["name"] != "Acme Security" {
		t.Errorf("invitation view = %v", inv)
	}
	if n := env.Counter.Total(); n != 2 {
		t.Errorf("GET /v1/invitations/{token}: %d round trips, want 2", n)
	}

	res = env.Do(t, "GET", "/v1/platform/partners/"+created.Partner.ID, nil, plat...)
	if res.Status != 200 || res.Map(t)["status"] != "pending" {
		t.Fatalf("get: %d %s", res.Status, res.Body)
	}
	res = env.Do(t, "PATCH", "/v1/platform/partners/"+created.Partner.ID, map[string]any{"status": "suspended"}, plat...)
	if res.Status != 409 {
		t.Errorf("suspending a pending partner: %d %s", res.Status, res.Body)
	}
	res = env.Do(t, "GET", "/v1/platform/partners?limit=1", nil, plat...)
	var list struct {
		Items      []map[string]any
		NextCursor *string
	}
	res.Decode(t, &list)
	if len(list.Items) != 1 || list.NextCursor != nil {
		t.Errorf("list = %s", res.Body)
	}
}

func TestPlatformRequiresIAM(t *testing.T) {
	env := portaltest.New(t)
	res := env.Do(t, "GET", "/v1/platform/partners", nil)
	if res.Status != 401 || res.Code() != "unauthenticated" || res.Headers["content-type"] != "application/problem+json" {
		t.Fatalf("unsigned: %d %v %s", res.Status, res.Headers, res.Body)
	}
}

func TestCreatePartnerValidation(t *testing.T) {
	env := portaltest.New(t)
	plat := []string{"authorization", portaltest.PlatformAuth}
	for _, tc := range []struct {
		body   any
		status int
		code   string
	}{
		{map[string]any{"name": "", "country": "XX", "masterEmail": "nope"}, 422, "validation_failed"},
		{`{"name":"A","country":"FR","masterEmail":"a@b.example","extra":1}`, 400, "malformed_request"},
		{`{"name":1}`, 400, "malformed_request"},
		{`{not json`, 400, "malformed_request"},
		{strings.Repeat(" ", 70<<10), 413, "payload_too_large"},
	} {
		res := env.Do(t, "POST", "/v1/platform/partners", tc.body, plat...)
		if res.Status != tc.status || res.Code() != tc.code {
			t.Errorf("%.40v: %d %s", tc.body, res.Status, res.Body)
		}
	}
	res := env.Do(t, "POST", "/v1/platform/partners", "name=a", append(plat, "content-type", "text/plain")...)
	if res.Status != 415 {
		t.Errorf("text/plain: %d", res.Status)
	}
	if got := len(env.Mail.All()); got != 0 {
		t.Errorf("%d mails sent for invalid requests", got)
	}
}

func TestActivationAndSessionFixture(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Beta")
	res := env.Do(t, "GET", "/v1/platform/partners/"+p.ID, nil, "authorization", portaltest.PlatformAuth)
	if res.Map(t)["status"] != "active" {
		t.Fatalf("partner after master acceptance: %s", res.Body)
	}
	res = env.Do(t, "GET", "/v1/invitations/"+env.Mail.LinkToken(t, p.MasterEmail), nil)
	if res.Status != 410 || res.Code() != "invitation_used" {
		t.Fatalf("used invitation: %d %s", res.Status, res.Body)
	}
}
