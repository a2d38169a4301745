package dynamo

import (
	"context"
	"errors"
	"time"

	"partnerportal/shared/portal"
)

// Move is a credit movement asked for through the API: a purchase by the
// platform, or an allocation or reclaim by an administrator. The billing
// job's charges and the sites' deletion refunds build their own
// transactions around the same movementWrites.
type Move struct {
	Type      portal.LedgerType
	Amount    int64
	SiteID    string // allocation and reclaim
	Actor     portal.Actor
	Note      string
	Reference string // purchase: required, unique per partner
	// Partner and Site are the states read in the request's authentication
	// round trip. The first attempt plans from them, so an uncontended
	// movement costs one transaction; nil means read them first.
	Partner *portal.Partner
	Site    *portal.Site
	// Idempotency, when set, is written in the movement's transaction.
	Idempotency *Idempotency
	// Respond, when set, is called with each attempt's planned result before
	// its transaction, so that the idempotency record holds the response
	// the committed attempt returns.
	Respond func(MoveResult) error
}

// MoveResult is what a movement did.
type MoveResult struct {
	Entry portal.LedgerEntry
	// Site is the site after the movement, priced; nil for purchases.
	Site *portal.Site
	// Pool is the partner's available credits after the movement.
	Pool int64
	// Replayed reports a purchase whose reference had already bought the
	// same amount: nothing moved and Entry is the original entry.
	Replayed bool
}

// purchaseRefItem remembers which entry a purchase reference made.
type purchaseRefItem struct {
	Reference string
	Amount    int64
	Entry     portal.LedgerEntry
}

var errReferenceUsed = errors.New("dynamo: purchase reference already used")

// MoveCredits applies one movement atomically: the partner's pool and
// totals, the site's credits, the ledger entry, the audit entry and the
// idempotency record (plus the purchase reference) in one transaction. A
// concurrent change of either balance makes it re-read and plan again, a
// bounded number of times (then 503 unavailable, nothing applied).
func (s *Store) MoveCredits(ctx context.Context, pid string, m Move) (MoveResult, error) {
	switch m.Type {
	case portal.LedgerPurchase:
		if m.SiteID != "" || m.Reference == "" {
			return MoveResult{}, portal.Errorf(portal.CodeInternal, "a purchase takes a reference and no site")
		}
	case portal.LedgerAllocation, portal.LedgerReclaim:
		if m.SiteID == "" {
			return MoveResult{}, portal.Errorf(portal.CodeInternal, "%s without a site", m.Type)
		}
	default:
		return MoveResult{}, portal.Errorf(portal.CodeInternal, "MoveCredits does not make %s entries", m.Type)
	}
	partner, site := m.Partner, m.Site
	var res MoveResult
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		if partner == nil || m.SiteID != "" && site == nil {
			var err error
			if partner, site, err = s.readBalances(ctx, pid, m.SiteID); err != nil {
				return err
			}
		}
		var before *portal.Site
		if site != nil {
			b := *site
			before = &b
		}
		now := s.Now()
		e, err := portal.Movement{Type: m.Type, Amount: m.Amount, Pool: partner.Credits.Available, Site: before,
			Actor: m.Actor, Note: m.Note, Reference: m.Reference, At: now}.Plan()
		if err != nil {
			return err
		}
		res = MoveResult{Entry: e, Pool: e.PoolBalance}
		if before != nil {
			after := *before
			after.Credits, after.UpdatedAt, after.Version = *e.SiteBalance, now, before.Version+1
			s.rates.Price(&after)
			res.Site = &after
		}
		if m.Respond != nil {
			if err := m.Respond(res); err != nil {
				return err
			}
		}
		// The idempotency record and the reference go first: when a twin
		// has committed, their failure is the one reported.
		var writes []write
		if m.Idempotency != nil {
			writes = append(writes, s.idempotencyWrite(*m.Idempotency))
		}
		if m.Type == portal.LedgerPurchase {
			it, err := marshal(purchaseRefKey(pid, m.Reference), purchaseRefItem{Reference: m.Reference, Amount: m.Amount, Entry: e}, nil)
			if err != nil {
				return err
			}
			writes = append(writes, s.put(it, expr{text: "attribute_not_exists(PK)"}, errReferenceUsed))
		}
		lw := s.movementWrites(pid, partner.Credits.Available, before, e, nil)
		writes = append(writes, lw.partner)
		if before != nil {
			writes = append(writes, lw.site)
		}
		writes = append(writes, lw.entry, s.audit(pid, m.Actor, auditAction(m.Type), moveTarget(pid, e), moveDetails(e), now))
		err = s.transact(ctx, writes...)
		if errors.Is(err, errMoved) || errors.Is(err, ErrContention) {
			partner, site = nil, nil
		}
		return err
	})
	if errors.Is(err, errReferenceUsed) {
		return s.replayPurchase(ctx, pid, m)
	}
	return res, err
}

// replayPurchase answers a purchase whose reference was used before: the
// same amount is a retry and gets the original entry; another amount is a
// different order with a clashing reference.
func (s *Store) replayPurchase(ctx context.Context, pid string, m Move) (MoveResult, error) {
	var ref purchaseRefItem
	found, err := s.get(ctx, purchaseRefKey(pid, m.Reference), &ref)
	if err != nil {
		return MoveResult{}, err
	}
	if !found {
		return MoveResult{}, portal.Errorf(portal.CodeConflict, "the purchase raced another; retry")
	}
	if ref.Amount != m.Amount {
		return MoveResult{}, portal.Errorf(portal.CodeAlreadyExists, "reference %q already bought %d credits (entry %s)", m.Reference, ref.Amount, ref.Entry.ID)
	}
	return MoveResult{Entry: ref.Entry, Pool: ref.Entry.PoolBalance, Replayed: true}, nil
}

// readBalances reads the partner and, when sid is set, the site, in one
// strongly consistent round trip.
func (s *Store) readBalances(ctx context.Context, pid, sid string) (*portal.Partner, *portal.Site, error) {
	keys := []key{partnerKey(pid)}
	if sid != "" {
		if !portal.ValidID(sid) {
			return nil, nil, portal.NotFound("site")
		}
		keys = append(keys, siteKey(pid, sid))
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return nil, nil, err
	}
	if items[0] == nil {
		return nil, nil, portal.NotFound("partner")
	}
	p, err := decodePartner(items[0], s.rates)
	if err != nil {
		return nil, nil, err
	}
	if sid == "" {
		return &p, nil, nil
	}
	if items[1] == nil {
		return nil, nil, portal.NotFound("site")
	}
	site, err := decodeSite(items[1], s.rates)
	if err != nil {
		return nil, nil, err
	}
	return &p, &site, nil
}

// PartnerForPurchase reads a partner and the platform's stored response for
// an Idempotency-Key (nil when none, or expired) in one round trip.
func (s *Store) PartnerForPurchase(ctx context.Context, pid, scope, route, idemKey string) (portal.Partner, *Idempotency, error) {
	if !portal.ValidID(pid) {
		return portal.Partner{}, nil, portal.NotFound("partner")
	}
	keys := []key{partnerKey(pid)}
	if idemKey != "" {
		keys = append(keys, idempotencyKey(scope, route, idemKey))
	}
	items, err := s.batchGet(ctx, keys...)
	if err != nil {
		return portal.Partner{}, nil, err
	}
	if items[0] == nil {
		return portal.Partner{}, nil, portal.NotFound("partner")
	}
	p, err := decodePartner(items[0], s.rates)
	if err != nil {
		return p, nil, err
	}
	if idemKey == "" || items[1] == nil {
		return p, nil, nil
	}
	var r Idempotency
	if err := unmarshal(items[1], &r); err != nil {
		return p, nil, err
	}
	if !s.Now().Before(r.ExpiresAt) {
		return p, nil, nil
	}
	return p, &r, nil
}

func auditAction(t portal.LedgerType) string {
	switch t {
	case portal.LedgerPurchase:
		return "credits.purchased"
	case portal.LedgerAllocation:
		return "credits.allocated"
	case portal.LedgerReclaim:
		return "credits.reclaimed"
	case portal.LedgerCharge:
		return "credits.charged"
	}
	return "credits." + string(t)
}

func moveTarget(pid string, e portal.LedgerEntry) string {
	if e.SiteID != "" {
		return "site/" + e.SiteID
	}
	return "partner/" + pid
}

func moveDetails(e portal.LedgerEntry) map[string]any {
	d := map[string]any{"entryId": e.ID, "amount": e.Amount, "poolBalance": e.PoolBalance}
	if e.SiteBalance != nil {
		d["siteBalance"] = *e.SiteBalance
		d["siteName"] = e.SiteName
	}
	if e.Reference != "" {
		d["reference"] = e.Reference
	}
	return d
}

// LedgerFilter narrows a partner's credit history.
type LedgerFilter struct {
	// SiteID lists one site's entries from its own index partition.
	SiteID string
	Type   portal.LedgerType
	// From is inclusive, To exclusive; zero means unbounded.
	From, To time.Time
}

// ListLedger returns a partner's ledger entries newest first. The sort key
// starts with the entry's time, so a time range reads only the entries in
// it; a site's entries come from their own GSI1 partition; the type is a
// filter (pages may come back short, with a cursor to continue).
func (s *Store) ListLedger(ctx context.Context, pid string, f LedgerFilter, limit int, cursor string) (Page[portal.LedgerEntry], error) {
	q := query{pk: ledgerPK(pid), reverse: true}
	if f.SiteID != "" {
		q.index, q.pk = gsi1, siteLedgerPK(pid, f.SiteID)
	}
	q.skLow, q.skHigh = timeRange(f.From, f.To)
	if f.Type != "" {
		q.bind = "type=" + string(f.Type)
		q.match = func(it item) bool {
			var e struct{ Type portal.LedgerType }
			return unmarshal(it, &e) == nil && e.Type == f.Type
		}
	}
	items, next, err := s.runQuery(ctx, q, limit, cursor)
	if err != nil {
		return Page[portal.LedgerEntry]{}, err
	}
	page := Page[portal.LedgerEntry]{Items: make([]portal.LedgerEntry, 0, len(items)), Next: next}
	for _, it := range items {
		var e portal.LedgerEntry
		if err := unmarshal(it, &e); err != nil {
			return page, err
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}

// timeRange turns [from, to) into sort-key bounds for keys "<ts>#<id>":
// "<ts(from)>" sorts before every key at from, and "<ts(to)>" before every
// key at to, so BETWEEN keeps from inclusive and to exclusive.
func timeRange(from, to time.Time) (lo, hi string) {
	if from.IsZero() && to.IsZero() {
		return "", ""
	}
	lo, hi = "0", "~"
	if !from.IsZero() {
		lo = ts(from)
	}
	if !to.IsZero() {
		hi = ts(to)
	}
	return lo, hi
}
