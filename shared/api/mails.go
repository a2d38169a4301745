package api

import (
	"context"
	"fmt"
	"log/slog"

	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

func (s *Service) invitationLink(token string) string { return s.PublicURL + "/invitations/" + token }

func (s *Service) passwordResetLink(token string) string {
	return s.PublicURL + "/password-reset/" + token
}

func portalInvitationMail(to, partnerName string, role portal.Role, link string, inv portal.Invitation) mail.Message {
	return mail.Compose(to, fmt.Sprintf("You are invited to manage %s in Partner Portal", partnerName), []string{
		fmt.Sprintf("You have been invited to join %s in Partner Portal as %s %s.", partnerName, article(string(role)), role),
		fmt.Sprintf("The link works once and expires on %s (UTC).", inv.ExpiresAt.Format("2 January 2006 at 15:04")),
		"If you did not expect this invitation, you can ignore this email.",
	}, link, "Accept the invitation")
}

func article(word string) string {
	if word != "" && (word[0] == 'a' || word[0] == 'o' || word[0] == 'e' || word[0] == 'i' || word[0] == 'u') {
		return "an"
	}
	return "a"
}

// deliver sends an invitation's mail after the invitation is stored and
// records the outcome on it. A failure is recorded, logged and returned as
// the delivery status; it never undoes the invitation, which can be resent.
func (s *Service) deliver(ctx context.Context, pid, iid, tokenHash string, m mail.Message) portal.Delivery {
	err := s.Mail.Send(ctx, m)
	at := s.now()
	d := portal.Delivery{Status: portal.DeliverySent, At: &at}
	if err != nil {
		s.Log.ErrorContext(ctx, "mail failed", slog.String("partnerId", pid), slog.String("invitationId", iid), slog.String("error", err.Error()))
		d.Status, d.Error = portal.DeliveryFailed, "the email could not be sent; resend the invitation"
	}
	if rerr := s.Store.RecordDelivery(ctx, pid, iid, tokenHash, d); rerr != nil {
		s.Log.ErrorContext(ctx, "recording delivery failed", slog.String("invitationId", iid), slog.String("error", rerr.Error()))
	}
	return d
}
