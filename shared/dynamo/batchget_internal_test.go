package dynamo

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"partnerportal/shared/portal"
)

// TestBatchGetAsksEachKeyOnce: a read that names the same item twice (an
// administrator acting on themselves reads the caller and the target) sends
// each key once, as DynamoDB requires, and answers every position. The
// embedded engine accepts duplicates, so a middleware refuses them here as
// DynamoDB and moto do.
func TestBatchGetAsksEachKeyOnce(t *testing.T) {
	s := newTestStore(t)
	refuseDuplicates := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("refuseDuplicateKeys",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					if b, ok := in.Parameters.(*dynamodb.BatchGetItemInput); ok {
						for _, ka := range b.RequestItems {
							seen := map[string]bool{}
							for _, k := range ka.Keys {
								id := fmt.Sprint(keyOf(k))
								if seen[id] {
									return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("ValidationException: Provided list of item keys contains duplicates")
								}
								seen[id] = true
							}
						}
					}
					return next.HandleInitialize(ctx, in)
				}), middleware.After)
		})
	}
	s.db = dynamodb.New(s.db.Options(), refuseDuplicates)
	ctx := context.Background()
	p := portal.Partner{ID: portal.NewID(s.Now()), Name: "P", Country: "FR", CreatedAt: s.Now()}
	inv := portal.Invitation{ID: portal.NewID(s.Now()), PartnerID: p.ID, Email: "m@p.example", Role: portal.RoleMaster, ExpiresAt: s.Now().Add(portal.InvitationTTL), TokenHash: "h"}
	if err := s.CreatePartner(ctx, p, inv, nil); err != nil {
		t.Fatal(err)
	}
	items, err := s.batchGet(ctx, partnerKey(p.ID), key{"P#nobody", "META"}, partnerKey(p.ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[0] == nil || items[1] != nil || items[2] == nil || keyOf(items[0]) != keyOf(items[2]) {
		t.Fatalf("items = %v", items)
	}
}
