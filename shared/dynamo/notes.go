package dynamo

import (
	"context"
	"time"

	"partnerportal/shared/portal"
)

// NoteAuthor is the administrator who wrote a note, as they were then.
type NoteAuthor struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
}

// Note is a free-text note on a site. Notes live at P#<pid> /
// SITE#<sid>#NOTE#<nid>; ids sort by creation time, so the newest-first
// listing is one Query in reverse.
type Note struct {
	ID        string     `json:"id"`
	SiteID    string     `json:"-"`
	Text      string     `json:"text"`
	Author    NoteAuthor `json:"author"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

var errNoteNotFound = portal.NotFound("note")

// Note returns the note that AuthOptions.Child asked for, or not_found.
func (a *Auth) Note() (Note, error) {
	var n Note
	if a.child == nil {
		return n, errNoteNotFound
	}
	if err := unmarshal(a.child, &n); err != nil || n.ID == "" {
		return n, errNoteNotFound
	}
	return n, nil
}

// CreateNote stores a note on site sid of partner pid, counting it on the
// site (which must still exist) and auditing it, in one transaction; idem
// too when not nil.
func (s *Store) CreateNote(ctx context.Context, pid string, n Note, actor portal.Actor, idem *Idempotency) error {
	it, err := marshal(noteKey(pid, n.SiteID, n.ID), n, nil)
	if err != nil {
		return err
	}
	return s.retryMoved(ctx, func(ctx context.Context) error {
		var writes []write
		if idem != nil {
			writes = append(writes, s.idempotencyWrite(*idem))
		}
		writes = append(writes,
			s.put(it, expr{text: "attribute_not_exists(PK)"}, portal.Errorf(portal.CodeConflict, "note id collision; retry")),
			s.countChild(pid, n.SiteID, 1),
			s.audit(pid, actor, "note.created", "site/"+n.SiteID+"/note/"+n.ID, map[string]any{"length": len([]rune(n.Text))}, n.CreatedAt))
		return s.transact(ctx, writes...)
	})
}

// UpdateNote replaces the text of note n (as read) on condition that it
// still exists and that its site does.
func (s *Store) UpdateNote(ctx context.Context, pid string, n Note, text string, actor portal.Actor) (Note, error) {
	if text == n.Text {
		return n, nil
	}
	now := s.Now()
	err := s.retryMoved(ctx, func(ctx context.Context) error {
		return s.transact(ctx,
			s.update(noteKey(pid, n.SiteID, n.ID), expr{text: "SET #Text = :text, #UpdatedAt = :now", values: map[string]any{":text": text, ":now": now}},
				expr{text: "attribute_exists(PK)"}, errNoteNotFound),
			s.siteExists(pid, n.SiteID),
			s.audit(pid, actor, "note.updated", "site/"+n.SiteID+"/note/"+n.ID, map[string]any{"length": len([]rune(text))}, now))
	})
	if err != nil {
		return n, err
	}
	n.Text, n.UpdatedAt = text, now
	return n, nil
}

// DeleteNote removes a note and uncounts it from its site.
func (s *Store) DeleteNote(ctx context.Context, pid string, n Note, actor portal.Actor) error {
	now := s.Now()
	return s.retryMoved(ctx, func(ctx context.Context) error {
		return s.transact(ctx,
			s.delete(noteKey(pid, n.SiteID, n.ID), expr{text: "attribute_exists(PK)"}, errNoteNotFound),
			s.countChild(pid, n.SiteID, -1),
			// Details are never empty: the embedded engine's transaction
			// rollback corrupts items holding an empty map (docs/sites.md).
			s.audit(pid, actor, "note.deleted", "site/"+n.SiteID+"/note/"+n.ID, map[string]any{"author": n.Author.Email}, now))
	})
}

// ListNotes returns a page of a site's notes, newest first: one Query of
// at most limit+1 items.
func (s *Store) ListNotes(ctx context.Context, pid, sid string, limit int, cursor string) (Page[Note], error) {
	items, next, err := s.runQuery(ctx, query{pk: partnerPK(pid), prefix: sitePrefix(sid) + "#NOTE#", reverse: true}, limit, cursor)
	if err != nil {
		return Page[Note]{}, err
	}
	page := Page[Note]{Items: make([]Note, 0, len(items)), Next: next}
	for _, it := range items {
		var n Note
		if err := unmarshal(it, &n); err != nil {
			return page, err
		}
		page.Items = append(page.Items, n)
	}
	return page, nil
}
