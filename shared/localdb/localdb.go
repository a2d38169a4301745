package localdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	miniserver "github.com/truora/minidyn/server"
)

// JournalFile is the journal's name inside the data directory.
const JournalFile = "dynamodb.journal"

// maxRequest bounds a request body; DynamoDB's own limits are far lower.
const maxRequest = 32 << 20

// mutating lists the operations that change state and are journaled.
var mutating = map[string]bool{
	"CreateTable": true, "UpdateTable": true, "DeleteTable": true,
	"PutItem": true, "UpdateItem": true, "DeleteItem": true,
	"BatchWriteItem": true, "TransactWriteItems": true,
	"UpdateTimeToLive": true,
}

// minidynOps are the operations minidyn serves.
var minidynOps = map[string]bool{
	"CreateTable": true, "UpdateTable": true, "DeleteTable": true, "DescribeTable": true,
	"PutItem": true, "UpdateItem": true, "DeleteItem": true, "GetItem": true,
	"Query": true, "Scan": true, "BatchWriteItem": true, "BatchGetItem": true,
	"TransactWriteItems": true, "TransactGetItems": true,
}

// Engine is an http.Handler speaking DynamoDB's JSON protocol, persisted to
// a directory (or in memory only when opened with an empty directory).
type Engine struct {
	log   *slog.Logger
	inner http.Handler

	mu      sync.RWMutex
	dir     string
	journal *os.File
	unlock  func() error
	// broken is set when a journal write failed: memory and disk may differ,
	// so further mutations are refused.
	broken error
	// tables tracks each table's definition for ListTables, TTL and
	// compaction: its CreateTable and UpdateTable requests, in order.
	tables map[string]*table
}

type table struct {
	schema []record
	ttl    json.RawMessage // the TimeToLiveSpecification, or nil
}

// record is one journal line.
type record struct {
	Op   string          `json:"op"`
	Body json.RawMessage `json:"body"`
}

// Open starts an engine whose data lives in dir, replaying and compacting
// its journal. With dir "" the engine keeps data in memory only. Only one
// engine may hold a directory at a time.
func Open(dir string, log *slog.Logger) (*Engine, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Engine{log: log, inner: miniserver.NewServer(), dir: dir, tables: map[string]*table{}}
	if dir == "" {
		return e, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	e.unlock = unlock
	if err := e.replay(); err != nil {
		unlock()
		return nil, err
	}
	if err := e.compact(); err != nil {
		unlock()
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, JournalFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		unlock()
		return nil, err
	}
	e.journal = f
	return e, nil
}

// Close releases the journal and the directory.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []error
	if e.journal != nil {
		errs = append(errs, e.journal.Close())
		e.journal = nil
	}
	if e.unlock != nil {
		errs = append(errs, e.unlock())
		e.unlock = nil
	}
	e.broken = errors.New("localdb: engine closed")
	return errors.Join(errs...)
}

// ServeHTTP answers one DynamoDB JSON API request.
func (e *Engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// A plain GET (a browser, a readiness probe) gets a friendly answer.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "partner-portal local DynamoDB engine: POST DynamoDB JSON API requests here")
		return
	}
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest {
		writeError(w, http.StatusBadRequest, "SerializationException", "cannot read the request body")
		return
	}
	status, out := e.Do(op, body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	w.Write(out)
}

// Do applies one operation and returns the HTTP status and response body.
func (e *Engine) Do(op string, body []byte) (int, []byte) {
	if !mutating[op] {
		e.mu.RLock()
		defer e.mu.RUnlock()
		return e.apply(op, body)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.broken != nil {
		return errorBody(http.StatusInternalServerError, "InternalServerError", "the local engine stopped accepting writes: "+e.broken.Error())
	}
	status, out := e.apply(op, body)
	if status != http.StatusOK || e.journal == nil {
		return status, out
	}
	if err := e.append(record{Op: op, Body: body}); err != nil {
		e.broken = err
		e.log.Error("localdb: journal write failed; refusing further writes", slog.String("error", err.Error()))
		return errorBody(http.StatusInternalServerError, "InternalServerError", "the local engine could not persist the write")
	}
	return status, out
}

// apply runs op against memory. Callers hold the lock.
func (e *Engine) apply(op string, body []byte) (int, []byte) {
	switch op {
	case "ListTables":
		return e.listTables(body)
	case "DescribeTimeToLive", "UpdateTimeToLive":
		return e.timeToLive(op, body)
	}
	if !minidynOps[op] {
		return errorBody(http.StatusBadRequest, "UnknownOperationException", fmt.Sprintf("the local engine does not support %q", op))
	}
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	rec := httptest.NewRecorder()
	e.inner.ServeHTTP(rec, req)
	if rec.Code == http.StatusOK {
		e.track(op, body)
	}
	return rec.Code, rec.Body.Bytes()
}

// track follows table definitions after a successful operation.
func (e *Engine) track(op string, body []byte) {
	if op != "CreateTable" && op != "UpdateTable" && op != "DeleteTable" {
		return
	}
	var in struct{ TableName string }
	if json.Unmarshal(body, &in) != nil {
		return
	}
	switch op {
	case "CreateTable":
		e.tables[in.TableName] = &table{schema: []record{{Op: op, Body: slices.Clone(body)}}}
	case "UpdateTable":
		if t := e.tables[in.TableName]; t != nil {
			t.schema = append(t.schema, record{Op: op, Body: slices.Clone(body)})
		}
	case "DeleteTable":
		delete(e.tables, in.TableName)
	}
}

func (e *Engine) listTables(body []byte) (int, []byte) {
	var in struct {
		ExclusiveStartTableName string
		Limit                   int
	}
	if len(body) > 0 && json.Unmarshal(body, &in) != nil {
		return errorBody(http.StatusBadRequest, "SerializationException", "bad ListTables request")
	}
	if in.Limit <= 0 || in.Limit > 100 {
		in.Limit = 100
	}
	names := make([]string, 0, len(e.tables))
	for n := range e.tables {
		if n > in.ExclusiveStartTableName {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	out := map[string]any{"TableNames": names}
	if len(names) > in.Limit {
		out["TableNames"] = names[:in.Limit]
		out["LastEvaluatedTableName"] = names[in.Limit-1]
	}
	return ok(out)
}

func (e *Engine) timeToLive(op string, body []byte) (int, []byte) {
	var in struct {
		TableName               string
		TimeToLiveSpecification json.RawMessage
	}
	if json.Unmarshal(body, &in) != nil {
		return errorBody(http.StatusBadRequest, "SerializationException", "bad "+op+" request")
	}
	t := e.tables[in.TableName]
	if t == nil {
		return errorBody(http.StatusBadRequest, "ResourceNotFoundException", "Requested resource not found: Table: "+in.TableName+" not found")
	}
	if op == "UpdateTimeToLive" {
		var spec struct {
			AttributeName string
			Enabled       *bool
		}
		if json.Unmarshal(in.TimeToLiveSpecification, &spec) != nil || spec.AttributeName == "" || spec.Enabled == nil {
			return errorBody(http.StatusBadRequest, "ValidationException", "TimeToLiveSpecification needs AttributeName and Enabled")
		}
		t.ttl = slices.Clone(in.TimeToLiveSpecification)
		if !*spec.Enabled {
			t.ttl = nil
		}
		return ok(map[string]any{"TimeToLiveSpecification": in.TimeToLiveSpecification})
	}
	desc := map[string]any{"TimeToLiveStatus": "DISABLED"}
	if t.ttl != nil {
		var spec struct{ AttributeName string }
		json.Unmarshal(t.ttl, &spec)
		desc = map[string]any{"TimeToLiveStatus": "ENABLED", "AttributeName": spec.AttributeName}
	}
	return ok(map[string]any{"TimeToLiveDescription": desc})
}

// append writes one record to the journal and syncs it to disk.
func (e *Engine) append(rec record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if _, err := e.journal.Write(append(line, '\n')); err != nil {
		return err
	}
	return e.journal.Sync()
}

// replay applies the journal's records to the empty engine. A torn last
// line (a crash while writing it) is dropped; damage elsewhere is an error.
func (e *Engine) replay() error {
	f, err := os.Open(filepath.Join(e.dir, JournalFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), maxRequest*2)
	var pending error
	n, failed := 0, 0
	for sc.Scan() {
		if pending != nil {
			return pending
		}
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var rec record
		if err := json.Unmarshal(line, &rec); err != nil || rec.Op == "" {
			pending = fmt.Errorf("localdb: %s: record %d is damaged", JournalFile, n+1)
			continue
		}
		n++
		if status, out := e.apply(rec.Op, rec.Body); status != http.StatusOK {
			failed++
			e.log.Warn("localdb: a journaled request failed on replay", slog.String("op", rec.Op), slog.String("response", string(out)))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("localdb: reading %s: %w", JournalFile, err)
	}
	if pending != nil {
		e.log.Warn("localdb: dropped a torn last journal record")
	}
	e.log.Info("localdb: replayed journal", slog.String("dir", e.dir), slog.Int("records", n), slog.Int("failed", failed))
	return nil
}

// compact rewrites the journal as the current state: per table its schema
// requests, its TTL, and one PutItem per item. The new journal replaces the
// old one atomically.
func (e *Engine) compact() error {
	tmp := filepath.Join(e.dir, JournalFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	w := bufio.NewWriter(f)
	write := func(rec record) error {
		line, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		w.Write(line)
		return w.WriteByte('\n')
	}
	names := make([]string, 0, len(e.tables))
	for n := range e.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t := e.tables[name]
		for _, rec := range t.schema {
			if err := write(rec); err != nil {
				f.Close()
				return err
			}
		}
		if t.ttl != nil {
			body, _ := json.Marshal(map[string]any{"TableName": name, "TimeToLiveSpecification": t.ttl})
			if err := write(record{Op: "UpdateTimeToLive", Body: body}); err != nil {
				f.Close()
				return err
			}
		}
		err := e.scan(name, func(item json.RawMessage) error {
			body, err := json.Marshal(map[string]any{"TableName": name, "Item": item})
			if err != nil {
				return err
			}
			return write(record{Op: "PutItem", Body: body})
		})
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(e.dir, JournalFile)); err != nil {
		return err
	}
	return syncDir(e.dir)
}

// scan calls fn for every item of a table, following pages.
func (e *Engine) scan(name string, fn func(json.RawMessage) error) error {
	var start json.RawMessage
	for {
		in := map[string]any{"TableName": name}
		if start != nil {
			in["ExclusiveStartKey"] = start
		}
		body, _ := json.Marshal(in)
		status, out := e.apply("Scan", body)
		if status != http.StatusOK {
			return fmt.Errorf("localdb: scanning %s for compaction: %s", name, out)
		}
		var page struct {
			Items            []json.RawMessage
			LastEvaluatedKey json.RawMessage
		}
		if err := json.Unmarshal(out, &page); err != nil {
			return err
		}
		for _, it := range page.Items {
			if err := fn(it); err != nil {
				return err
			}
		}
		if len(page.LastEvaluatedKey) == 0 || string(page.LastEvaluatedKey) == "null" || string(page.LastEvaluatedKey) == "{}" {
			return nil
		}
		start = page.LastEvaluatedKey
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	// Some platforms cannot sync a directory; the rename is still atomic.
	_ = d.Sync()
	return nil
}

func ok(v any) (int, []byte) {
	out, err := json.Marshal(v)
	if err != nil {
		return errorBody(http.StatusInternalServerError, "InternalServerError", err.Error())
	}
	return http.StatusOK, out
}

func errorBody(status int, typ, msg string) (int, []byte) {
	out, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.dynamodb.v20120810#" + typ, "message": msg})
	return status, out
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	_, out := errorBody(status, typ, msg)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	w.Write(out)
}
