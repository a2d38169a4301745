package api_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"partnerportal/shared/api"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
	"partnerportal/shared/portaltest"
)

// queryMeter records, for every Query, how many items it returned: with no
// FilterExpression that is what DynamoDB reads (Count = ScannedCount).
type queryMeter struct {
	mu    sync.Mutex
	reads []int32
}

func (m *queryMeter) attach(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("meterQueries",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if q, ok := out.Result.(*dynamodb.QueryOutput); ok && err == nil {
					m.mu.Lock()
					m.reads = append(m.reads, q.Count)
					m.mu.Unlock()
				}
				return out, md, err
			}), middleware.After)
	})
}

func (m *queryMeter) take() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.reads
	m.reads = nil
	return out
}

// TestSiteListingCost bulk-loads 10,000 sites under one partner and checks
// that a list page is one Query reading at most limit+1 items, or at most
// 10 × (limit+1) with a name filter, wherever the page is.
func TestSiteListingCost(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 10,000 sites; skipped with -short")
	}
	env := portaltest.New(t)
	p := env.NewPartner(t, "Big Reseller")
	ctx := context.Background()
	countries := []string{"FR", "DE", "US", "JP", "BR"}
	sites := make([]portal.Site, 10_000)
	now := env.Clock.Now()
	for i := range sites {
		name := fmt.Sprintf("Site %05d", i)
		if i%1000 == 7 {
			name = fmt.Sprintf("Rare Lighthouse %d", i)
		}
		sites[i] = portal.Site{ID: portal.NewID(now), Name: name, Country: countries[i%len(countries)], TimeZone: "UTC",
			Users: 1, Devices: 2, Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	if err := env.Store.BulkLoadSites(ctx, p.ID, sites); err != nil {
		t.Fatal(err)
	}

	// The same handlers over a client that meters each Query.
	meter := &queryMeter{}
	counter := &dynamo.Counter{}
	db := dynamodb.New(env.DB.Options(), meter.attach, counter.Attach)
	store := dynamo.New(db, env.Table, env.Store.Rates())
	store.Now = env.Clock.Now
	svc := &api.Service{Store: store, Mail: env.Mail, PublicURL: portaltest.PublicURL, Log: env.Service.Log}
	router := svc.Router(api.GroupSites)
	get := func(target string) siteList {
		t.Helper()
		counter.Reset()
		out, err := router.Serve(ctx, env.Event(t, "GET", target, nil, portaltest.Bearer(p.MasterToken)...))
		if err != nil || out.StatusCode != 200 {
			t.Fatalf("%s: %d %s", target, out.StatusCode, out.Body)
		}
		res := portaltest.Response{Status: out.StatusCode, Body: out.Body}
		var l siteList
		res.Decode(t, &l)
		return l
	}
	for _, tc := range []struct {
		target   string
		limit    int
		maxReads int32
	}{
		{"/v1/sites?limit=50", 50, 51},
		{"/v1/sites?limit=100", 100, 101},
		{"/v1/sites?limit=50&country=JP", 50, 51},
		{"/v1/sites?limit=50&q=lighthouse", 50, 510},
		{"/v1/sites?limit=20&q=site%2000", 20, 210},
	} {
		target := tc.target
		var total int
		for page := 0; page < 3; page++ {
			l := get(target)
			total += len(l.Items)
			reads := meter.take()
			if counter.Total() != 2 || counter.Ops()["Query"] != 1 || counter.Ops()["Scan"] != 0 {
				t.Errorf("%s page %d: round trips %v, want BatchGetItem + one Query", tc.target, page, counter.Ops())
			}
			if len(reads) != 1 || reads[0] > tc.maxReads {
				t.Errorf("%s page %d: Query read %v items, want at most %d", tc.target, page, reads, tc.maxReads)
			}
			if len(l.Items) > tc.limit {
				t.Errorf("%s: %d items", tc.target, len(l.Items))
			}
			t.Logf("%s page %d: %d sites, Query read %v items, round trips %v", tc.target, page, len(l.Items), reads, counter.Ops())
			if l.NextCursor == nil {
				break
			}
			target = addCursor(tc.target, *l.NextCursor)
		}
		if total == 0 {
			t.Errorf("%s: no sites in 3 pages", tc.target)
		}
	}
	res := env.Do(t, "GET", "/v1/platform/partners/"+p.ID, nil, plat...)
	if m := res.Map(t); m["siteCount"] != float64(10_000) || m["credits"].(map[string]any)["monthlyCost"] != float64(20_000) {
		t.Errorf("partner = %v", m)
	}
}
