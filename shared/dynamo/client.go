package dynamo

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"partnerportal/shared/awsenv"
)

// ClientOptions say how to reach DynamoDB. With Endpoint set the client talks
// to that endpoint with static dummy credentials (the embedded engine, moto,
// DynamoDB Local); without it the credentials come from the environment, as Lambda provides them.
type ClientOptions struct {
	Endpoint string
	Region   string
	// HTTPClient overrides the transport, e.g. for tests.
	HTTPClient *http.Client
	// Counter, when set, counts every round trip the client makes.
	Counter *Counter
}

// NewClient builds a DynamoDB client from explicit options.
func NewClient(ctx context.Context, o ClientOptions) (*dynamodb.Client, error) {
	region := o.Region
	if region == "" {
		region = "us-east-1"
	}
	var opts []func(*dynamodb.Options)
	if o.Counter != nil {
		opts = append(opts, o.Counter.Attach)
	}
	if o.Endpoint != "" {
		do := dynamodb.Options{
			Region:           region,
			BaseEndpoint:     aws.String(o.Endpoint),
			Credentials:      credentials.NewStaticCredentialsProvider("local", "local", ""),
			RetryMaxAttempts: 3,
		}
		if o.HTTPClient != nil {
			do.HTTPClient = o.HTTPClient
		}
		return dynamodb.New(do, opts...), nil
	}
	// In Lambda the credentials are in the environment; see package awsenv
	// for why the SDK's config loader is not used.
	return dynamodb.New(dynamodb.Options{Region: region, Credentials: aws.NewCredentialsCache(awsenv.Credentials{})}, opts...), nil
}

// Counter counts DynamoDB round trips per operation name. Tests and the
// benchmark attach it to a client to hold routes to the performance budget.
type Counter struct {
	total atomic.Int64
	ops   [opKinds]atomic.Int64
}

const opKinds = 16

var opNames = [opKinds]string{"GetItem", "BatchGetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "TransactGetItems", "BatchWriteItem", "CreateTable", "DescribeTable", "UpdateTimeToLive"}

// Attach installs the counting middleware on a client's options.
func (c *Counter) Attach(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countRoundTrips",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.total.Add(1)
				op := middleware.GetOperationName(ctx)
				for i, n := range opNames {
					if n == op {
						c.ops[i].Add(1)
					}
				}
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
}

// Total returns the number of round trips so far.
func (c *Counter) Total() int64 { return c.total.Load() }

// Ops returns the round trips per operation name, omitting zeros.
func (c *Counter) Ops() map[string]int64 {
	out := map[string]int64{}
	for i, n := range opNames {
		if v := c.ops[i].Load(); v > 0 {
			out[n] = v
		}
	}
	return out
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.total.Store(0)
	for i := range c.ops {
		c.ops[i].Store(0)
	}
}
