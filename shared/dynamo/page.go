package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/portal"
)

// Page is one page of a listing; Next is empty on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// query describes one paginated Query: a partition (of the table or an
// index), an optional sort-key range, an optional filter, and the order.
type query struct {
	index   string // "" for the table
	pk      string
	skLow   string // inclusive, "" for none
	skHigh  string // exclusive, "" for none
	prefix  string // begins_with on the sort key, "" for none
	filter  expr
	reverse bool
}

// maxFilterRounds bounds the Query calls one filtered page may take. Each
// call reads at most limit+1 items, so a page reads at most
// maxFilterRounds × (limit+1) items.
const maxFilterRounds = 8

// runQuery returns up to limit items after cursor. Without a filter it is
// exactly one Query that reads at most limit+1 items (the extra one tells
// whether another page exists). With a filter it loops,
// because DynamoDB applies Limit before the filter; the page may come back
// shorter than limit with a cursor to continue.
func (s *Store) runQuery(ctx context.Context, q query, limit int, cursor string) ([]item, string, error) {
	pkAttr, skAttr := attrPK, attrSK
	switch q.index {
	case gsi1:
		pkAttr, skAttr = attrGSI1PK, attrGSI1SK
	case gsi2:
		pkAttr, skAttr = attrGSI2PK, attrGSI2SK
	}
	start, err := decodeCursor(cursor, q.pk, pkAttr)
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
	vals, err := ke.vals(q.filter.values)
	if err != nil {
		return nil, "", err
	}
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String(cond),
		FilterExpression:          optional(q.filter.text),
		ExpressionAttributeNames:  ke.names(q.filter.text),
		ExpressionAttributeValues: vals,
		ScanIndexForward:          aws.Bool(!q.reverse),
		ExclusiveStartKey:         start,
	}
	if q.index != "" {
		in.IndexName = aws.String(q.index)
	} else {
		in.ConsistentRead = aws.Bool(true)
	}
	// Ask for one item more than the page so the last page has no cursor.
	var out []item
	for round := 0; round < maxFilterRounds; round++ {
		in.Limit = aws.Int32(int32(limit + 1 - len(out)))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		out = append(out, res.Items...)
		in.ExclusiveStartKey = res.LastEvaluatedKey
		if len(res.LastEvaluatedKey) == 0 || len(out) > limit {
			break
		}
	}
	switch {
	case len(out) > limit:
		out = out[:limit]
		last := item{attrPK: out[limit-1][attrPK], attrSK: out[limit-1][attrSK]}
		if q.index != "" {
			last[pkAttr], last[skAttr] = out[limit-1][pkAttr], out[limit-1][skAttr]
		}
		return out, encodeCursor(last, q.pk), nil
	case len(in.ExclusiveStartKey) > 0:
		// A filtered page that ran out of rounds: continue where it stopped.
		return out, encodeCursor(in.ExclusiveStartKey, q.pk), nil
	}
	return out, "", nil
}

// Cursors are the last evaluated key, base64url JSON, followed by a check
// value bound to the partition. A cursor from another listing or another
// partner, or an edited one, fails the check and is a 400.
func encodeCursor(last item, pk string) string {
	if len(last) == 0 {
		return ""
	}
	m := map[string]string{}
	for k, v := range last {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			m[k] = s.Value
		}
	}
	raw, _ := json.Marshal(m)
	body := base64.RawURLEncoding.EncodeToString(raw)
	return body + "." + cursorCheck(body, pk)
}

func cursorCheck(body, pk string) string {
	sum := sha256.Sum256([]byte("partner-portal cursor\x00" + pk + "\x00" + body))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

var errBadCursor = portal.Errorf(portal.CodeMalformed, "the cursor is not valid for this listing")

func decodeCursor(c, pk, pkAttr string) (item, error) {
	if c == "" {
		return nil, nil
	}
	body, check, ok := strings.Cut(c, ".")
	if !ok || !portal.SameHash(check, cursorCheck(body, pk)) {
		return nil, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, errBadCursor
	}
	var m map[string]string
	if json.Unmarshal(raw, &m) != nil || m[pkAttr] != pk {
		return nil, errBadCursor
	}
	out := item{}
	for k, v := range m {
		out[k] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}
