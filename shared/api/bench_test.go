package api_test

import (
	"fmt"
	"testing"

	"partnerportal/shared/portaltest"
	"partnerportal/shared/pricing"
)

// scenario is one route exercised by BenchmarkRoutes: setup prepares state
// outside the measurement; call makes the i-th request and returns the
// status it must answer.
type scenario struct {
	route string
	setup func(tb testing.TB, env *portaltest.Env) any
	call  func(tb testing.TB, env *portaltest.Env, state any, i int) (*portaltest.Response, int)
}

var scenarios = []scenario{
	{"POST /v1/platform/partners", nil, func(tb testing.TB, env *portaltest.Env, _ any, i int) (*portaltest.Response, int) {
		return env.Do(tb, "POST", "/v1/platform/partners", map[string]any{"name": fmt.Sprintf("Bench %d", i), "country": "FR", "masterEmail": fmt.Sprintf("m%d@bench.example", i)}, plat...), 201
	}},
	{"GET /v1/platform/partners", partnerState, func(tb testing.TB, env *portaltest.Env, _ any, _ int) (*portaltest.Response, int) {
		return env.Do(tb, "GET", "/v1/platform/partners", nil, plat...), 200
	}},
	{"GET /v1/platform/partners/{partnerId}", partnerState, func(tb testing.TB, env *portaltest.Env, s any, _ int) (*portaltest.Response, int) {
		return env.Do(tb, "GET", "/v1/platform/partners/"+s.(portaltest.Partner).ID, nil, plat...), 200
	}},
	{"GET /v1/invitations/{token}", func(tb testing.TB, env *portaltest.Env) any {
		env.Do(tb, "POST", "/v1/platform/partners", map[string]any{"name": "Inv", "country": "FR", "masterEmail": "m@inv.example"}, plat...)
		return env.Mail.LinkToken(tb, "m@inv.example")
	}, func(tb testing.TB, env *portaltest.Env, s any, _ int) (*portaltest.Response, int) {
		return env.Do(tb, "GET", "/v1/invitations/"+s.(string), nil), 200
	}},
}

func partnerState(tb testing.TB, env *portaltest.Env) any { return env.NewPartner(tb, "Bench") }

// BenchmarkRoutes reports, per route: DynamoDB round trips, items read and
// written, estimated read and write units, and the AWS list-price cost of a
// million such requests (API Gateway + Lambda at 256 MB with a modelled
// duration + DynamoDB on-demand). Run it with `make bench`.
func BenchmarkRoutes(b *testing.B) {
	for _, sc := range scenarios {
		b.Run(sc.route, func(b *testing.B) {
			env := portaltest.New(b)
			var state any
			if sc.setup != nil {
				state = sc.setup(b, env)
			}
			env.Counter.Reset()
			n := 0
			for b.Loop() {
				res, want := sc.call(b, env, state, n)
				if res.Status != want {
					b.Fatalf("%s: %d %s", sc.route, res.Status, res.Body)
				}
				n++
			}
			u := env.Counter.Usage()
			per := func(v float64) float64 { return v / float64(n) }
			rt := per(float64(u.RoundTrips))
			b.ReportMetric(rt, "roundtrips/op")
			b.ReportMetric(per(float64(u.ItemsRead)), "itemsRead/op")
			b.ReportMetric(per(float64(u.ItemsWritten)), "itemsWritten/op")
			b.ReportMetric(per(u.ReadUnits), "RRU/op")
			b.ReportMetric(per(u.WriteUnits), "WRU/op")
			cost := pricing.PerMillion(pricing.Request{ReadUnits: per(u.ReadUnits), WriteUnits: per(u.WriteUnits), LambdaMillis: pricing.EstimatedMillis(rt), MemoryMB: 256})
			b.ReportMetric(cost.Total, "USD/1M-requests")
		})
	}
}
