package api

import (
	"context"
	"net/http"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/httpapi"
	"partnerportal/shared/portal"
)

// withAdmin loads the route's {adminId} during authentication.
func withAdmin(r *httpapi.Request) dynamo.AuthOptions {
	return dynamo.AuthOptions{AdminID: r.Path("adminId")}
}

// withInvitation loads the route's {invitationId} during authentication.
func withInvitation(r *httpapi.Request) dynamo.AuthOptions {
	return dynamo.AuthOptions{InvitationID: r.Path("invitationId")}
}

// mayManage applies SPEC §3 to an action on an administrator or invitation
// holding role target: masters are managed by masters only.
func mayManage(caller portal.Admin, target portal.Role) error {
	if !caller.Role.Can(portal.PermissionToManage(target)) {
		return portal.Errorf(portal.CodeForbidden, "your role (%s) cannot manage a %s", caller.Role, target)
	}
	return nil
}

// mayAssign: nobody gives anyone a role above their own.
func mayAssign(caller portal.Admin, role portal.Role) error {
	if !caller.Role.CanAssign(role) {
		return portal.Errorf(portal.CodeForbidden, "your role (%s) cannot give the role %s", caller.Role, role)
	}
	return nil
}

func validRole(v *portal.Validation, field string, r *portal.Role) {
	v.Check(r != nil && r.Valid(), field, "must be one of observer, operator, admin, master")
}

func (s *Service) listAdmins(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	limit, cursor, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := s.Store.ListAdmins(ctx, a.Principal.Partner.ID, limit, cursor)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(page.Items, page.Next))
}

// patchAdmin changes an administrator's role (the caller's own included:
// stepping down is allowed, except for the last master).
func (s *Service) patchAdmin(ctx context.Context, r *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	var in struct {
		Role *portal.Role `json:"role"`
	}
	if err := r.DecodeJSON(&in); err != nil {
		return nil, err
	}
	var v portal.Validation
	validRole(&v, "role", in.Role)
	if err := v.Err(); err != nil {
		return nil, err
	}
	if a.Admin == nil {
		return nil, portal.NotFound("administrator")
	}
	caller := a.Principal.Admin
	if err := mayManage(caller, a.Admin.Role); err != nil {
		return nil, err
	}
	if err := mayAssign(caller, *in.Role); err != nil {
		return nil, err
	}
	updated, err := s.Store.ChangeRole(ctx, a.Principal.Actor(), *a.Admin, *in.Role)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, updated)
}

// deleteAdmin removes another administrator. Removing oneself is refused
// (409): a partner should not lose an administrator by a slip of the
// caller's own hand; a colleague can remove them.
func (s *Service) deleteAdmin(ctx context.Context, _ *httpapi.Request, a *dynamo.Auth) (*httpapi.Response, error) {
	if a.Admin == nil {
		return nil, portal.NotFound("administrator")
	}
	caller := a.Principal.Admin
	if a.Admin.ID == caller.ID {
		return nil, portal.Errorf(portal.CodeConflict, "you cannot remove yourself; ask another administrator")
	}
	if err := mayManage(caller, a.Admin.Role); err != nil {
		return nil, err
	}
	if err := s.Store.RemoveAdmin(ctx, a.Principal.Actor(), *a.Admin); err != nil {
		return nil, err
	}
	return httpapi.NoContent()
}
