package dynamo

import (
	"context"
	"time"

	"partnerportal/shared/portal"
)

// AuditEntry is one line of a partner's audit log.
type AuditEntry struct {
	ID     string       `json:"id"`
	At     time.Time    `json:"at"`
	Actor  portal.Actor `json:"actor"`
	Action string       `json:"action"`
	Target string       `json:"target"`
	// Details is stored only when non-empty: the embedded engine mangles an
	// empty map attribute. Reads restore the empty object.
	Details map[string]any `json:"details" dynamodbav:",omitempty"`
}

// audit returns the write that records a mutation in the same transaction.
func (s *Store) audit(pid string, actor portal.Actor, action, target string, details map[string]any, at time.Time) write {
	e := AuditEntry{ID: portal.NewID(at), At: at, Actor: actor, Action: action, Target: target, Details: details}
	it, err := marshal(auditKey(pid, at, e.ID), e, nil)
	if err != nil {
		return write{err: err}
	}
	return s.put(it, expr{}, nil)
}

// ListAudit returns a partner's audit log newest first within [from, to).
func (s *Store) ListAudit(ctx context.Context, pid string, from, to time.Time, limit int, cursor string) (Page[AuditEntry], error) {
	q := query{pk: auditPK(pid), reverse: true}
	q.skLow, q.skHigh = timeRange(from, to)
	items, next, err := s.runQuery(ctx, q, limit, cursor)
	if err != nil {
		return Page[AuditEntry]{}, err
	}
	page := Page[AuditEntry]{Items: make([]AuditEntry, 0, len(items)), Next: next}
	for _, it := range items {
		var e AuditEntry
		if err := unmarshal(it, &e); err != nil {
			return page, err
		}
		if e.Details == nil {
			e.Details = map[string]any{}
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}
