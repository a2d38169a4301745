package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"partnerportal/shared/portal"
)

// Page is one page of a listing; Next is empty on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// query describes one page of a listing: a partition (of the table or an
// index), an optional sort-key prefix or range, an optional filter, and the
// order. Every listing page is exactly one Query.
type query struct {
	index   string // "" for the table (then read strongly consistent)
	pk      string
	prefix  string // begins_with on the sort key, "" for none
	skLow   string // inclusive lower bound of the sort key, "" for none
	skHigh  string // upper bound of the sort key, "" for none
	reverse bool
	// match, when set, keeps only the items it accepts. It runs here rather
	// than as a FilterExpression: DynamoDB reads (and bills) the same items
	// either way, and the embedded engine applies Limit across partitions
	// when a FilterExpression is present.
	match func(item) bool
	// bind names the filter, so that a cursor only continues the listing
	// (and the filter) it came from.
	bind string
	// once asks DynamoDB for exactly limit items and continues from its
	// LastEvaluatedKey, instead of reading one item more to learn whether
	// a next page exists: internal listings that page to the end (billing)
	// then read every item once, at the price of a last page that may be
	// empty. Unfiltered queries only.
	once bool
}

// filteredScanFactor bounds what one filtered page reads: at most
// filteredScanFactor × (limit+1) items, capped by maxPageScan.
const filteredScanFactor = 10

// maxPageScan keeps one Query's items well under DynamoDB's 1 MB page.
const maxPageScan = 1010

// runQuery returns up to limit items after cursor with one Query.
//
// Unfiltered, the Query asks for limit+1 items: the extra one says whether a
// next page exists, and the cursor is the key of the last item returned.
// Filtered, the Query reads up to filteredScanFactor × (limit+1) items and
// keeps the matches: when more than limit match, the cursor is the key of the
// last one returned; when fewer do and the Query stopped early, the cursor is
// where it stopped, so the next page resumes there. A sparse filter thus
// gives short, even empty, pages with a cursor; clients follow nextCursor
// until it is null.
func (s *Store) runQuery(ctx context.Context, q query, limit int, cursor string) ([]item, string, error) {
	pkAttr, skAttr := attrPK, attrSK
	switch q.index {
	case gsi1:
		pkAttr, skAttr = attrGSI1PK, attrGSI1SK
	case gsi2:
		pkAttr, skAttr = attrGSI2PK, attrGSI2SK
	}
	bind := strings.Join([]string{q.index, q.pk, q.prefix, q.skLow, q.skHigh, q.bind}, "\x00")
	start, err := decodeCursor(cursor, bind, q, pkAttr, skAttr)
	if err != nil {
		return nil, "", err
	}
	cond := "#" + pkAttr + " = :pk"
	values := map[string]any{":pk": q.pk}
	switch {
	case q.prefix != "":
		cond += " AND begins_with(#" + skAttr + ", :pre)"
		values[":pre"] = q.prefix
	case q.skLow != "" && q.skHigh != "":
		cond += " AND #" + skAttr + " BETWEEN :lo AND :hi"
		values[":lo"], values[":hi"] = q.skLow, q.skHigh
	case q.skLow != "":
		cond += " AND #" + skAttr + " >= :lo"
		values[":lo"] = q.skLow
	case q.skHigh != "":
		cond += " AND #" + skAttr + " <= :hi"
		values[":hi"] = q.skHigh
	}
	ke := expr{text: cond, values: values}
	vals, err := ke.vals()
	if err != nil {
		return nil, "", err
	}
	n := limit + 1
	if q.once && q.match == nil {
		n = limit
	}
	if q.match != nil {
		n = min(filteredScanFactor*n, maxPageScan)
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  ke.names(),
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(!q.reverse),
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(n)),
	}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	res, err := s.db.Query(ctx, in)
	var api smithy.APIError
	if err != nil && start != nil && errors.As(err, &api) && api.ErrorCode() == "ValidationException" {
		// A start key the engine refuses came from a crafted cursor.
		return nil, "", errBadCursor
	}
	if err != nil {
		return nil, "", err
	}
	keyOfItem := func(it item) item {
		k := item{attrPK: it[attrPK], attrSK: it[attrSK]}
		if q.index != "" {
			k[pkAttr], k[skAttr] = it[pkAttr], it[skAttr]
		}
		return k
	}
	out := make([]item, 0, min(limit, len(res.Items)))
	for _, it := range res.Items {
		if q.match != nil && !q.match(it) {
			continue
		}
		if len(out) == limit {
			// A further match exists: the page ends at the last one kept.
			return out, encodeCursor(keyOfItem(out[limit-1]), bind), nil
		}
		out = append(out, it)
	}
	if len(res.LastEvaluatedKey) > 0 {
		return out, encodeCursor(res.LastEvaluatedKey, bind), nil
	}
	return out, "", nil
}

// queryAll pages through a whole listing for internal use (billing,
// notification recipients, cleanup), pageSize items per Query.
func (s *Store) queryAll(ctx context.Context, q query, pageSize int, each func(item) error) error {
	cursor := ""
	for {
		items, next, err := s.runQuery(ctx, q, pageSize, cursor)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := each(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// Cursors are the key to resume after, base64url JSON, followed by a check
// value bound to the listing: index, partition, sort-key prefix or range,
// and filter. A cursor from another partner or another listing, or an
// edited one, fails the check or the bounds and is a 400 — never another
// partition's data, never a DynamoDB validation error.
func encodeCursor(last item, bind string) string {
	m := map[string]string{}
	for k, v := range last {
		if sv, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = sv.Value
		}
	}
	raw, _ := json.Marshal(m)
	body := base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + cursorCheck(body, bind)
}

func cursorCheck(body, bind string) string {
	sum := sha256.Sum256([]byte("partner-portal cursor\x00" + bind + "\x00" + body))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

var errBadCursor = portal.Errorf(portal.CodeMalformed, "the cursor is not valid for this listing")

func decodeCursor(c, bind string, q query, pkAttr, skAttr string) (item, error) {
	if c == "" {
		return nil, nil
	}
	body, check, ok := strings.Cut(c, ".")
	if !ok || !portal.SameHash(check, cursorCheck(body, bind)) {
		return nil, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, errBadCursor
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || m[pkAttr] != q.pk || m[attrPK] == "" || m[attrSK] == "" || m[skAttr] == "" {
		return nil, errBadCursor
	}
	for _, v := range m {
		// Key attributes are non-empty and far below DynamoDB's key limits.
		if v == "" || len(v) > 1024 {
			return nil, errBadCursor
		}
	}
	sk := m[skAttr]
	if !strings.HasPrefix(sk, q.prefix) || q.skLow != "" && sk < q.skLow || q.skHigh != "" && sk > q.skHigh {
		return nil, errBadCursor
	}
	want := 2
	if q.index != "" {
		want = 4
	}
	if len(m) != want {
		return nil, errBadCursor
	}
	out := item{}
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
