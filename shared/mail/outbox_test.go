package mail

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// TestRenderRoundTrip parses a rendered message as a mail client would and
// finds a long link intact in both parts.
func TestRenderRoundTrip(t *testing.T) {
	link := "http://127.0.0.1:3000/invitations/" + strings.Repeat("AbC123_-", 6)
	m := Compose("ann@example.com", "Invitation", []string{"Hello,\nyou are invited."}, link, "Accept the invitation")
	raw := Render("no-reply@example.com", m, time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC), "id1")
	if bytes.Contains(raw, []byte("\r\r")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatalf("line endings are not all CRLF:\n%q", raw)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("part %d: %v", parts, err)
		}
		if !strings.Contains(string(body), link) {
			t.Errorf("part %d lacks the link:\n%s", parts, body)
		}
		parts++
	}
	if parts != 2 {
		t.Errorf("%d parts, want 2", parts)
	}
}
