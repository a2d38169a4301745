package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

func (s *Service) creditRoutes() []route {
	return []route{
		{"POST /v1/platform/partners/{partnerId}/credits", GroupPlatform, s.platform(s.purchaseCredits)},
		{"POST /v1/sites/{siteId}/credits", GroupCredits, s.authed(portal.PermMoveCredits, withIdempotency, s.moveSiteCredits)},
		{"GET /v1/credits", GroupCredits, s.authed(portal.PermView, nil, s.creditSummary)},
		{"GET /v1/credits/history", GroupCredits, s.authed(portal.PermView, nil, s.creditHistory)},
		{"GET /v1/audit", GroupAccounts, s.authed(portal.PermViewAuditLog, nil, s.listAudit)},
	}
}

// MaxReference and MaxCreditNote bound the free-text fields of movements.
const (
	MaxReference  = 200
	MaxCreditNote = 500
)

// purchaseCredits sells credits to a partner. The reference (the
// platform's order or invoice number) is unique per partner: repeating a
// purchase with the same reference and amount replays the original entry
// (so a platform that retries without an Idempotency-Key still never sells
// twice), with another amount it is 409 already_exists. The Idempotency-Key,
// when sent, is scoped to the partner.
func (s *Service) purchaseCredits(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Amount    *int64  `json:"amount"`
		Reference *string `json:"reference"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Amount != nil && *in.Amount >= 1 && *in.Amount <= portal.MaxMove, "amount", "must be an integer from 1 to %d", portal.MaxMove)
	v.Check(in.Reference != nil && portal.ValidName(*in.Reference, MaxReference), "reference", "must be 1 to %d characters without leading or trailing spaces or control characters", MaxReference)
	if err := v.Err(); err != nil {
		return nil, err
	}
	pid := r.Path("partnerId")
	scope := platformScope + "#" + pid
	idemKey := r.Header("idempotency-key")
	if !validIdempotencyKey(idemKey) {
		idemKey = ""
	}
	partner, stored, err := s.Store.PartnerForPurchase(ctx, pid, scope, r.RouteKey(), idemKey)
	if err != nil {
		return nil, err
	}
	return s.idempotent(ctx, r, scope, stored, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		var resp *httpapi.Response
		res, err := s.Store.MoveCredits(ctx, pid, dynamo.Move{
			Type: portal.LedgerPurchase, Amount: *in.Amount, Reference: *in.Reference, Actor: portal.PlatformActor,
			Partner: &partner, Idempotency: idem,
			Respond: func(res dynamo.MoveResult) (err error) {
				resp, err = httpapi.JSON(http.StatusCreated, res.Entry)
				setResponse(idem, resp)
				return err
			},
		})
		if err != nil {
			return nil, err
		}
		if res.Replayed {
			resp, err = httpapi.JSON(http.StatusCreated, res.Entry)
			if err != nil {
				return nil, err
			}
			resp.With("idempotent-replayed", "true")
		}
		return resp, nil
	})
}

// moveResponse is the body of POST /v1/sites/{siteId}/credits.
type moveResponse struct {
	Entry portal.LedgerEntry `json:"entry"`
	Site  *portal.Site       `json:"site"`
	Pool  struct {
		Available int64 `json:"available"`
	} `json:"pool"`
}

// moveSiteCredits allocates (amount > 0) or reclaims (amount < 0) a site's
// credits. Authentication has already read the site, the partner and any
// stored response, so an uncontended move is one more round trip: the
// transaction.
func (s *Service) moveSiteCredits(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		Amount *int64 `json:"amount"`
		Note   string `json:"note"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Amount != nil && *in.Amount != 0 && *in.Amount >= -portal.MaxMove && *in.Amount <= portal.MaxMove,
		"amount", "must be a non-zero integer from -%d to %d: positive allocates, negative reclaims", portal.MaxMove, portal.MaxMove)
	v.Check(validNote(in.Note, MaxCreditNote), "note", "must be at most %d characters without control characters other than line breaks", MaxCreditNote)
	if err := v.Err(); err != nil {
		return nil, err
	}
	pid := a.Principal.Partner.ID
	return s.idempotent(ctx, r, pid, a.Idempotency, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		if a.Site == nil {
			return nil, portal.NotFound("site")
		}
		typ, amount := portal.LedgerAllocation, *in.Amount
		if amount < 0 {
			typ, amount = portal.LedgerReclaim, -amount
		}
		var resp *httpapi.Response
		_, err := s.Store.MoveCredits(ctx, pid, dynamo.Move{
			Type: typ, Amount: amount, SiteID: a.Site.ID, Actor: a.Principal.Actor(), Note: in.Note,
			Partner: &a.Principal.Partner, Site: a.Site, Idempotency: idem,
			Respond: func(res dynamo.MoveResult) (err error) {
				body := moveResponse{Entry: res.Entry, Site: res.Site}
				body.Pool.Available = res.Pool
				resp, err = httpapi.JSON(http.StatusCreated, body)
				setResponse(idem, resp)
				return err
			},
		})
		if err != nil {
			return nil, err
		}
		return resp, nil
	})
}

// validNote allows empty notes, line breaks and tabs, and nothing longer
// than max characters.
func validNote(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// creditSummary answers from the partner item that authentication read:
// one round trip in all.
func (s *Service) creditSummary(_ context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	c := a.Principal.Partner.Credits
	return httpapi.JSON(http.StatusOK, map[string]int64{
		"available": c.Available, "allocated": c.Allocated, "monthlyCost": c.MonthlyCost,
		"purchased": c.Purchased, "charged": c.Charged,
	})
}

// One CSV export response is bounded three ways; when more entries match,
// it carries X-Next-Cursor and asking again with ?cursor= continues:
//   - MaxExportRows rows;
//   - maxExportBytes of estimated CSV, under Lambda's 6 MB response limit
//     (a row with a 500-character note and long names nears 1 KB);
//   - maxExportQueries Query calls, so a sparse type filter over a long
//     ledger cannot run the function into its timeout.
const (
	MaxExportRows    = 10_000
	maxExportBytes   = 4 << 20
	maxExportQueries = 40
	// exportPage is how many entries each Query of an export returns.
	exportPage = 1000
	// rowBytes estimates one row without its free text (ids, times,
	// numbers, separators); worstRowBytes adds the longest free text.
	rowBytes      = 250
	worstRowBytes = rowBytes + 500 + 100 + 254 + 200
)

func (s *Service) creditHistory(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f, err := ledgerFilter(r)
	if err != nil {
		return nil, err
	}
	format := r.Query("format")
	if format != "" && format != "json" && format != "csv" {
		return nil, fieldError("format", `must be "json" or "csv"`)
	}
	pid := a.Principal.Partner.ID
	if format != "csv" {
		page, err := s.Store.ListLedger(ctx, pid, f, limit, cursor)
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
	}
	var rows []portal.LedgerEntry
	size := 0
	for queries := 1; ; queries++ {
		page, err := s.Store.ListLedger(ctx, pid, f, min(exportPage, MaxExportRows-len(rows)), cursor)
		if err != nil {
			return nil, err
		}
		rows = append(rows, page.Items...)
		for _, e := range page.Items {
			size += rowBytes + len(e.Note) + len(e.SiteName) + len(e.Actor.Email) + len(e.Reference)
		}
		cursor = page.Next
		// Stop before a page that could overflow the byte budget.
		if cursor == "" || len(rows) >= MaxExportRows || queries == maxExportQueries ||
			size+exportPage*worstRowBytes > maxExportBytes {
			break
		}
	}
	body, err := ledgerCSV(rows)
	if err != nil {
		return nil, err
	}
	resp := &httpapi.Response{Status: http.StatusOK, Headers: map[string]string{
		"content-type":        "text/csv; charset=utf-8",
		"content-disposition": `attachment; filename="` + exportName(f, s.now()) + `"`,
		"cache-control":       "no-store",
	}, Body: body}
	if cursor != "" {
		resp.With("x-next-cursor", cursor)
	}
	return resp, nil
}

func fieldError(field, msg string) error {
	return &portal.Error{Code: portal.CodeValidation, Message: "one or more fields are invalid",
		Fields: []portal.FieldError{{Field: field, Message: msg}}}
}

// ledgerFilter reads from, to, siteId and type.
func ledgerFilter(r *httpapi.Request) (dynamo.LedgerFilter, error) {
	var f dynamo.LedgerFilter
	var v portal.Validation
	f.From, f.To, _ = timeRange(r, &v)
	if sid := r.Query("siteId"); sid != "" {
		v.Check(portal.ValidID(sid), "siteId", "is not a site id")
		f.SiteID = sid
	}
	if t := r.Query("type"); t != "" {
		known := false
		for _, lt := range portal.LedgerTypes {
			known = known || string(lt) == t
		}
		v.Check(known, "type", "must be one of purchase, allocation, reclaim, charge, site_deleted")
		f.Type = portal.LedgerType(t)
	}
	return f, v.Err()
}

// timeRange reads ?from= (inclusive) and ?to= (exclusive), each RFC 3339
// or YYYY-MM-DD (midnight UTC); from must be before to.
func timeRange(r *httpapi.Request, v *portal.Validation) (from, to time.Time, ok bool) {
	ok = true
	parse := func(name string) time.Time {
		s := r.Query(name)
		if s == "" {
			return time.Time{}
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC()
		}
		if t, err := time.Parse("2006-01-02", s); err == nil {
			return t
		}
		v.Add(name, "must be an RFC 3339 time or a YYYY-MM-DD date")
		ok = false
		return time.Time{}
	}
	from, to = parse("from"), parse("to")
	if ok && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		v.Add("to", "must be after from")
		ok = false
	}
	return from, to, ok
}

// exportName is the download's file name: only characters that need no
// quoting in Content-Disposition.
func exportName(f dynamo.LedgerFilter, now time.Time) string {
	name := "credit-history"
	if f.SiteID != "" {
		name += "-" + f.SiteID
	}
	if f.Type != "" {
		name += "-" + string(f.Type)
	}
	return name + "-" + now.UTC().Format("20060102T150405Z") + ".csv"
}

var csvHeader = []string{"id", "at", "type", "amount", "poolDelta", "siteDelta", "poolBalance", "siteBalance",
	"siteId", "siteName", "actorType", "actorId", "actorEmail", "note", "reference"}

// ledgerCSV renders entries as RFC 4180 CSV (CRLF line ends, quoting by
// encoding/csv) behind a UTF-8 byte order mark, which spreadsheet programs
// need to read non-ASCII names as UTF-8. Text cells are defused against
// formula injection; numbers are written by us and stay numeric.
func ledgerCSV(entries []portal.LedgerEntry) (string, error) {
	var b strings.Builder
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.Write(csvHeader); err != nil {
		return "", err
	}
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	for _, e := range entries {
		siteBalance := ""
		if e.SiteBalance != nil {
			siteBalance = num(*e.SiteBalance)
		}
		row := []string{
			safeCell(e.ID), e.At.UTC().Format(time.RFC3339Nano), string(e.Type), num(e.Amount), num(e.PoolDelta), num(e.SiteDelta),
			num(e.PoolBalance), siteBalance, safeCell(e.SiteID), safeCell(e.SiteName), string(e.Actor.Type),
			safeCell(e.Actor.ID), safeCell(e.Actor.Email), safeCell(e.Note), safeCell(e.Reference),
		}
		if err := w.Write(row); err != nil {
			return "", err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return "", fmt.Errorf("csv: %w", err)
	}
	return b.String(), nil
}

// safeCell prefixes a text cell that a spreadsheet would read as a formula
// (OWASP's CSV injection advice) with a single quote.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Service) listAudit(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	var v portal.Validation
	from, to, _ := timeRange(r, &v)
	if err := v.Err(); err != nil {
		return nil, err
	}
	page, err := s.Store.ListAudit(ctx, a.Principal.Partner.ID, from, to, limit, cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
}
