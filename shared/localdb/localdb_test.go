package localdb_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/localdb"
)

const tableName = "portal"

// open starts an engine on dir behind an httptest server and returns an SDK
// client for it; closing is the caller's job so tests can restart.
func open(t *testing.T, dir string) (*localdb.Engine, *dynamodb.Client, func()) {
	t.Helper()
	e, err := localdb.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	db, err := dynamo.NewClient(context.Background(), dynamo.ClientOptions{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return e, db, func() {
		srv.Close()
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}
}

func item(pk, sk string, extra map[string]types.AttributeValue) map[string]types.AttributeValue {
	it := key(pk, sk)
	for k, v := range extra {
		it[k] = v
	}
	return it
}

func scanAll(t *testing.T, db *dynamodb.Client) []map[string]types.AttributeValue {
	t.Helper()
	out, err := db.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(tableName)})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(out.Items, func(i, j int) bool {
		a, b := out.Items[i], out.Items[j]
		ka := a["PK"].(*types.AttributeValueMemberS).Value + "/" + a["SK"].(*types.AttributeValueMemberS).Value
		kb := b["PK"].(*types.AttributeValueMemberS).Value + "/" + b["SK"].(*types.AttributeValueMemberS).Value
		return ka < kb
	})
	return out.Items
}

// cmpItems compares items; the only []string fields are sets, which have
// no order.
var cmpItems = cmp.Options{cmpopts.SortSlices(func(a, b string) bool { return a < b }), cmpopts.IgnoreUnexported(
	types.AttributeValueMemberS{}, types.AttributeValueMemberN{}, types.AttributeValueMemberB{},
	types.AttributeValueMemberBOOL{}, types.AttributeValueMemberNULL{}, types.AttributeValueMemberM{},
	types.AttributeValueMemberL{}, types.AttributeValueMemberSS{}, types.AttributeValueMemberNS{},
)}

// TestSurvivesRestart writes with every mutating operation the store uses,
// restarts the engine twice (the second time from the compacted journal),
// and finds the same items, table list and TTL setting.
func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, db, closeFn := open(t, dir)
	if err := dynamo.CreateTable(ctx, db, tableName); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(tableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("ttl"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	put := func(it map[string]types.AttributeValue) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put(item("P#1", "META", map[string]types.AttributeValue{
		"name":    &types.AttributeValueMemberS{Value: "Acme ünïcode \"quoted\"\nline"},
		"credits": &types.AttributeValueMemberN{Value: "42"},
		"active":  &types.AttributeValueMemberBOOL{Value: true},
		"nothing": &types.AttributeValueMemberNULL{Value: true},
		"blob":    &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 255}},
		"tags":    &types.AttributeValueMemberSS{Value: []string{"a", "b"}},
		"nums":    &types.AttributeValueMemberNS{Value: []string{"1", "2.5"}},
		"nested": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberN{Value: "-3"}}},
		}},
		"GSI1PK": &types.AttributeValueMemberS{Value: "NAME#acme"}, "GSI1SK": &types.AttributeValueMemberS{Value: "P#1"},
	}))
	put(item("P#1", "GONE", nil))
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(tableName), Key: key("P#1", "META"),
		UpdateExpression:          aws.String("SET credits = credits + :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "8"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tableName), Key: key("P#1", "GONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(tableName), Item: item("P#2", "META", nil), ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(tableName), Item: item("P#2", "AUDIT#1", nil)}},
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tableName: {
		{PutRequest: &types.PutRequest{Item: item("P#3", "META", nil)}},
		{PutRequest: &types.PutRequest{Item: item("P#3", "X", nil)}},
	}}}); err != nil {
		t.Fatal(err)
	}
	// A failed conditional write is not journaled: replaying it would fail.
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: item("P#2", "META", nil), ConditionExpression: aws.String("attribute_not_exists(PK)")})
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("conditional put over an existing item: %v", err)
	}
	want := scanAll(t, db)
	if len(want) != 5 {
		t.Fatalf("before restart: %d items", len(want))
	}
	closeFn()

	for round := 1; round <= 2; round++ {
		_, db, closeFn = open(t, dir)
		if d := cmp.Diff(want, scanAll(t, db), cmpItems); d != "" {
			t.Fatalf("restart %d: items differ (-before +after):\n%s", round, d)
		}
		got, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tableName), IndexName: aws.String("GSI1"),
			KeyConditionExpression:    aws.String("GSI1PK = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "NAME#acme"}}})
		if err != nil || len(got.Items) != 1 {
			t.Fatalf("restart %d: GSI query: %v %v", round, got, err)
		}
		if n := got.Items[0]["credits"].(*types.AttributeValueMemberN).Value; n != "50" {
			t.Errorf("restart %d: credits = %s", round, n)
		}
		lt, err := db.ListTables(ctx, &dynamodb.ListTablesInput{})
		if err != nil || !cmp.Equal(lt.TableNames, []string{tableName}) {
			t.Errorf("restart %d: ListTables = %v, %v", round, lt, err)
		}
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(tableName)})
		if err != nil || ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != "ttl" {
			t.Errorf("restart %d: DescribeTimeToLive = %+v, %v", round, ttl, err)
		}
		closeFn()
	}
	// After compaction the journal holds the schema, the TTL and one put
	// per item, and nothing of the deleted item.
	raw, err := os.ReadFile(filepath.Join(dir, localdb.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2+len(want) || strings.Contains(string(raw), "GONE") {
		t.Errorf("compacted journal has %d lines:\n%s", len(lines), raw)
	}
}

// TestTornLastRecord drops a half-written last record, as a crash while
// appending would leave it, and keeps everything before it.
func TestTornLastRecord(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, db, closeFn := open(t, dir)
	if err := dynamo.CreateTable(ctx, db, tableName); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: item("P#1", "META", nil)}); err != nil {
		t.Fatal(err)
	}
	closeFn()
	f, err := os.OpenFile(filepath.Join(dir, localdb.JournalFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"op":"PutItem","body":{"TableName":"portal","Item":{"PK":{"S":"P#2"`)
	f.Close()
	_, db, closeFn = open(t, dir)
	defer closeFn()
	if n := len(scanAll(t, db)); n != 1 {
		t.Errorf("%d items after a torn record, want 1", n)
	}
}

// TestDamagedJournal refuses a journal damaged before its last record.
func TestDamagedJournal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, localdb.JournalFile), []byte("not json\n{\"op\":\"ListTables\",\"body\":{}}\n"), 0o644)
	if e, err := localdb.Open(dir, nil); err == nil {
		e.Close()
		t.Fatal("opened a damaged journal")
	}
}

// TestOneEnginePerDirectory refuses a second engine on a directory in use.
func TestOneEnginePerDirectory(t *testing.T) {
	dir := t.TempDir()
	e, err := localdb.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e2, err := localdb.Open(dir, nil); err == nil {
		e2.Close()
		t.Fatal("two engines opened one directory")
	}
}

// TestMemoryOnly serves without a directory and writes no files.
func TestMemoryOnly(t *testing.T) {
	e, db, closeFn := open(t, "")
	defer closeFn()
	_ = e
	if err := dynamo.CreateTable(context.Background(), db, tableName); err != nil {
		t.Fatal(err)
	}
	if _, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(tableName)}); err != nil {
		t.Fatal(err)
	}
}

// TestUnknownOperation answers operations neither minidyn nor the wrapper
// serve with a DynamoDB-shaped error the SDK understands.
func TestUnknownOperation(t *testing.T) {
	_, db, closeFn := open(t, "")
	defer closeFn()
	_, err := db.DescribeLimits(context.Background(), &dynamodb.DescribeLimitsInput{})
	if err == nil || !strings.Contains(err.Error(), "UnknownOperationException") {
		t.Fatalf("DescribeLimits: %v", err)
	}
}
