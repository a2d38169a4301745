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
)

const (
	demoPartnerName = "Demo Partner"
	demoMasterEmail = "master@demo-partner.example"
)

// seedDemo makes sure a demo partner exists, through the platform routes
// like any platform client, and returns a fresh master invitation link read
// from the outbox. Run again, it reuses the partner: while it is pending it
// gets a new master invitation.
func seedDemo(ctx context.Context, baseURL, outbox string) (string, error) {
	c := &platformClient{endpoint: baseURL, region: "us-east-1", creds: dummyCredentials, http: &http.Client{Timeout: 30 * time.Second}}
	c.signer = newSigner()
	existing, err := findPartner(ctx, c, demoPartnerName)
	if err != nil {
		return "", err
	}
	since := time.Now().Add(-time.Second)
	switch {
	case existing == nil:
		if _, err := c.do(ctx, http.MethodPost, "/v1/platform/partners",
			map[string]string{"name": demoPartnerName, "country": "FR", "masterEmail": demoMasterEmail}, nil); err != nil {
			return "", err
		}
	case existing.Status == "pending":
		if _, err := c.do(ctx, http.MethodPost, "/v1/platform/partners/"+existing.ID+"/master-invitation",
			map[string]string{"email": demoMasterEmail}, nil); err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("the demo partner %s is already %s; sign in as %s", existing.ID, existing.Status, demoMasterEmail)
	}
	return outboxLink(outbox, demoMasterEmail, since)
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
