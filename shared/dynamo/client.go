package dynamo

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
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
	opts := []func(*dynamodb.Options){mapThrottling}
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

// mapThrottling turns capacity errors that survive the SDK's own retries
// into 503 with Retry-After for the client, instead of a 500.
func mapThrottling(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("mapThrottling",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				var api smithy.APIError
				if err != nil && errors.As(err, &api) {
					switch api.ErrorCode() {
					case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
						err = errThrottled
					}
				}
				return out, md, err
			}), middleware.After)
	})
}

// Counter counts DynamoDB round trips per operation name, and the items and
// capacity units they read and write. Tests and the benchmark attach it to a
// client to hold routes to the performance budget and to price them.
//
// Capacity is estimated the way on-demand DynamoDB bills it, from item sizes
// (attribute names plus values): a strongly consistent read is one read unit
// per 4 KB of each item (a Query rounds its total instead), a write one write
// unit per 1 KB, and transactional reads and writes cost double. The
// embedded engine does not report consumed capacity, so this is computed
// from the items themselves.
type Counter struct {
	mu           sync.Mutex
	total        int64
	ops          map[string]int64
	itemsRead    int64
	itemsWritten int64
	readUnits    float64
	writeUnits   float64
}

// Attach installs the counting middleware on a client's options.
func (c *Counter) Attach(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("countRoundTrips",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				c.record(middleware.GetOperationName(ctx), in.Parameters, out.Result, err)
				return out, md, err
			}), middleware.After)
	})
}

func (c *Counter) record(op string, params, result any, err error) {
	var read, written int64
	var ru, wu float64
	writeItem := func(size int, transactional bool) {
		written++
		u := float64((size + 1023) / 1024)
		if transactional {
			u *= 2
		}
		wu += max(u, 1)
	}
	switch in := params.(type) {
	case *dynamodb.PutItemInput:
		writeItem(itemSize(in.Item), false)
	case *dynamodb.UpdateItemInput:
		writeItem(itemSize(in.Key)+256, false)
	case *dynamodb.DeleteItemInput:
		writeItem(itemSize(in.Key), false)
	case *dynamodb.TransactWriteItemsInput:
		for _, w := range in.TransactItems {
			switch {
			case w.Put != nil:
				writeItem(itemSize(w.Put.Item), true)
			case w.Update != nil:
				writeItem(itemSize(w.Update.Key)+256, true)
			case w.Delete != nil:
				writeItem(itemSize(w.Delete.Key), true)
			case w.ConditionCheck != nil:
				ru += 2 // a condition check is billed as a transactional read
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range in.RequestItems {
			for _, r := range reqs {
				if r.PutRequest != nil {
					writeItem(itemSize(r.PutRequest.Item), false)
				} else if r.DeleteRequest != nil {
					writeItem(itemSize(r.DeleteRequest.Key), false)
				}
			}
		}
	}
	if err == nil {
		readItems := func(items ...map[string]types.AttributeValue) {
			for _, it := range items {
				read++
				ru += max(float64((itemSize(it)+4095)/4096), 1)
			}
		}
		switch out := result.(type) {
		case *dynamodb.GetItemOutput:
			if out.Item != nil {
				readItems(out.Item)
			} else {
				ru++
			}
		case *dynamodb.BatchGetItemOutput:
			for _, items := range out.Responses {
				readItems(items...)
			}
		case *dynamodb.QueryOutput:
			size := 0
			for _, it := range out.Items {
				size += itemSize(it)
			}
			read += int64(max(out.ScannedCount, out.Count))
			ru += max(float64((size+4095)/4096), 1)
		case *dynamodb.ScanOutput:
			read += int64(max(out.ScannedCount, out.Count))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = map[string]int64{}
	}
	c.total++
	c.ops[op]++
	c.itemsRead += read
	c.itemsWritten += written
	c.readUnits += ru
	c.writeUnits += wu
}

// itemSize approximates DynamoDB's item size: names plus values.
func itemSize(it map[string]types.AttributeValue) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value)
	case *types.AttributeValueMemberN:
		return len(x.Value)/2 + 1
	case *types.AttributeValueMemberB:
		return len(x.Value)
	case *types.AttributeValueMemberM:
		return 3 + itemSize(x.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range x.Value {
			n += 1 + valueSize(e)
		}
		return n
	}
	return 1
}

// Total returns the number of round trips so far.
func (c *Counter) Total() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Ops returns the round trips per operation name.
func (c *Counter) Ops() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.ops))
	for k, v := range c.ops {
		out[k] = v
	}
	return out
}

// Usage is what a Counter measured.
type Usage struct {
	RoundTrips   int64
	ItemsRead    int64
	ItemsWritten int64
	ReadUnits    float64
	WriteUnits   float64
}

// Usage returns the totals so far.
func (c *Counter) Usage() Usage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Usage{RoundTrips: c.total, ItemsRead: c.itemsRead, ItemsWritten: c.itemsWritten, ReadUnits: c.readUnits, WriteUnits: c.writeUnits}
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total, c.ops, c.itemsRead, c.itemsWritten, c.readUnits, c.writeUnits = 0, nil, 0, 0, 0, 0
}
