package api_test

import (
	"context"
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
