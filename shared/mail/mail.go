package mail

import (
	"context"
	"html"
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
	return Message{To: to, Subject: subject, Text: text.String(), HTML: htmlBody(paragraphs, link, linkText)}
}

// htmlBody renders the HTML alternative. It escapes by hand rather than
// with html/template: that package makes the linker keep every exported
// method of every type (it calls methods by reflection), which grew each
// bootstrap by 4 MB, past the 10 MB budget.
func htmlBody(paragraphs []string, link, linkText string) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><body style=\"font-family:sans-serif;line-height:1.5\">\n")
	for _, p := range paragraphs {
		b.WriteString("<p>" + html.EscapeString(p) + "</p>\n")
	}
	if link != "" {
		l := html.EscapeString(link)
		b.WriteString("<p><a href=\"" + l + "\">" + html.EscapeString(linkText) + "</a></p>\n")
		b.WriteString("<p style=\"color:#666;font-size:small\">If the button does not work, copy this address into your browser: " + l + "</p>")
	}
	b.WriteString("\n</body></html>")
	return b.String()
}
