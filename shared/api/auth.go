package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/mail"
	"partnerportal/shared/password"
	"partnerportal/shared/portal"
)

func (s *Service) authRoutes() []route {
	return []route{
		{"POST /v1/auth/login", GroupPublic, s.login},
		{"POST /v1/auth/logout", GroupPublic, s.logout},
		{"POST /v1/auth/password-reset", GroupPublic, s.requestPasswordReset},
		{"POST /v1/auth/password-reset/confirm", GroupPublic, s.confirmPasswordReset},
		{"POST /v1/invitations/{token}/accept", GroupPublic, s.acceptInvitation},
	}
}

// sessionView is the body of a sign-in or a portal invitation acceptance.
type sessionView struct {
	Token     string       `json:"token"`
	ExpiresAt string       `json:"expiresAt"`
	Admin     portal.Admin `json:"admin"`
}

func viewSession(a portal.Admin, sess dynamo.Session) sessionView {
	return sessionView{Token: sess.Token, ExpiresAt: sess.ExpiresAt.UTC().Format(rfc3339), Admin: a}
}

// badLogin is the one answer for an unknown email and a wrong password.
var badLogin = portal.Errorf(portal.CodeUnauthenticated, "the email or password is incorrect")

// login signs an administrator in. An unknown email costs the same as a
// wrong password: one read, one argon2id verification (against a dummy
// hash), one write to count the failure, and the same 401.
func (s *Service) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	email := portal.NormalizeEmail(in.Email)
	var v portal.Validation
	v.Check(email != "", "email", "is required")
	v.Check(in.Password != "", "password", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	c, err := s.Store.GetCredentials(ctx, email)
	if err != nil {
		return nil, err
	}
	if d := c.LockedFor(s.now()); d > 0 {
		return nil, dynamo.LockedError(d)
	}
	ok := false
	if c.Found {
		var verr error
		if ok, verr = password.Verify(in.Password, c.PasswordHash); verr != nil {
			s.Log.ErrorContext(ctx, "stored password hash unreadable", slog.String("adminId", c.AdminID), slog.String("error", verr.Error()))
		}
	} else {
		password.VerifyDummy(in.Password)
	}
	if !ok {
		if err := s.Store.RecordFailedLogin(ctx, c); err != nil {
			return nil, err
		}
		return nil, badLogin
	}
	in.Password = ""
	signin, err := s.Store.Login(ctx, c)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewSession(signin.Admin, signin.Session))
}

// logout ends the caller's session. It answers 204 for a token that is
// already dead too: the outcome the client wants holds either way.
func (s *Service) logout(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.BearerToken()
	if token == "" {
		return nil, portal.Errorf(portal.CodeUnauthenticated, "send Authorization: Bearer <token>")
	}
	if err := s.Store.EndSession(ctx, token); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}

// requestPasswordReset answers 202 whether or not the email has an account;
// only an account gets a mail.
func (s *Service) requestPasswordReset(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	email, err := decodeEmail(r)
	if err != nil {
		return nil, err
	}
	token, hash := portal.NewToken()
	found, expires, err := s.Store.StartPasswordReset(ctx, email, hash)
	if err != nil {
		return nil, err
	}
	if found {
		m := mail.Compose(email, "Reset your Partner Portal password", []string{
			"Someone asked to reset the password of your Partner Portal account.",
			fmt.Sprintf("The link works once and expires on %s (UTC). Using it signs you out everywhere.", expires.UTC().Format("2 January 2006 at 15:04")),
			"If you did not ask for this, ignore this email: your password stays as it is.",
		}, s.passwordResetLink(token), "Choose a new password")
		if err := s.Mail.Send(ctx, m); err != nil {
			// The answer stays 202 so it tells nothing about the account; the
			// user can ask again.
			s.Log.ErrorContext(ctx, "password reset mail failed", slog.String("error", err.Error()))
		}
	}
	return &httpapi.Response{Status: http.StatusAccepted, Headers: map[string]string{}}, nil
}

// confirmPasswordReset sets a new password through a reset link and ends
// every session of the account.
func (s *Service) confirmPasswordReset(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(in.Token != "", "token", "is required")
	v.Check(in.Password != "", "password", "is required")
	if err := v.Err(); err != nil {
		return nil, err
	}
	reset, err := s.Store.LookupPasswordReset(ctx, in.Token)
	if err != nil {
		return nil, err
	}
	if msg := password.Check(in.Password, reset.Email); msg != "" {
		v.Add("password", "%s", msg)
		return nil, v.Err()
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	if err := s.Store.ResetPassword(ctx, reset, hash); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}

// acceptInvitation accepts an invitation link. Portal invitations create
// the account and sign it in; site invitations are the sites slice's.
func (s *Service) acceptInvitation(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.Path("token")
	view, err := s.Store.LookupInvitation(ctx, token)
	if err != nil {
		return nil, err
	}
	if view.Kind == portal.KindSiteAdmin {
		return s.acceptSiteInvitation(ctx, r, view)
	}
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	v.Check(portal.ValidName(in.Name, 100), "name", "must be 1 to 100 characters without leading or trailing spaces")
	if msg := password.Check(in.Password, view.Email); msg != "" {
		v.Add("password", "%s", msg)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	// Checked again here, not only at invitation time: the email may have
	// become a site administrator while the invitation was pending.
	if err := s.refuseEndCustomer(ctx, view.PartnerID, view.Email); err != nil {
		return nil, err
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return nil, err
	}
	acc, err := s.Store.AcceptPortalInvitationView(ctx, view, token, in.Name, hash)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, viewSession(acc.Admin, acc.Session))
}

// refuseEndCustomer enforces SPEC §2 rule 6: end customers never join the
// portal of a partner whose site they administer.
func (s *Service) refuseEndCustomer(ctx context.Context, pid, email string) error {
	siteAdmin, err := s.Store.IsSiteAdministrator(ctx, pid, email)
	if err != nil {
		return err
	}
	if siteAdmin {
		return portal.Errorf(portal.CodeEndCustomerEmail, "%s administers one of your sites: end customers cannot be portal administrators", email)
	}
	return nil
}
