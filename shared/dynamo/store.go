package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// Store is the Partner Portal's persistence over one DynamoDB table.
type Store struct {
	db    *dynamodb.Client
	table string
	rates portal.Rates
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// New returns a store over table, pricing usage with rates.
func New(db *dynamodb.Client, table string, rates portal.Rates) *Store {
	return &Store{db: db, table: table, rates: rates, Now: func() time.Time { return time.Now().UTC() }}
}

// Rates returns the configured usage prices.
func (s *Store) Rates() portal.Rates { return s.rates }

// item is a raw DynamoDB item; it never leaves this package.
type item = map[string]types.AttributeValue

// key addresses one item.
type key struct{ pk, sk string }

func (k key) av() item {
	return item{attrPK: &types.AttributeValueMemberS{Value: k.pk}, attrSK: &types.AttributeValueMemberS{Value: k.sk}}
}

// marshal turns v into an item and stamps the key attributes on it.
func marshal(k key, v any, extra map[string]string) (item, error) {
	it, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, err
	}
	it[attrPK] = &types.AttributeValueMemberS{Value: k.pk}
	it[attrSK] = &types.AttributeValueMemberS{Value: k.sk}
	for n, val := range extra {
		it[n] = &types.AttributeValueMemberS{Value: val}
	}
	return it, nil
}

func unmarshal(it item, v any) error { return attributevalue.UnmarshalMap(it, v) }

// ts formats times in key attributes: fixed width, so strings sort in time order.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// ttlAttr returns the TTL attribute value for an expiry time.
func ttlAttr(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(t.Unix())}
}

var nameRef = regexp.MustCompile(`#[A-Za-z0-9_]+`)

// expr is a condition or update expression with its values. Every #Name in
// the text refers to the attribute Name, so reserved words never bite.
type expr struct {
	text   string
	values map[string]any
}

func (e expr) names(more ...string) map[string]string {
	out := map[string]string{}
	for _, t := range append(more, e.text) {
		for _, m := range nameRef.FindAllString(t, -1) {
			out[m] = m[1:]
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func (e expr) vals(more ...map[string]any) (map[string]types.AttributeValue, error) {
	all := map[string]any{}
	for _, m := range append(more, e.values) {
		for k, v := range m {
			all[k] = v
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	out := make(map[string]types.AttributeValue, len(all))
	for k, v := range all {
		if av, ok := v.(types.AttributeValue); ok {
			out[k] = av
			continue
		}
		av, err := attributevalue.Marshal(v)
		if err != nil {
			return nil, err
		}
		out[k] = av
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// write is one element of a transaction and the error to report when its
// condition is what cancelled the transaction.
type write struct {
	w       types.TransactWriteItem
	failure error
	err     error
}

func (s *Store) put(it item, cond expr, failure error) write {
	v, err := cond.vals()
	return write{w: types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: it, ConditionExpression: optional(cond.text),
		ExpressionAttributeNames: cond.names(), ExpressionAttributeValues: v,
	}}, failure: failure, err: err}
}

func (s *Store) update(k key, update expr, cond expr, failure error) write {
	v, err := update.vals(cond.values)
	return write{w: types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: k.av(), UpdateExpression: aws.String(update.text),
		ConditionExpression:      optional(cond.text),
		ExpressionAttributeNames: update.names(cond.text), ExpressionAttributeValues: v,
	}}, failure: failure, err: err}
}

func (s *Store) delete(k key, cond expr, failure error) write {
	v, err := cond.vals()
	return write{w: types.TransactWriteItem{Delete: &types.Delete{
		TableName: &s.table, Key: k.av(), ConditionExpression: optional(cond.text),
		ExpressionAttributeNames: cond.names(), ExpressionAttributeValues: v,
	}}, failure: failure, err: err}
}

func (s *Store) check(k key, cond expr, failure error) write {
	v, err := cond.vals()
	return write{w: types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName: &s.table, Key: k.av(), ConditionExpression: aws.String(cond.text),
		ExpressionAttributeNames: cond.names(), ExpressionAttributeValues: v,
	}}, failure: failure, err: err}
}

// ErrContention reports a transaction that DynamoDB cancelled because another
// transaction touched the same items. Paths that can re-read and retry do
// (retryMoved); elsewhere it reaches the client as 503 with Retry-After:
// nothing was applied and the request can be repeated.
var ErrContention = &portal.Error{Code: portal.CodeUnavailable, Message: "the resource is busy with a concurrent change; nothing was applied, retry shortly", RetryAfter: 1}

// errThrottled is DynamoDB refusing work for capacity; nothing was applied.
var errThrottled = &portal.Error{Code: portal.CodeUnavailable, Message: "the service is busy; nothing was applied, retry shortly", RetryAfter: 1}

// maxTransactItems is DynamoDB's limit, enforced here because the embedded
// engine does not.
const maxTransactItems = 100

// transact runs writes atomically. A failed condition returns that write's
// failure (or a conflict error when it has none); a conflict between
// transactions returns ErrContention.
func (s *Store) transact(ctx context.Context, writes ...write) error {
	if len(writes) > maxTransactItems {
		return fmt.Errorf("dynamo: transaction of %d items exceeds %d", len(writes), maxTransactItems)
	}
	items := make([]types.TransactWriteItem, len(writes))
	for i, w := range writes {
		if w.err != nil {
			return w.err
		}
		items[i] = w.w
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil
	}
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		var conflict *types.TransactionConflictException
		if errors.As(err, &conflict) {
			return ErrContention
		}
		return err
	}
	reasons := cancelled.CancellationReasons
	contention := false
	for i, r := range reasons {
		code := aws.ToString(r.Code)
		switch code {
		case "ConditionalCheckFailed":
			if i < len(writes) && writes[i].failure != nil {
				return writes[i].failure
			}
			return portal.Errorf(portal.CodeConflict, "the resource changed; retry")
		case "TransactionConflict":
			contention = true
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return errThrottled
		}
	}
	if contention || len(reasons) == 0 && strings.Contains(err.Error(), "TransactionConflict") {
		return ErrContention
	}
	// Some engines report the failed condition only in the message.
	if len(reasons) == 0 && strings.Contains(err.Error(), "ConditionalCheckFailed") {
		for _, w := range writes {
			if w.failure != nil && (w.w.ConditionCheck != nil || w.w.Put != nil && w.w.Put.ConditionExpression != nil || w.w.Update != nil && w.w.Update.ConditionExpression != nil || w.w.Delete != nil && w.w.Delete.ConditionExpression != nil) {
				return portal.Errorf(portal.CodeConflict, "the resource changed; retry")
			}
		}
	}
	return err
}

// get reads one item with a strongly consistent read; found is false when
// the item does not exist.
func (s *Store) get(ctx context.Context, k key, v any) (found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k.av(), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return false, err
	}
	return true, unmarshal(out.Item, v)
}

// batchGet reads up to 100 items in one round trip (retrying unprocessed
// keys with backoff), strongly consistent. The result is indexed like keys;
// absent items are nil. A key may appear more than once: DynamoDB refuses a
// batch that names a key twice (the embedded engine does not), so each
// distinct key is asked for once and answers every position.
func (s *Store) batchGet(ctx context.Context, keys ...key) ([]item, error) {
	want := make([]item, 0, len(keys))
	seen := make(map[key]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			want = append(want, k.av())
		}
	}
	found := map[key]item{}
	pending := want
	delay := 10 * time.Millisecond
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 5 {
			return nil, errThrottled
		}
		if attempt > 0 {
			if err := sleepJitter(ctx, delay); err != nil {
				return nil, err
			}
			delay *= 2
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, err
		}
		for _, it := range out.Responses[s.table] {
			found[keyOf(it)] = it
		}
		pending = nil
		if un, ok := out.UnprocessedKeys[s.table]; ok {
			pending = un.Keys
		}
	}
	res := make([]item, len(keys))
	for i, k := range keys {
		res[i] = found[k]
	}
	return res, nil
}

func keyOf(it item) key {
	str := func(n string) string {
		if v, ok := it[n].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	return key{str(attrPK), str(attrSK)}
}

// sleepJitter waits a random time up to max, or until ctx ends.
func sleepJitter(ctx context.Context, max time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rand.Int64N(int64(max) + 1))):
		return nil
	}
}
