package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// pageQuery is one page of a listing that is always exactly one Query: the
// site listings (with or without a name filter), notes and site
// administrators.
type pageQuery struct {
	index   string // "" for the table (then read strongly consistent)
	pk      string
	prefix  string // begins_with on the sort key, "" for none
	reverse bool
	// match, when set, keeps only the items it accepts; the Query then reads
	// up to scan items instead of limit+1.
	match func(item) bool
	scan  int
	// bind names the filter, so that a cursor only continues the listing it
	// came from.
	bind string
}

// maxPageScan keeps one Query's items well under DynamoDB's 1 MB page.
const maxPageScan = 1010

// queryPage returns up to limit items after cursor with one Query.
//
// Unfiltered, the Query asks for limit+1 items: the extra one says whether a
// next page exists, and the cursor is the key of the last item returned.
// Filtered, the Query asks for scan items and keeps the matches: when more
// than limit match, the cursor is the key of the last one returned; when
// fewer do and the Query stopped early, the cursor is where it stopped, so
// the next page resumes there (a sparse filter gives short, even empty,
// pages with a cursor; the client keeps following nextCursor until null).
func (s *Store) queryPage(ctx context.Context, q pageQuery, limit int, cursor string) ([]item, string, error) {
	pkAttr, skAttr := attrPK, attrSK
	switch q.index {
	case gsi1:
		pkAttr, skAttr = attrGSI1PK, attrGSI1SK
	case gsi2:
		pkAttr, skAttr = attrGSI2PK, attrGSI2SK
	}
	bind := q.pk + "\x00" + q.prefix + "\x00" + q.bind
	start, err := decodePageCursor(cursor, bind, q, pkAttr, skAttr)
	if err != nil {
		return nil, "", err
	}
	cond := "#" + pkAttr + " = :pk"
	values := map[string]any{":pk": q.pk}
	if q.prefix != "" {
		cond += " AND begins_with(#" + skAttr + ", :pre)"
		values[":pre"] = q.prefix
	}
	ke := expr{text: cond, values: values}
	vals, err := ke.vals()
	if err != nil {
		return nil, "", err
	}
	n := limit + 1
	if q.match != nil {
		n = min(max(q.scan, n), maxPageScan)
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
			return out, encodePageCursor(keyOfItem(out[limit-1]), bind), nil
		}
		out = append(out, it)
	}
	if len(res.LastEvaluatedKey) > 0 {
		return out, encodePageCursor(res.LastEvaluatedKey, bind), nil
	}
	return out, "", nil
}

// Page cursors work like runQuery's: the key to resume after, base64url
// JSON, and a check value bound to the partition, the sort-key prefix and the
// filter. An edited cursor, or one from another partner or listing, is a 400.
func encodePageCursor(last item, bind string) string {
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

func decodePageCursor(c, bind string, q pageQuery, pkAttr, skAttr string) (item, error) {
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
	if json.Unmarshal(raw, &m) != nil || m[pkAttr] != q.pk || !strings.HasPrefix(m[skAttr], q.prefix) || m[attrPK] == "" || m[attrSK] == "" {
		return nil, errBadCursor
	}
	out := item{}
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
