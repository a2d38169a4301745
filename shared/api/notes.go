package api

import (
	"context"
	"net/http"
	"strings"
	"unicode/utf8"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// withNote loads the route's site and note during authentication.
func withNote(r *httpapi.Request) dynamo.AuthOptions {
	o := withSite(r)
	o.Child = dynamo.NoteChild(r.Path("noteId"))
	return o
}

const maxNoteText = 2000

// validNoteText accepts 1..2000 characters that are not all white space;
// line breaks and tabs are kept, other control characters refused.
func validNoteText(s string) bool {
	n := utf8.RuneCountInString(s)
	if n < 1 || n > maxNoteText || !utf8.ValidString(s) || strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

func decodeNoteText(r *httpapi.Request) (string, error) {
	var in struct {
		Text *string `json:"text"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return "", err
	}
	var v portal.Validation
	v.Check(in.Text != nil && validNoteText(*in.Text), "text", "must be 1 to %d characters, not only white space", maxNoteText)
	if err := v.Err(); err != nil {
		return "", err
	}
	return *in.Text, nil
}

func (s *Service) listNotes(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	return listUnderSite(ctx, r, a, s.Store.ListNotes)
}

// listUnderSite answers a page of one of the route's site's collections.
func listUnderSite[T any](ctx context.Context, r *httpapi.Request, a *dynamo.Auth,
	list func(ctx context.Context, pid, sid string, limit int, cursor string) (dynamo.Page[T], error)) (*httpapi.Response, error) {
	site, err := siteOf(a)
	if err != nil {
		return nil, err
	}
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := list(ctx, a.Principal.Partner.ID, site.ID, limit, cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
}

func (s *Service) createNote(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	site, err := siteOf(a)
	if err != nil {
		return nil, err
	}
	text, err := decodeNoteText(r)
	if err != nil {
		return nil, err
	}
	p, admin := a.Principal.Partner, a.Principal.Admin
	return s.idempotent(ctx, r, p.ID, a.Idempotency, func(idem *dynamo.Idempotency) (*httpapi.Response, error) {
		now := s.now()
		n := dynamo.Note{ID: portal.NewID(now), SiteID: site.ID, Text: text,
			Author:    dynamo.NoteAuthor{ID: admin.ID, Email: admin.Email, Name: admin.Name},
			CreatedAt: now, UpdatedAt: now}
		resp, err := httpapi.JSON(http.StatusCreated, n)
		if err != nil {
			return nil, err
		}
		resp.With("location", "/v1/sites/"+site.ID+"/notes/"+n.ID)
		setResponse(idem, resp)
		if err := s.Store.CreateNote(ctx, p.ID, n, a.Principal.Actor(), idem); err != nil {
			return nil, err
		}
		return resp, nil
	})
}

func (s *Service) patchNote(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if _, err := siteOf(a); err != nil {
		return nil, err
	}
	n, err := a.Note()
	if err != nil {
		return nil, err
	}
	text, err := decodeNoteText(r)
	if err != nil {
		return nil, err
	}
	n, err = s.Store.UpdateNote(ctx, a.Principal.Partner.ID, n, text, a.Principal.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, n)
}

func (s *Service) deleteNote(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if _, err := siteOf(a); err != nil {
		return nil, err
	}
	n, err := a.Note()
	if err != nil {
		return nil, err
	}
	if err := s.Store.DeleteNote(ctx, a.Principal.Partner.ID, n, a.Principal.Actor()); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
