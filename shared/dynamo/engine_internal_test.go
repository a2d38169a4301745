package dynamo

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	miniserver "github.com/truora/minidyn/server"
)

// testEndpointEnv points the package's tests at another DynamoDB engine
// (moto in .ci/run) instead of a fresh embedded one per test; the same
// variable as portaltest.EndpointEnv, which this package cannot import.
const testEndpointEnv = "PORTAL_TEST_DYNAMODB_ENDPOINT"

var testTableSeq atomic.Int64

// testTable returns a client and a fresh table: on a new embedded engine,
// or a uniquely named one on the engine testEndpointEnv names, deleted when
// the test ends.
func testTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	ctx := context.Background()
	endpoint, table := os.Getenv(testEndpointEnv), "t"
	if endpoint == "" {
		srv := httptest.NewServer(miniserver.NewServer())
		t.Cleanup(srv.Close)
		endpoint = srv.URL
	} else {
		table = fmt.Sprintf("dynamo-test-%d-%d-%d", os.Getpid(), time.Now().UnixNano()%1e9, testTableSeq.Add(1))
	}
	db, err := NewClient(ctx, ClientOptions{Endpoint: endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	if table != "t" {
		t.Cleanup(func() { db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}) })
	}
	return db, table
}
