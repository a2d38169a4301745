package dynamo

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzCursor: whatever cursor a client sends, decoding it for partner A's
// listing never panics, and a cursor it accepts resumes inside that
// listing — partner A's partition, within the listing's sort-key bounds,
// with only the key attributes — never in another partner's data. The
// seeds include genuine cursors of A's listing, of B's, and of another
// listing of A's.
func FuzzCursor(f *testing.F) {
	listings := []query{
		{pk: "P#A", prefix: "SITE#"},
		{index: gsi1, pk: "P#A#SITES", prefix: "N#"},
		{pk: "P#A", skLow: "LEDGER#2026-01", skHigh: "LEDGER#2026-02", reverse: true, bind: "type=charge"},
	}
	attrs := func(q query) (string, string) {
		switch q.index {
		case gsi1:
			return attrGSI1PK, attrGSI1SK
		case gsi2:
			return attrGSI2PK, attrGSI2SK
		}
		return attrPK, attrSK
	}
	bindOf := func(q query) string {
		return strings.Join([]string{q.index, q.pk, q.prefix, q.skLow, q.skHigh, q.bind}, "\x00")
	}
	key := func(pk, sk string, idx string) item {
		it := item{attrPK: &types.AttributeValueMemberS{Value: pk}, attrSK: &types.AttributeValueMemberS{Value: sk}}
		if idx == gsi1 {
			it[attrGSI1PK] = &types.AttributeValueMemberS{Value: pk + "#SITES"}
			it[attrGSI1SK] = &types.AttributeValueMemberS{Value: "N#lyon#" + sk}
		}
		return it
	}
	for _, q := range listings {
		f.Add(encodeCursor(key("P#A", q.prefix+q.skLow+"01X", q.index), bindOf(q)), uint8(0))
		b := q
		b.pk = strings.Replace(q.pk, "P#A", "P#B", 1)
		f.Add(encodeCursor(key("P#B", q.prefix+q.skLow+"01X", q.index), bindOf(b)), uint8(1))
	}
	f.Add("", uint8(2))
	f.Add(".", uint8(0))
	f.Add("e30.AAAA", uint8(1))
	f.Fuzz(func(t *testing.T, cursor string, which uint8) {
		q := listings[int(which)%len(listings)]
		pkAttr, skAttr := attrs(q)
		it, err := decodeCursor(cursor, bindOf(q), q, pkAttr, skAttr)
		if err != nil {
			if err != errBadCursor {
				t.Fatalf("decodeCursor(%q) = %v, want errBadCursor", cursor, err)
			}
			return
		}
		if cursor == "" {
			if it != nil {
				t.Fatalf("an empty cursor decoded to %v", it)
			}
			return
		}
		str := func(name string) string {
			v, ok := it[name].(*types.AttributeValueMemberS)
			if !ok {
				t.Fatalf("cursor %q: %s missing or not a string in %v", cursor, name, it)
			}
			return v.Value
		}
		if got := str(pkAttr); got != q.pk {
			t.Fatalf("cursor %q resumes in partition %q, not %q", cursor, got, q.pk)
		}
		sk := str(skAttr)
		if !strings.HasPrefix(sk, q.prefix) || q.skLow != "" && sk < q.skLow || q.skHigh != "" && sk > q.skHigh {
			t.Fatalf("cursor %q resumes at %q, outside the listing", cursor, sk)
		}
		str(attrPK)
		str(attrSK)
		want := 2
		if q.index != "" {
			want = 4
		}
		if len(it) != want {
			t.Fatalf("cursor %q carries %d attributes: %v", cursor, len(it), it)
		}
	})
}
