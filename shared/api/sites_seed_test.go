package api_test

import (
	"context"
	"strings"
	"testing"

	"partnerportal/shared/portaltest"
)

func TestSeedDemoSites(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Demo")
	if err := env.Service.SeedDemoSites(context.Background(), p.ID, 33); err != nil {
		t.Fatal(err)
	}
	auth := portaltest.Bearer(p.MasterToken)
	var l siteList
	env.Do(t, "GET", "/v1/sites?limit=100", nil, auth...).Decode(t, &l)
	if len(l.Items) != 33 {
		t.Fatalf("%d sites", len(l.Items))
	}
	countries := map[string]bool{}
	for _, s := range l.Items {
		countries[s.Country] = true
		if s.Devices == 0 || s.MonthlyCost == 0 {
			t.Errorf("site without usage: %+v", s)
		}
	}
	if len(countries) < 10 {
		t.Errorf("%d countries", len(countries))
	}
	res := env.Do(t, "GET", "/v1/sites/"+l.Items[1].ID+"/notes", nil, auth...)
	if res.Status != 200 {
		t.Fatalf("notes: %d", res.Status)
	}
	res = env.Do(t, "GET", "/v1/platform/partners/"+p.ID, nil, plat...)
	if res.Map(t)["siteCount"] != float64(33) {
		t.Errorf("partner = %s", res.Body)
	}
}

// TestSeedDemoNotesHaveAnAuthor: a note's author has an id and an email
// (openapi.yaml's NoteAuthor), seeded notes included.
func TestSeedDemoNotesHaveAnAuthor(t *testing.T) {
	env := portaltest.New(t)
	p := env.NewPartner(t, "Demo")
	if err := env.Service.SeedDemoSites(context.Background(), p.ID, 3); err != nil {
		t.Fatal(err)
	}
	auth := portaltest.Bearer(p.MasterToken)
	var l siteList
	env.Do(t, "GET", "/v1/sites?limit=100", nil, auth...).Decode(t, &l)
	seen := 0
	for _, s := range l.Items {
		var notes struct {
			Items []struct {
				Author struct{ ID, Email, Name string }
			}
		}
		env.Do(t, "GET", "/v1/sites/"+s.ID+"/notes", nil, auth...).Decode(t, &notes)
		for _, n := range notes.Items {
			seen++
			if n.Author.ID == "" || !strings.Contains(n.Author.Email, "@") || n.Author.Name == "" {
				t.Errorf("note author %+v", n.Author)
			}
		}
	}
	if seen == 0 {
		t.Fatal("no seeded notes")
	}
}
