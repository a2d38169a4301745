package api

import (
	"context"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/password"
	"partnerportal/shared/portal"
)

func (s *Service) accountRoutes() []route {
	return []route{
		{"GET /v1/me", GroupAccounts, s.authed(portal.PermView, nil, s.getMe)},
		{"PATCH /v1/me", GroupAccounts, s.authed(portal.PermView, nil, s.patchMe)},
		{"GET /v1/partner", GroupAccounts, s.authed(portal.PermView, nil, s.getOwnPartner)},
		{"PATCH /v1/partner", GroupAccounts, s.authed(portal.PermEditPartner, nil, s.patchOwnPartner)},
		{"GET /v1/admins", GroupAccounts, s.authed(portal.PermViewAdmins, nil, s.listAdmins)},
		{"PATCH /v1/admins/{adminId}", GroupAccounts, s.authed(portal.PermManageAdmins, withAdmin, s.patchAdmin)},
		{"DELETE /v1/admins/{adminId}", GroupAccounts, s.authed(portal.PermManageAdmins, withAdmin, s.deleteAdmin)},
		{"GET /v1/admins/invitations", GroupAccounts, s.authed(portal.PermViewInvitation, nil, s.listInvitations)},
		{"POST /v1/admins/invitations", GroupAccounts, s.authed(portal.PermManageAdmins, withIdempotency, s.createInvitation)},
		{"DELETE /v1/admins/invitations/{invitationId}", GroupAccounts, s.authed(portal.PermManageAdmins, withInvitation, s.revokeInvitation)},
		{"POST /v1/admins/invitations/{invitationId}/resend", GroupAccounts, s.authed(portal.PermManageAdmins, withInvitation, s.resendInvitation)},
	}
}

// meView is GET /v1/me.
type meView struct {
	Admin       portal.Admin        `json:"admin"`
	Partner     partnerView         `json:"partner"`
	Permissions []portal.Permission `json:"permissions"`
}

func viewMe(a portal.Admin, p portal.Partner) meView {
	perms := a.Role.Permissions()
	if perms == nil {
		perms = []portal.Permission{}
	}
	return meView{Admin: a, Partner: viewPartner(p), Permissions: perms}
}

func (s *Service) getMe(_ context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	return httpapi.JSON(http.StatusOK, viewMe(a.Principal.Admin, a.Principal.Partner))
}

// patchMe renames the caller and/or changes their password. A wrong current
// password counts as a failed sign-in, so a stolen session cannot be used to
// guess the password without running into the lockout.
func (s *Service) patchMe(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		Name            *string `json:"name"`
		CurrentPassword *string `json:"currentPassword"`
		NewPassword     *string `json:"newPassword"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	me := a.Principal.Admin
	var v portal.Validation
	if in.Name == nil && in.CurrentPassword == nil && in.NewPassword == nil {
		v.Add("name", "send name, or currentPassword and newPassword")
	}
	if in.Name != nil {
		v.Check(portal.ValidName(*in.Name, 100), "name", "must be 1 to 100 characters without leading or trailing spaces")
	}
	changePassword := in.CurrentPassword != nil || in.NewPassword != nil
	if changePassword {
		v.Check(in.CurrentPassword != nil && *in.CurrentPassword != "", "currentPassword", "is required to change the password")
		if in.NewPassword == nil {
			v.Add("newPassword", "is required to change the password")
		} else if msg := password.Check(*in.NewPassword, me.Email); msg != "" {
			v.Add("newPassword", "%s", msg)
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	name := ""
	if in.Name != nil && *in.Name != me.Name {
		name = *in.Name
	}
	var creds dynamo.Credentials
	newHash := ""
	if changePassword {
		var err error
		if creds, err = s.Store.GetAccountPassword(ctx, me); err != nil {
			return nil, err
		}
		if d := creds.LockedFor(s.now()); d > 0 {
			return nil, dynamo.LockedError(d)
		}
		ok, _ := password.Verify(*in.CurrentPassword, creds.PasswordHash)
		if !ok {
			if err := s.Store.RecordFailedLogin(ctx, creds); err != nil {
				return nil, err
			}
			v.Add("currentPassword", "is not your current password")
			return nil, v.Err()
		}
		if newHash, err = password.Hash(*in.NewPassword); err != nil {
			return nil, err
		}
	}
	admin, err := s.Store.ChangeAccount(ctx, a.Principal, name, creds, newHash)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, viewMe(admin, a.Principal.Partner))
}
