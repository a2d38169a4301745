// Package billing is the scheduled job that charges each site's monthly cost
// once per UTC month, suspends sites that cannot pay, and sends credit alerts.
package billing

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

// Job charges sites; Run is the Lambda handler.
type Job struct {
	Store     *dynamo.Store
	Mail      mail.Sender
	PublicURL string
	Log       *slog.Logger
	// Concurrency bounds how many partners are billed at once. A partner's
	// sites are billed one batch after another: every batch updates the
	// partner item, so parallel batches of one partner would only conflict.
	Concurrency int
}

// Summary is what one run did; Run returns it as the function's result.
type Summary struct {
	Month string `json:"month"`
	// Partners and Sites count the active partners and their sites seen.
	Partners int `json:"partners"`
	Sites    int `json:"sites"`
	// Charged sites and the Credits charged in this run.
	Charged int   `json:"charged"`
	Credits int64 `json:"credits"`
	// AlreadyCharged sites were charged for the month by an earlier run.
	AlreadyCharged int `json:"alreadyCharged"`
	// Suspended sites were suspended now; Unpaid counts every site that
	// could not pay, whether suspended now or before.
	Suspended int `json:"suspended"`
	Unpaid    int `json:"unpaid"`
	// Reactivated sites were suspended and are active again.
	Reactivated int `json:"reactivated"`
	// AlertsSent counts emails sent.
	AlertsSent int `json:"alertsSent"`
	// Failed counts sites (or partners) left for the next run by an error.
	Failed int `json:"failed"`
	// Incomplete reports a run that stopped before its deadline; the next
	// run (or a manual re-run) continues where it stopped.
	Incomplete bool `json:"incomplete"`
}

func (s *Summary) add(o Summary) {
	s.Partners += o.Partners
	s.Sites += o.Sites
	s.Charged += o.Charged
	s.Credits += o.Credits
	s.AlreadyCharged += o.AlreadyCharged
	s.Suspended += o.Suspended
	s.Unpaid += o.Unpaid
	s.Reactivated += o.Reactivated
	s.AlertsSent += o.AlertsSent
	s.Failed += o.Failed
	s.Incomplete = s.Incomplete || o.Incomplete
}

// MonthOf returns the UTC month ("YYYY-MM") of a scheduled event's time
// (EventBridge Scheduler and rules both send {"time": "<RFC 3339>", ...}).
func MonthOf(event json.RawMessage) (string, error) {
	var ev struct {
		Time string `json:"time"`
	}
	if err := json.Unmarshal(event, &ev); err != nil {
		return "", fmt.Errorf("billing: the event is not a JSON object with a time: %w", err)
	}
	if ev.Time == "" {
		return "", fmt.Errorf(`billing: the event has no "time"`)
	}
	t, err := time.Parse(time.RFC3339Nano, ev.Time)
	if err != nil {
		return "", fmt.Errorf("billing: the event's time %q is not RFC 3339", ev.Time)
	}
	return t.UTC().Format("2006-01"), nil
}

// Run handles one scheduled event: it bills the month of the event's time.
func (j *Job) Run(ctx context.Context, event json.RawMessage) (any, error) {
	month, err := MonthOf(event)
	if err != nil {
		return nil, err
	}
	return j.Bill(ctx, month)
}

// stopMargin is how long before the invocation's deadline no new partner
// is started; a partner's own charges are each atomic, so stopping
// anywhere is safe and the next run continues.
const stopMargin = 60 * time.Second

// partnersPage and sitesPage size the listing queries. A page of sites is
// a whole number of charge batches, so that no batch goes out short
// because its page ended.
const (
	partnersPage = 100
	sitesPage    = 20 * dynamo.ChargeBatchSites
)

// Bill charges every site of every active partner for month (YYYY-MM).
// It is safe to run again at any time and to overlap with another run.
func (j *Job) Bill(ctx context.Context, month string) (Summary, error) {
	start := time.Now()
	sum := Summary{Month: month}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(1, j.Concurrency))
	deadline, hasDeadline := ctx.Deadline()
	cursor := ""
	var listErr error
pages:
	for {
		page, err := j.Store.ListPartners(ctx, partnersPage, cursor)
		if err != nil {
			listErr = err
			break
		}
		for _, p := range page.Items {
			if p.Status != portal.PartnerActive {
				continue
			}
			if hasDeadline && time.Until(deadline) < stopMargin {
				mu.Lock()
				sum.Incomplete = true
				mu.Unlock()
				break pages
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				ps := j.billPartner(ctx, month, p)
				mu.Lock()
				sum.add(ps)
				mu.Unlock()
			}()
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	wg.Wait()
	j.Log.LogAttrs(ctx, slog.LevelInfo, "billing run",
		slog.String("month", month), slog.Int("partners", sum.Partners), slog.Int("sites", sum.Sites),
		slog.Int("charged", sum.Charged), slog.Int64("credits", sum.Credits), slog.Int("alreadyCharged", sum.AlreadyCharged),
		slog.Int("suspended", sum.Suspended), slog.Int("unpaid", sum.Unpaid), slog.Int("reactivated", sum.Reactivated),
		slog.Int("alertsSent", sum.AlertsSent), slog.Int("failed", sum.Failed), slog.Bool("incomplete", sum.Incomplete),
		slog.Int64("durationMs", time.Since(start).Milliseconds()))
	if listErr != nil {
		return sum, fmt.Errorf("billing: listing partners: %w", listErr)
	}
	return sum, nil
}

// billPartner bills one partner's sites page by page, each page in batches
// of dynamo.ChargeBatchSites sites per transaction (one after another: every
// batch updates the partner item, so parallel batches would only
// conflict), then sends its alerts.
func (j *Job) billPartner(ctx context.Context, month string, p portal.Partner) Summary {
	start := time.Now()
	ps := Summary{Partners: 1}
	log := j.Log.With(slog.String("month", month), slog.String("partnerId", p.ID))
	charged, err := j.Store.ChargedSites(ctx, p.ID, month)
	if err != nil {
		log.ErrorContext(ctx, "billing: reading charge markers", slog.String("error", err.Error()))
		ps.Failed++
		return ps
	}
	var unpaid, low []portal.Site
	pool := p.Credits.Available
	deadline, hasDeadline := ctx.Deadline()
	cursor := ""
	for {
		page, err := j.Store.BillingSites(ctx, p.ID, sitesPage, cursor)
		if err != nil {
			log.ErrorContext(ctx, "billing: listing sites", slog.String("error", err.Error()))
			ps.Failed++
			break
		}
		var todo []portal.Site
		for _, site := range page.Items {
			ps.Sites++
			if charged[site.ID] {
				ps.AlreadyCharged++
				if lowCredit(site, p) {
					low = append(low, site)
				}
				continue
			}
			todo = append(todo, site)
		}
		results, next := j.Store.ChargeSites(ctx, p.ID, month, todo, pool)
		pool = next
		for k, res := range results {
			if res.Err != nil {
				log.ErrorContext(ctx, "billing: charging a site", slog.String("siteId", todo[k].ID), slog.String("error", res.Err.Error()))
				ps.Failed++
				continue
			}
			if res.Reactivated {
				ps.Reactivated++
			}
			switch res.Outcome {
			case dynamo.Charged:
				ps.Charged++
				ps.Credits += res.Entry.Amount
				if lowCredit(res.Site, p) {
					low = append(low, res.Site)
				}
			case dynamo.AlreadyCharged:
				ps.AlreadyCharged++
				if lowCredit(res.Site, p) {
					low = append(low, res.Site)
				}
			case dynamo.Unpaid:
				ps.Unpaid++
				unpaid = append(unpaid, res.Site)
				if res.Suspended {
					ps.Suspended++
				}
			}
		}
		if page.Next != "" {
			log.LogAttrs(ctx, slog.LevelInfo, "billing partner", slog.Int("sites", ps.Sites), slog.Int("charged", ps.Charged), slog.Int("failed", ps.Failed))
		}
		if hasDeadline && time.Until(deadline) < stopMargin && page.Next != "" {
			// Stop between pages; every batch is atomic and the next run
			// continues from the charge markers.
			ps.Incomplete = true
			break
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	ps.AlertsSent += j.alert(ctx, log, p, month, dynamo.AlertSuspended, unpaid)
	ps.AlertsSent += j.alert(ctx, log, p, month, dynamo.AlertLowCredit, low)
	log.LogAttrs(ctx, slog.LevelInfo, "billed partner", slog.Int("sites", ps.Sites), slog.Int("charged", ps.Charged),
		slog.Int("suspended", ps.Suspended), slog.Int("unpaid", ps.Unpaid), slog.Int("alertsSent", ps.AlertsSent),
		slog.Int("failed", ps.Failed), slog.Int64("durationMs", time.Since(start).Milliseconds()))
	return ps
}

// lowCredit reports a site whose months remaining fall below the partner's
// threshold; a site without monthly cost never runs low.
func lowCredit(site portal.Site, p portal.Partner) bool {
	return site.MonthsRemaining != nil && *site.MonthsRemaining < int64(p.LowCreditThresholdMonths)
}

// alert mails the partner's admins and masters about sites, each site at
// most once a month per kind (suspension, low credit): SPEC §4 asks for one
// email about each suspended site that month. The claim comes before the
// mail so overlapping runs never both send; a failed send releases the
// claim for the next run. A run's sites of one kind go into one message per
// recipient.
func (j *Job) alert(ctx context.Context, log *slog.Logger, p portal.Partner, month, kind string, sites []portal.Site) int {
	if len(sites) == 0 {
		return 0
	}
	ids := make([]string, len(sites))
	for i, site := range sites {
		ids[i] = site.ID
	}
	keys, err := j.Store.ClaimAlerts(ctx, p.ID, kind, month, ids)
	if err != nil {
		log.ErrorContext(ctx, "billing: claiming alerts", slog.String("kind", kind), slog.String("error", err.Error()))
	}
	var claimed []portal.Site
	for _, site := range sites {
		if slices.Contains(keys, site.ID) {
			claimed = append(claimed, site)
		}
	}
	if len(claimed) == 0 {
		return 0
	}
	sent, failed := 0, false
	to, err := j.Store.AlertRecipients(ctx, p.ID)
	if err != nil {
		log.ErrorContext(ctx, "billing: listing alert recipients", slog.String("error", err.Error()))
		failed = true
	}
	for _, addr := range to {
		if err := j.Mail.Send(ctx, alertMail(addr, kind, month, p, claimed, j.PublicURL)); err != nil {
			log.ErrorContext(ctx, "billing: sending alert", slog.String("kind", kind), slog.String("error", err.Error()))
			failed = true
			continue
		}
		sent++
	}
	// Settle as sent when anyone got it: re-sending to everyone would
	// duplicate the mails that went through.
	if err := j.Store.SettleAlerts(ctx, p.ID, kind, month, keys, sent > 0 || !failed); err != nil {
		log.ErrorContext(ctx, "billing: settling alerts", slog.String("kind", kind), slog.String("error", err.Error()))
	}
	return sent
}

func alertMail(to, kind, month string, p portal.Partner, sites []portal.Site, publicURL string) mail.Message {
	var lines []string
	for i, s := range sites {
		if i == 20 {
			lines = append(lines, fmt.Sprintf("… and %d more.", len(sites)-20))
			break
		}
		months := "none"
		if s.MonthsRemaining != nil {
			months = fmt.Sprint(*s.MonthsRemaining)
		}
		lines = append(lines, fmt.Sprintf("%s: %d credits, %d per month, months remaining: %s", s.Name, s.Credits, s.MonthlyCost, months))
	}
	if kind == dynamo.AlertSuspended {
		return mail.Compose(to, fmt.Sprintf("%s: sites suspended for lack of credits (%s)", p.Name, month), []string{
			fmt.Sprintf("The monthly charge for %s could not be taken from these sites of %s, so they are suspended:", month, p.Name),
			strings.Join(lines, "\n"),
			"Allocate credits to them in Partner Portal: the next daily billing run charges them and makes them active again.",
		}, publicURL, "Open Partner Portal")
	}
	return mail.Compose(to, fmt.Sprintf("%s: sites running low on credits", p.Name), []string{
		fmt.Sprintf("After the %s charges, these sites of %s have less than %d month(s) of credits left:", month, p.Name, p.LowCreditThresholdMonths),
		strings.Join(lines, "\n"),
		"Allocate more credits to them in Partner Portal to keep them running.",
	}, publicURL, "Open Partner Portal")
}
