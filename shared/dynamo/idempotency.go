package dynamo

import (
	"context"
	"errors"
	"time"
)

// IdempotencyTTL is how long a stored response can be replayed (SPEC §5).
const IdempotencyTTL = 24 * time.Hour

// Idempotency is a stored response to a request that carried an
// Idempotency-Key. It is written in the same transaction as the change the
// request made, so a request and its replay can never both apply.
type Idempotency struct {
	Scope       string // partner id, or "platform"
	Route       string // the route key
	Key         string // the client's Idempotency-Key
	RequestHash string // hex SHA-256 of the request body
	Status      int
	Headers     map[string]string
	Body        string
	ExpiresAt   time.Time
}

// ErrIdempotencyRace is returned by a mutation whose idempotency record was
// written first by a concurrent twin; the caller reads and replays it.
var ErrIdempotencyRace = errors.New("dynamo: idempotency key already used")

func (s *Store) idempotencyWrite(r Idempotency) write {
	it, err := marshal(idempotencyKey(r.Scope, r.Route, r.Key), r, nil)
	if err != nil {
		return write{err: err}
	}
	it[AttrTTL] = ttlAttr(r.ExpiresAt)
	return s.put(it, expr{text: "attribute_not_exists(PK) OR #ExpiresAt < :now", values: map[string]any{":now": s.Now()}}, ErrIdempotencyRace)
}

// GetIdempotency returns the live record for a key, or nil when there is
// none or it has expired (TTL deletes lazily, so expiry is checked here).
func (s *Store) GetIdempotency(ctx context.Context, scope, route, k string) (*Idempotency, error) {
	var r Idempotency
	found, err := s.get(ctx, idempotencyKey(scope, route, k), &r)
	if err != nil || !found || !s.Now().Before(r.ExpiresAt) {
		return nil, err
	}
	return &r, nil
}
