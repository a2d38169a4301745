package mail

import (
	"context"
	"html/template"
	"strings"
)

// Message is one email.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// SenderFunc adapts a function to Sender; tests use it to fail on purpose.
type SenderFunc func(ctx context.Context, m Message) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

var page = template.Must(template.New("mail").Parse(`<!doctype html>
<html><body style="font-family:sans-serif;line-height:1.5">
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}{{if .Link}}<p><a href="{{.Link}}">{{.LinkText}}</a></p>
<p style="color:#666;font-size:small">If the button does not work, copy this address into your browser: {{.Link}}</p>{{end}}
</body></html>`))

// Compose builds a message whose HTML body mirrors the text paragraphs and
// the optional call-to-action link.
func Compose(to, subject string, paragraphs []string, link, linkText string) Message {
	var text strings.Builder
	for _, p := range paragraphs {
		text.WriteString(p)
		text.WriteString("\n\n")
	}
	if link != "" {
		text.WriteString(linkText + ": " + link + "\n")
	}
	var html strings.Builder
	_ = page.Execute(&html, map[string]any{"Paragraphs": paragraphs, "Link": link, "LinkText": linkText})
	return Message{To: to, Subject: subject, Text: text.String(), HTML: html.String()}
}
