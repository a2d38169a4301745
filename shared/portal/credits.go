package portal

import "time"

// LedgerType is the kind of a credit movement (SPEC §4).
type LedgerType string

// The ledger entry types.
const (
	LedgerPurchase    LedgerType = "purchase"     // platform: pool +n
	LedgerAllocation  LedgerType = "allocation"   // operator+: pool −n, site +n
	LedgerReclaim     LedgerType = "reclaim"      // operator+: pool +n, site −n
	LedgerCharge      LedgerType = "charge"       // billing job: site −n
	LedgerSiteDeleted LedgerType = "site_deleted" // admin+: the site's credits return to the pool
)

// LedgerTypes lists every type, for validating filters.
var LedgerTypes = []LedgerType{LedgerPurchase, LedgerAllocation, LedgerReclaim, LedgerCharge, LedgerSiteDeleted}

// MaxMove is the most credits one operation of a person or the platform
// moves (SPEC §4). The system's own movements — a month's charge and the
// refund of a deleted site — move whatever the site's usage and balance
// dictate.
const MaxMove = 1_000_000

// LedgerEntry is an immutable record of one credit movement. Balances are
// those after the movement.
type LedgerEntry struct {
	ID          string     `json:"id"`
	At          time.Time  `json:"at"`
	Type        LedgerType `json:"type"`
	Amount      int64      `json:"amount"`
	PoolDelta   int64      `json:"poolDelta"`
	SiteDelta   int64      `json:"siteDelta"`
	PoolBalance int64      `json:"poolBalance"`
	SiteBalance *int64     `json:"siteBalance"`
	SiteID      string     `json:"siteId,omitempty"`
	SiteName    string     `json:"siteName,omitempty"`
	Actor       Actor      `json:"actor"`
	Note        string     `json:"note,omitempty"`
	Reference   string     `json:"reference,omitempty"`
}

// Movement is a credit movement about to happen. Plan checks it against the
// current balances and returns the entry it makes; nothing is stored.
type Movement struct {
	Type   LedgerType
	Amount int64
	// Pool is the partner's available credits now.
	Pool int64
	// Site is the site's current state; nil for purchases.
	Site      *Site
	Actor     Actor
	Note      string
	Reference string
	At        time.Time
}

// Plan validates the movement and computes the ledger entry: the deltas
// for its type and the balances after it. A movement that would make a
// balance negative is insufficient_credits; an amount outside 1..MaxMove is
// invalid (site deletion returns whatever the site holds, so only its lower
// bound applies; a site with no credits makes no entry).
func (m Movement) Plan() (LedgerEntry, error) {
	e := LedgerEntry{ID: NewID(m.At), At: m.At, Type: m.Type, Amount: m.Amount, Actor: m.Actor, Note: m.Note, Reference: m.Reference}
	if m.Amount < 1 || m.Amount > MaxMove && m.Type != LedgerSiteDeleted && m.Type != LedgerCharge {
		return e, &Error{Code: CodeValidation, Message: "one or more fields are invalid",
			Fields: []FieldError{{Field: "amount", Message: "must move 1 to 1000000 credits"}}}
	}
	switch m.Type {
	case LedgerPurchase:
		e.PoolDelta = m.Amount
	case LedgerAllocation:
		e.PoolDelta, e.SiteDelta = -m.Amount, m.Amount
	case LedgerReclaim, LedgerSiteDeleted:
		e.PoolDelta, e.SiteDelta = m.Amount, -m.Amount
	case LedgerCharge:
		e.SiteDelta = -m.Amount
	default:
		return e, Errorf(CodeInternal, "unknown ledger type %q", m.Type)
	}
	if (m.Site == nil) != (m.Type == LedgerPurchase) {
		return e, Errorf(CodeInternal, "ledger type %q with site %v", m.Type, m.Site != nil)
	}
	e.PoolBalance = m.Pool + e.PoolDelta
	if e.PoolBalance < 0 {
		return e, Errorf(CodeInsufficientCredits, "the pool has %d credits available; %d requested", m.Pool, m.Amount)
	}
	if m.Site != nil {
		bal := m.Site.Credits + e.SiteDelta
		if bal < 0 {
			return e, Errorf(CodeInsufficientCredits, "site %q has %d credits; %d requested", m.Site.Name, m.Site.Credits, m.Amount)
		}
		e.SiteBalance, e.SiteID, e.SiteName = &bal, m.Site.ID, m.Site.Name
	}
	return e, nil
}
