package dynamo

import (
	"context"
	"strings"
	"time"

	"partnerportal/shared/portal"
)

// siteItem is the stored site, with its credit balance.
//
// A site lives at P#<pid> / SITE#<sid>. It is also on GSI1 (all sites of the
// partner, partition P#<pid>#SITES) and GSI2 (the sites of one country,
// partition P#<pid>#SITES#<CC>), both sorted by siteSortKey, so either
// listing is one Query in name order. A marker item P#<pid> /
// SITENAME#<lower-case name> owns the name: creating or renaming a site puts
// the marker on condition that it does not exist, which makes names unique
// per partner (ignoring case) inside DynamoDB rather than by a read.
type siteItem struct {
	ID              string
	Name            string
	NameLower       string
	Country         string
	TimeZone        string
	Credits         int64
	Users           int64
	Devices         int64
	Status          portal.SiteStatus
	SuspendedReason string `dynamodbav:",omitempty"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int64
	// Children counts the site's notes and site administrators. Their writes
	// add to it on condition that the site exists, so nothing is ever
	// attached to a deleted site, and deleting a site knows without a query
	// whether there is anything to clean up.
	Children int64
}

func decodeSite(it item, r portal.Rates) (portal.Site, error) {
	var si siteItem
	if err := unmarshal(it, &si); err != nil {
		return portal.Site{}, err
	}
	site := portal.Site{
		ID: si.ID, Name: si.Name, Country: si.Country, TimeZone: si.TimeZone,
		Credits: si.Credits, Users: si.Users, Devices: si.Devices, Status: si.Status,
		SuspendedReason: si.SuspendedReason, CreatedAt: si.CreatedAt, UpdatedAt: si.UpdatedAt, Version: si.Version,
		Children: si.Children,
	}
	r.Price(&site)
	return site, nil
}

// lowerName is the case-insensitive form of a site name: what the name
// marker, the sort key and the q filter compare.
func lowerName(name string) string { return strings.ToLower(name) }

// siteSortKey orders sites by lower-case name, ties by id. The separator
// \x01 sorts below every character a name may contain (names have no
// control characters), so "acme" sorts before "acme hq" — with "#" it would
// not, since a space sorts below "#".
func siteSortKey(lower, sid string) string { return lower + "\x01" + sid }

// siteItemOf builds the full stored item of a site, with its index keys.
func siteItemOf(pid string, site portal.Site) (item, error) {
	lower := lowerName(site.Name)
	si := siteItem{ID: site.ID, Name: site.Name, NameLower: lower, Country: site.Country, TimeZone: site.TimeZone,
		Credits: site.Credits, Users: site.Users, Devices: site.Devices, Status: site.Status, SuspendedReason: site.SuspendedReason,
		CreatedAt: site.CreatedAt, UpdatedAt: site.UpdatedAt, Version: site.Version, Children: site.Children}
	sk := siteSortKey(lower, site.ID)
	return marshal(siteKey(pid, site.ID), si, map[string]string{
		attrGSI1PK: sitesIndexPK(pid), attrGSI1SK: sk,
		attrGSI2PK: sitesByCountryPK(pid, site.Country), attrGSI2SK: sk,
	})
}

// siteNameMarker is the item that owns a site name within a partner.
type siteNameMarker struct {
	SiteID string
}

var errNameTaken = portal.Errorf(portal.CodeAlreadyExists, "another site of this partner already has that name (names are compared ignoring case)")

func (s *Store) claimName(pid, name, sid string) write {
	it, err := marshal(siteNameKey(pid, lowerName(name)), siteNameMarker{SiteID: sid}, nil)
	if err != nil {
		return write{err: err}
	}
	return s.put(it, expr{text: "attribute_not_exists(PK)"}, errNameTaken)
}

var errSiteNotFound = portal.NotFound("site")

// CreateSite stores a new site of partner pid. site carries everything but
// the partner: id, name, country, time zone, timestamps, version 1, and in
// Credits the initial allocation (0 for none), which is drawn from the pool
// in the same transaction as an allocation ledger entry. pool is the pool
// balance the caller last read; when it has moved, CreateSite re-reads it and
// tries again (bounded). The name marker, the partner's site count and the
// audit entry are written in the same transaction; so is idem when not nil.
func (s *Store) CreateSite(ctx context.Context, pid string, pool int64, site portal.Site, actor portal.Actor, idem *Idempotency) error {
	first := true
	return s.retryMoved(ctx, func(ctx context.Context) error {
		if !first {
			p, err := s.GetPartner(ctx, pid)
			if err != nil {
				return err
			}
			pool = p.Credits.Available
		}
		first = false
		var writes []write
		if idem != nil {
			// First, so that a twin request that already committed is
			// replayed rather than reported as a name clash.
			writes = append(writes, s.idempotencyWrite(*idem))
		}
		it, err := siteItemOf(pid, site)
		if err != nil {
			return err
		}
		writes = append(writes, s.claimName(pid, site.Name, site.ID),
			s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeConflict, "site id collision; retry")))
		adds := map[string]int64{"SiteCount": 1, "TotalUsers": site.Users, "TotalDevices": site.Devices}
		details := map[string]any{"name": site.Name, "country": site.Country, "timeZone": site.TimeZone, "credits": site.Credits}
		if site.Credits > 0 {
			empty := site
			empty.Credits = 0
			e, err := portal.Movement{Type: portal.LedgerAllocation, Amount: site.Credits, Pool: pool, Site: &empty, Actor: actor, At: site.CreatedAt}.Plan()
			if err != nil {
				return err
			}
			lw := s.movementWrites(pid, pool, nil, e, adds)
			writes = append(writes, lw.partner, lw.entry)
			details["ledgerEntryId"] = e.ID
		} else {
			writes = append(writes, s.partnerAdd(pid, adds, site.CreatedAt))
		}
		writes = append(writes, s.audit(pid, actor, "site.created", "site/"+site.ID, details, site.CreatedAt))
		return s.transact(ctx, writes...)
	})
}

// partnerAdd adds to the partner's counters; the partner must exist.
func (s *Store) partnerAdd(pid string, adds map[string]int64, now time.Time) write {
	clauses := make([]string, 0, len(adds))
	values := map[string]any{":now": now}
	for _, k := range []string{"SiteCount", "TotalUsers", "TotalDevices"} {
		if v, ok := adds[k]; ok {
			clauses = append(clauses, "#"+k+" :add"+k)
			values[":add"+k] = v
		}
	}
	return s.update(partnerKey(pid), expr{text: "SET #UpdatedAt = :now ADD " + strings.Join(clauses, ", "), values: values},
		expr{text: "attribute_exists(PK)"}, portal.NotFound("partner"))
}

// GetSite returns one site of a partner (for callers that did not preload it
// during authentication).
func (s *Store) GetSite(ctx context.Context, pid, sid string) (portal.Site, error) {
	if !portal.ValidID(sid) || !portal.ValidID(pid) {
		return portal.Site{}, errSiteNotFound
	}
	items, err := s.batchGet(ctx, siteKey(pid, sid))
	if err != nil {
		return portal.Site{}, err
	}
	if items[0] == nil {
		return portal.Site{}, errSiteNotFound
	}
	return decodeSite(items[0], s.rates)
}

// SitePatch lists the fields of a site to change; nil leaves one alone.
type SitePatch struct {
	Name, Country, TimeZone *string
}

// UpdateSite applies patch to the site whose state before is what the
// caller read. With ifMatch > 0 (the client's If-Match version) a site whose
// version differs fails with precondition_failed. Without it the change is
// still conditioned on the version read: when the site moved meanwhile it is
// re-read and the patch applied again to the fresh state, so no concurrent
// update is ever lost. A rename moves the name marker in the same
// transaction.
func (s *Store) UpdateSite(ctx context.Context, pid string, before portal.Site, patch SitePatch, ifMatch int64, actor portal.Actor) (portal.Site, error) {
	var out portal.Site
	first := true
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		if !first {
			fresh, err := s.GetSite(ctx, pid, before.ID)
			if err != nil {
				return err
			}
			before = fresh
		}
		first = false
		if ifMatch > 0 && before.Version != ifMatch {
			return ErrStaleETag(before.Version)
		}
		after := before
		changes := map[string]any{}
		if patch.Name != nil && *patch.Name != before.Name {
			after.Name = *patch.Name
			changes["name"] = map[string]any{"from": before.Name, "to": after.Name}
		}
		if patch.Country != nil && *patch.Country != before.Country {
			after.Country = *patch.Country
			changes["country"] = map[string]any{"from": before.Country, "to": after.Country}
		}
		if patch.TimeZone != nil && *patch.TimeZone != before.TimeZone {
			after.TimeZone = *patch.TimeZone
			changes["timeZone"] = map[string]any{"from": before.TimeZone, "to": after.TimeZone}
		}
		if len(changes) == 0 {
			out = before
			return nil
		}
		now := s.Now()
		after.UpdatedAt, after.Version = now, before.Version+1
		stale := error(errMoved)
		if ifMatch > 0 {
			stale = ErrStaleETag(-1)
		}
		var writes []write
		oldLower, newLower := lowerName(before.Name), lowerName(after.Name)
		if oldLower != newLower {
			writes = append(writes, s.claimName(pid, after.Name, after.ID),
				s.delete(siteNameKey(pid, oldLower), expr{text: "#SiteID = :sid", values: map[string]any{":sid": after.ID}}, stale))
		}
		sk := siteSortKey(newLower, after.ID)
		writes = append(writes, s.update(siteKey(pid, after.ID),
			expr{text: "SET #Name = :name, #NameLower = :lower, #Country = :country, #TimeZone = :tz, #UpdatedAt = :now, #Version = :newVersion, #GSI1SK = :sk, #GSI2PK = :cpk, #GSI2SK = :sk",
				values: map[string]any{":name": after.Name, ":lower": newLower, ":country": after.Country, ":tz": after.TimeZone, ":now": now,
					":newVersion": after.Version, ":sk": sk, ":cpk": sitesByCountryPK(pid, after.Country)}},
			expr{text: "#Version = :version", values: map[string]any{":version": before.Version}}, stale),
			s.audit(pid, actor, "site.updated", "site/"+after.ID, changes, now))
		if err := s.transact(ctx, writes...); err != nil {
			return err
		}
		s.rates.Price(&after)
		out = after
		return nil
	})
	return out, err
}

// ErrStaleETag is the 412 of a PATCH whose If-Match is not the site's
// current ETag (current < 0 when it is not known).
func ErrStaleETag(current int64) error {
	if current < 0 {
		return portal.Errorf(portal.CodePreconditionFailed, "the site changed since you read it; GET it again and retry with the new ETag")
	}
	return portal.Errorf(portal.CodePreconditionFailed, "the site changed since you read it (current ETag \"%d\"); GET it again and retry", current)
}

// DeleteSite removes a site. One transaction deletes the site and its name
// marker, returns its remaining credits to the pool as a site_deleted ledger
// entry (none when it holds 0), takes it off the partner's counters and
// writes the audit entry. Its notes and site administrators are removed
// afterwards (see PurgeSiteChildren): a site can have more of them than one
// transaction may hold, and once the site is gone nothing can be attached to
// it or read through it. The ledger keeps the site's history.
//
// before and pool are what the caller read; the transaction is conditioned
// on them and re-reads when they moved (bounded retries).
func (s *Store) DeleteSite(ctx context.Context, pid string, before portal.Site, pool int64, actor portal.Actor) error {
	first := true
	var deleted portal.Site
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		if !first {
			items, err := s.batchGet(ctx, partnerKey(pid), siteKey(pid, before.ID))
			if err != nil {
				return err
			}
			if items[0] == nil || items[1] == nil {
				return errSiteNotFound
			}
			p, err := decodePartner(items[0], s.rates)
			if err != nil {
				return err
			}
			if before, err = decodeSite(items[1], s.rates); err != nil {
				return err
			}
			pool = p.Credits.Available
		}
		first = false
		now := s.Now()
		writes := []write{
			s.delete(siteKey(pid, before.ID), expr{
				text:   "#Version = :v AND #Credits = :c AND #Users = :u AND #Devices = :d AND #Children = :ch",
				values: map[string]any{":v": before.Version, ":c": before.Credits, ":u": before.Users, ":d": before.Devices, ":ch": before.Children},
			}, errMoved),
			s.delete(siteNameKey(pid, lowerName(before.Name)), expr{}, nil),
		}
		adds := map[string]int64{"SiteCount": -1, "TotalUsers": -before.Users, "TotalDevices": -before.Devices}
		details := map[string]any{"name": before.Name, "credits": before.Credits}
		if before.Credits > 0 {
			e, err := portal.Movement{Type: portal.LedgerSiteDeleted, Amount: before.Credits, Pool: pool, Site: &before, Actor: actor, At: now}.Plan()
			if err != nil {
				return err
			}
			lw := s.movementWrites(pid, pool, nil, e, adds)
			writes = append(writes, lw.partner, lw.entry)
			details["ledgerEntryId"] = e.ID
		} else {
			writes = append(writes, s.partnerAdd(pid, adds, now))
		}
		writes = append(writes, s.audit(pid, actor, "site.deleted", "site/"+before.ID, details, now))
		if err := s.transact(ctx, writes...); err != nil {
			return err
		}
		deleted = before
		return nil
	})
	if err != nil {
		return err
	}
	if deleted.Children > 0 {
		if err := s.PurgeSiteChildren(ctx, pid, deleted.ID); err != nil {
			return &CleanupError{Err: err}
		}
	}
	return nil
}

// CleanupError reports that a site is deleted (its credits returned, in one
// transaction) but removing its notes and administrators failed. The
// deletion stands; the leftovers are removed by the next DELETE of the site.
type CleanupError struct{ Err error }

func (e *CleanupError) Error() string {
	return "site deleted; cleanup of its children failed: " + e.Err.Error()
}

func (e *CleanupError) Unwrap() error { return e.Err }

// SetUsage records a site's usage as reported by the platform and adjusts
// the partner's usage totals in the same transaction. It reads the site,
// then writes on condition that its version is still the one read
// (re-reading and retrying, bounded, when it moved). Reporting the usage the
// site already has changes nothing.
func (s *Store) SetUsage(ctx context.Context, pid, sid string, users, devices int64) (portal.Site, error) {
	var out portal.Site
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		site, err := s.GetSite(ctx, pid, sid)
		if err != nil {
			return err
		}
		if site.Users == users && site.Devices == devices {
			out = site
			return nil
		}
		now := s.Now()
		err = s.transact(ctx,
			s.update(siteKey(pid, sid),
				expr{text: "SET #Users = :u, #Devices = :d, #UpdatedAt = :now, #Version = #Version + :one",
					values: map[string]any{":u": users, ":d": devices, ":now": now, ":one": 1}},
				expr{text: "#Version = :v", values: map[string]any{":v": site.Version}}, errMoved),
			s.partnerAdd(pid, map[string]int64{"TotalUsers": users - site.Users, "TotalDevices": devices - site.Devices}, now),
			s.audit(pid, portal.PlatformActor, "site.usage_reported", "site/"+sid, map[string]any{
				"users": map[string]any{"from": site.Users, "to": users}, "devices": map[string]any{"from": site.Devices, "to": devices},
			}, now),
		)
		if err != nil {
			return err
		}
		site.Users, site.Devices, site.UpdatedAt, site.Version = users, devices, now, site.Version+1
		s.rates.Price(&site)
		out = site
		return nil
	})
	return out, err
}

// SiteFilter narrows a site listing.
type SiteFilter struct {
	// Query keeps sites whose name contains it, ignoring case.
	Query string
	// Country keeps the sites of one ISO 3166-1 alpha-2 country.
	Country string
}

// ListSites returns a page of a partner's sites in name order (lower-case
// name, then id).
//
// Without a name query it is one Query on GSI1 (or on GSI2 for a country)
// reading at most limit+1 items. With a name query it is still one Query,
// reading at most filteredScanFactor × (limit+1) items and keeping those
// whose name contains the query; the page may then hold fewer than limit
// sites (even none) with a cursor to continue. The filter runs here rather
// than as a FilterExpression: DynamoDB reads (and bills) the same items
// either way, and the embedded engine mishandles Limit with a filter.
func (s *Store) ListSites(ctx context.Context, pid string, f SiteFilter, limit int, cursor string) (Page[portal.Site], error) {
	q := query{index: gsi1, pk: sitesIndexPK(pid)}
	if f.Country != "" {
		q = query{index: gsi2, pk: sitesByCountryPK(pid, f.Country)}
	}
	if f.Query != "" {
		needle := lowerName(f.Query)
		q.bind = "q=" + needle
		q.match = func(it item) bool {
			var n struct{ NameLower string }
			return unmarshal(it, &n) == nil && strings.Contains(n.NameLower, needle)
		}
	}
	return s.sitePage(ctx, pid, q, limit, cursor)
}

// sitePage runs one listing query of a partner's sites and decodes it.
func (s *Store) sitePage(ctx context.Context, pid string, q query, limit int, cursor string) (Page[portal.Site], error) {
	items, next, err := s.runQuery(ctx, q, limit, cursor)
	if err != nil {
		return Page[portal.Site]{}, err
	}
	page := Page[portal.Site]{Items: make([]portal.Site, 0, len(items)), Next: next}
	for _, it := range items {
		site, err := decodeSite(it, s.rates)
		if err != nil {
			return page, err
		}
		site.PartnerID = pid
		page.Items = append(page.Items, site)
	}
	return page, nil
}
