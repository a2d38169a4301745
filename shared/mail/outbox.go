package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Outbox writes each message as one RFC 5322 .eml file into Dir.
type Outbox struct {
	Dir  string
	From string
	Now  func() time.Time
}

// Send writes m to a new file; the file appears complete or not at all.
func (o *Outbox) Send(_ context.Context, m Message) error {
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	id := now().UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(rnd[:])
	raw := Render(o.From, m, now(), id)
	tmp := filepath.Join(o.Dir, "."+id+".tmp")
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(o.Dir, id+".eml"))
}

// Render formats m as a multipart/alternative RFC 5322 message.
func Render(from string, m Message, at time.Time, id string) []byte {
	boundary := "=_alt_" + id
	var b strings.Builder
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", from)
	h("To", m.To)
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", at.Format(time.RFC1123Z))
	h("Message-ID", "<"+id+"@partner-portal.local>")
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	b.WriteString("\r\n")
	part := func(ct, body string) {
		b.WriteString("--" + boundary + "\r\n")
		h("Content-Type", ct+"; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		w := quotedprintable.NewWriter(&crlfWriter{b: &b})
		w.Write([]byte(body))
		w.Close()
		b.WriteString("\r\n")
	}
	part("text/plain", m.Text)
	part("text/html", m.HTML)
	b.WriteString("--" + boundary + "--\r\n")
	return []byte(b.String())
}

// crlfWriter turns bare LF into CRLF, as RFC 5322 requires. An LF that
// already follows a CR (the quoted-printable writer's own line breaks) is
// left alone: doubling its CR corrupted soft line breaks ("=\r\r\n") and
// cut long links in two.
type crlfWriter struct {
	b    *strings.Builder
	last byte
}

func (w *crlfWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' && w.last != '\r' {
			w.b.WriteByte('\r')
		}
		w.b.WriteByte(c)
		w.last = c
	}
	return len(p), nil
}
