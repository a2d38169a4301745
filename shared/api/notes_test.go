package api_test

import (
	"strings"
	"testing"

	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

type note struct {
	ID                   string
	Text                 string
	Author               struct{ ID, Email, Name string }
	CreatedAt, UpdatedAt string
}

func TestNotes(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Acme")
	opToken, opEmail := env.NewAdmin(t, p, portal.RoleOperator)
	obsToken, _ := env.NewAdmin(t, p, portal.RoleObserver)
	op, obs := portaltest.Bearer(opToken), portaltest.Bearer(obsToken)
	s := createSite(t, env, p.MasterToken, "Lyon", "FR")
	base := "/v1/sites/" + s.ID + "/notes"

	var res *portaltest.Response
	var ids []string
	for i, text := range []string{"first", "second\nwith a line break", "third"} {
		n := roundTrips(env, func() { res = env.Do(t, "POST", base, map[string]any{"text": text}, op...) })
		if res.Status != 201 {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		if n != 2 {
			t.Errorf("POST notes: %d round trips, want 2", n)
		}
		var got note
		res.Decode(t, &got)
		if got.Text != text || got.Author.Email != opEmail || got.Author.Name != "operator user" || got.Author.ID == "" || got.CreatedAt != got.UpdatedAt {
			t.Errorf("note %d = %+v", i, got)
		}
		if res.Headers["location"] != base+"/"+got.ID {
			t.Errorf("location = %q", res.Headers["location"])
		}
		ids = append(ids, got.ID)
		env.Clock.Advance(1e9)
	}
	if res = env.Do(t, "POST", base, map[string]any{"text": "no"}, obs...); res.Status != 403 {
		t.Errorf("observer writes a note: %d", res.Status)
	}
	for _, bad := range []any{map[string]any{"text": ""}, map[string]any{"text": "  \n "}, map[string]any{}, map[string]any{"text": strings.Repeat("x", 2001)}, map[string]any{"text": "bell\a"}} {
		if res = env.Do(t, "POST", base, bad, op...); res.Status != 422 {
			t.Errorf("%v: %d", bad, res.Status)
		}
	}
	if res = env.Do(t, "POST", base, map[string]any{"text": strings.Repeat("é", 2000)}, op...); res.Status != 201 {
		t.Errorf("2000 characters: %d", res.Status)
	}
	ids = append(ids, res.Map(t)["id"].(string))

	// Newest first, paged; any role reads.
	var got []string
	target := base + "?limit=3"
	for {
		n := roundTrips(env, func() { res = env.Do(t, "GET", target, nil, obs...) })
		if res.Status != 200 || n != 2 {
			t.Fatalf("list: %d %s (%d round trips)", res.Status, res.Body, n)
		}
		var l struct {
			Items      []note
			NextCursor *string
		}
		res.Decode(t, &l)
		for _, n := range l.Items {
			got = append(got, n.ID)
		}
		if l.NextCursor == nil {
			break
		}
		target = addCursor(base+"?limit=3", *l.NextCursor)
	}
	if strings.Join(got, ",") != strings.Join([]string{ids[3], ids[2], ids[1], ids[0]}, ",") {
		t.Errorf("order = %v, want newest first of %v", got, ids)
	}

	env.Clock.Advance(60e9)
	n := roundTrips(env, func() { res = env.Do(t, "PATCH", base+"/"+ids[0], map[string]any{"text": "edited"}, op...) })
	if res.Status != 200 || n != 2 {
		t.Fatalf("patch: %d %s (%d round trips)", res.Status, res.Body, n)
	}
	var edited note
	res.Decode(t, &edited)
	if edited.Text != "edited" || edited.ID != ids[0] || edited.Author.Email != opEmail || edited.UpdatedAt == edited.CreatedAt {
		t.Errorf("edited = %+v", edited)
	}
	if res = env.Do(t, "PATCH", base+"/"+portal.NewID(env.Clock.Now()), map[string]any{"text": "x"}, op...); res.Status != 404 {
		t.Errorf("patch absent note: %d", res.Status)
	}
	if res = env.Do(t, "PATCH", base+"/not-an-id", map[string]any{"text": "x"}, op...); res.Status != 404 {
		t.Errorf("patch malformed note id: %d", res.Status)
	}
	if res = env.Do(t, "DELETE", base+"/"+ids[0], nil, obs...); res.Status != 403 {
		t.Errorf("observer deletes: %d", res.Status)
	}
	n = roundTrips(env, func() { res = env.Do(t, "DELETE", base+"/"+ids[0], nil, op...) })
	if res.Status != 204 || n != 2 {
		t.Fatalf("delete: %d %s (%d round trips)", res.Status, res.Body, n)
	}
	if res = env.Do(t, "DELETE", base+"/"+ids[0], nil, op...); res.Status != 404 {
		t.Errorf("delete twice: %d", res.Status)
	}

	// A note of one site is not reachable through another site.
	other := createSite(t, env, p.MasterToken, "Paris", "FR")
	if res = env.Do(t, "PATCH", "/v1/sites/"+other.ID+"/notes/"+ids[1], map[string]any{"text": "x"}, op...); res.Status != 404 {
		t.Errorf("note through another site: %d", res.Status)
	}
	if res = env.Do(t, "GET", "/v1/sites/"+other.ID+"/notes", nil, op...); res.Status != 200 || len(res.Map(t)["items"].([]any)) != 0 {
		t.Errorf("other site's notes: %s", res.Body)
	}

	// Deleting the site removes its notes (3 remain): the route then does
	// the cleanup after the transaction.
	n = roundTrips(env, func() { res = env.Do(t, "DELETE", "/v1/sites/"+s.ID, nil, portaltest.Bearer(p.MasterToken)...) })
	if res.Status != 204 {
		t.Fatalf("delete site: %d %s", res.Status, res.Body)
	}
	t.Logf("DELETE of a site with 3 notes: %d round trips %v", n, env.Counter.Ops())
	if leftovers := env.Do(t, "DELETE", "/v1/sites/"+s.ID, nil, portaltest.Bearer(p.MasterToken)...); leftovers.Status != 404 {
		t.Errorf("delete again: %d", leftovers.Status)
	}
	if got := countUnder(t, env, p.ID, s.ID); got != 0 {
		t.Errorf("%d items left under the deleted site", got)
	}
}
