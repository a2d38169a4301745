package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"partnerportal/shared/api"
)

const (
	demoPartnerName = "Demo Partner"
	demoMasterEmail = "master@demo-partner.example"
	// demoReference is the demo purchase's reference. A purchase is unique
	// per partner and reference, so a second --seed replays the first one
	// instead of buying again.
	demoReference = "demo-seed"
	// demoCredits is what the demo partner buys: enough for the demo sites'
	// allocations with a pool left over to allocate by hand.
	demoCredits = 25_000
	// demoSites is how many customer sites the demo partner gets.
	demoSites = 30
)

// seedResult is what --seed did and what to tell the user.
type seedResult struct {
	PartnerID string
	// Status is the demo partner's status after seeding.
	Status string
	// Link is a fresh master invitation link, while the partner is pending.
	Link string
	// SitesCreated is how many sites this run created (0 when the partner
	// already had sites).
	SitesCreated int
	SiteCount    int
	// Available is the partner's pool after seeding.
	Available int64
}

// seedDemo makes sure a demo partner exists with credits and a few dozen
// customer sites. The partner and its credits go through the platform
// routes like any platform client (so the purchase is a real ledger entry
// and mail goes to the outbox); the sites, their usage and notes go
// through svc.SeedDemoSites on the running server's store, since only an
// administrator of an active partner could create them over HTTP.
//
// Run again, it duplicates nothing: the partner is found by name, the
// purchase replays by its reference, and sites are created only when the
// partner has none. While the partner is pending each run returns a fresh
// master invitation link (read from the outbox); once the master has
// accepted it, Status says so and there is no link: sign in instead.
func seedDemo(ctx context.Context, baseURL, outbox string, svc *api.Service) (seedResult, error) {
	c := &platformClient{endpoint: baseURL, region: "us-east-1", creds: dummyCredentials, http: &http.Client{Timeout: 30 * time.Second}}
	c.signer = newSigner()
	var res seedResult
	existing, err := findPartner(ctx, c, demoPartnerName)
	if err != nil {
		return res, err
	}
	since := time.Now().Add(-time.Second)
	needLink := false
	switch {
	case existing == nil:
		raw, err := c.do(ctx, http.MethodPost, "/v1/platform/partners",
			map[string]string{"name": demoPartnerName, "country": "FR", "masterEmail": demoMasterEmail}, nil)
		if err != nil {
			return res, err
		}
		var created struct{ Partner partnerSummary }
		if err := json.Unmarshal(raw, &created); err != nil {
			return res, err
		}
		existing = &created.Partner
		needLink = true
	case existing.Status == "pending":
		if _, err := c.do(ctx, http.MethodPost, "/v1/platform/partners/"+existing.ID+"/master-invitation",
			map[string]string{"email": demoMasterEmail}, nil); err != nil {
			return res, err
		}
		needLink = true
	}
	res.PartnerID = existing.ID
	_, err = c.do(ctx, http.MethodPost, "/v1/platform/partners/"+existing.ID+"/credits",
		map[string]any{"amount": demoCredits, "reference": demoReference}, nil)
	var ae *apiError
	if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
		// 409 means an earlier seed bought another amount under the same
		// reference: bought already, so nothing to do.
		return res, fmt.Errorf("buying the demo credits: %w", err)
	}
	p, err := getPartner(ctx, c, existing.ID)
	if err != nil {
		return res, err
	}
	if p.SiteCount == 0 {
		if err := svc.SeedDemoSites(ctx, existing.ID, demoSites); err != nil {
			return res, fmt.Errorf("seeding the demo sites: %w", err)
		}
		res.SitesCreated = demoSites
		if p, err = getPartner(ctx, c, existing.ID); err != nil {
			return res, err
		}
	}
	res.Status, res.SiteCount, res.Available = p.Status, p.SiteCount, p.Credits.Available
	if needLink {
		if res.Link, err = outboxLink(outbox, demoMasterEmail, since); err != nil {
			return res, err
		}
	}
	return res, nil
}

// printSeed tells the user what --seed left them with.
func printSeed(w io.Writer, r seedResult) {
	fmt.Fprintf(w, "Demo partner %q (%s, %s): %d sites, %d credits in the pool\n", demoPartnerName, r.PartnerID, r.Status, r.SiteCount, r.Available)
	if r.Link != "" {
		fmt.Fprintf(w, "  master invitation link for %s:\n  %s\n", demoMasterEmail, r.Link)
		return
	}
	fmt.Fprintf(w, "  sign in as %s with the password chosen when the invitation was accepted\n", demoMasterEmail)
	fmt.Fprintf(w, "  (POST /v1/auth/login); forgotten, POST /v1/auth/password-reset mails a link to the outbox\n")
}

type platformPartnerView struct {
	partnerSummary
	SiteCount int `json:"siteCount"`
	Credits   struct {
		Available int64 `json:"available"`
	} `json:"credits"`
}

func getPartner(ctx context.Context, c *platformClient, id string) (platformPartnerView, error) {
	var p platformPartnerView
	raw, err := c.do(ctx, http.MethodGet, "/v1/platform/partners/"+id, nil, nil)
	if err != nil {
		return p, err
	}
	return p, json.Unmarshal(raw, &p)
}

type partnerSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// findPartner pages through the partners for one with the given name.
func findPartner(ctx context.Context, c *platformClient, name string) (*partnerSummary, error) {
	cursor := ""
	for {
		path := "/v1/platform/partners?limit=100"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		raw, err := c.do(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return nil, err
		}
		var page struct {
			Items      []partnerSummary `json:"items"`
			NextCursor *string          `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, err
		}
		for _, p := range page.Items {
			if p.Name == name {
				return &p, nil
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return nil, nil
		}
		cursor = *page.NextCursor
	}
}

var invitationLink = regexp.MustCompile(`https?://[^\s"<>]+/invitations/[A-Za-z0-9_-]+`)

// outboxLink returns the invitation link of the newest mail to an address
// written after since.
func outboxLink(dir, to string, since time.Time) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	type found struct {
		at   time.Time
		link string
	}
	var all []found
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".eml") {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().Before(since) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return "", err
		}
		rcpt, text, err := readMail(raw)
		if err != nil || !strings.EqualFold(rcpt, to) {
			continue
		}
		if link := invitationLink.FindString(text); link != "" {
			all = append(all, found{info.ModTime(), link})
		}
	}
	if len(all) == 0 {
		return "", fmt.Errorf("no invitation mail to %s in %s", to, dir)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].at.Before(all[j].at) })
	return all[len(all)-1].link, nil
}

// readMail returns an RFC 5322 message's recipient and its text/plain body.
func readMail(raw []byte) (to, text string, err error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", err
	}
	to = msg.Header.Get("To")
	if addr, err := mail.ParseAddress(to); err == nil {
		to = addr.Address
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", "", err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodePart(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		return to, body, err
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return to, "", errors.New("no text/plain part")
		}
		if err != nil {
			return "", "", err
		}
		if pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt == "text/plain" {
			body, err := decodePart(p, p.Header.Get("Content-Transfer-Encoding"))
			return to, body, err
		}
	}
}

func decodePart(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}
