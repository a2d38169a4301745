// Package localdb is the embedded DynamoDB-compatible engine of the local
// runner: minidyn's in-memory HTTP server, made durable.
//
// Every mutating request that succeeds (CreateTable, UpdateTable,
// DeleteTable, PutItem, UpdateItem, DeleteItem, BatchWriteItem,
// TransactWriteItems, UpdateTimeToLive) is appended to a journal of JSON
// lines and fsync'd before the client gets its answer. Opening a data
// directory replays the journal, then compacts it into one CreateTable per
// table and one PutItem per item, so it does not grow without bound across
// restarts. Mutations are serialised with a write lock so the journal's
// order is the order they were applied in; reads share a read lock and so
// never see a write that is not yet durable.
//
// Replaying requests is exact because minidyn's results depend only on the
// requests and the prior state: items carry their own timestamps, and a
// conditional write that succeeded once succeeds again on the same state.
//
// The engine also answers ListTables, DescribeTimeToLive and
// UpdateTimeToLive, which minidyn lacks. TTL is recorded, not enforced: the
// application checks expiry itself, as it must with AWS's lazy deletion.
package localdb
