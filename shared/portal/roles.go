package portal

import "slices"

// Role is a portal administrator's role. Roles are ordered: observer <
// operator < admin < master.
type Role string

// The four roles.
const (
	RoleObserver Role = "observer"
	RoleOperator Role = "operator"
	RoleAdmin    Role = "admin"
	RoleMaster   Role = "master"
)

// Roles lists every role, lowest first.
var Roles = []Role{RoleObserver, RoleOperator, RoleAdmin, RoleMaster}

// Rank orders roles; an unknown role ranks 0, below observer.
func (r Role) Rank() int { return slices.Index(Roles, r) + 1 }

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool { return r.Rank() > 0 }

// AtLeast reports whether r ranks at or above min.
func (r Role) AtLeast(min Role) bool { return r.Valid() && r.Rank() >= min.Rank() }

// Permission names one thing an administrator may do. The role table of SPEC
// §3 lives in minRole below and nowhere else: handlers ask Can, never compare
// role names.
type Permission string

// The permissions of SPEC §3.
const (
	PermView           Permission = "view"             // partner, sites, notes, site administrators, credit history
	PermEditSites      Permission = "sites:write"      // create and edit sites, notes, site administrators
	PermMoveCredits    Permission = "credits:write"    // allocate and reclaim site credits
	PermDeleteSites    Permission = "sites:delete"     // delete a site
	PermViewAdmins     Permission = "admins:read"      // list admins and invitations, view the audit log
	PermManageAdmins   Permission = "admins:write"     // invite, re-role or remove observers, operators, admins
	PermManageMasters  Permission = "masters:write"    // invite masters, change or remove a master
	PermEditPartner    Permission = "partner:write"    // PATCH /v1/partner
	PermViewAuditLog   Permission = "audit:read"       // GET /v1/audit
	PermViewInvitation Permission = "invitations:read" // GET /v1/admins/invitations
)

var minRole = map[Permission]Role{
	PermView:           RoleObserver,
	PermEditSites:      RoleOperator,
	PermMoveCredits:    RoleOperator,
	PermDeleteSites:    RoleAdmin,
	PermViewAdmins:     RoleAdmin,
	PermViewInvitation: RoleAdmin,
	PermViewAuditLog:   RoleAdmin,
	PermManageAdmins:   RoleAdmin,
	PermEditPartner:    RoleAdmin,
	PermManageMasters:  RoleMaster,
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool {
	min, ok := minRole[p]
	return ok && r.AtLeast(min)
}

// Permissions lists what r may do, in a stable order, for GET /v1/me.
func (r Role) Permissions() []Permission {
	var out []Permission
	for _, p := range []Permission{PermView, PermEditSites, PermMoveCredits, PermDeleteSites, PermViewAdmins, PermViewInvitation, PermViewAuditLog, PermManageAdmins, PermEditPartner, PermManageMasters} {
		if r.Can(p) {
			out = append(out, p)
		}
	}
	return out
}

// PermissionToManage returns the permission needed to invite, re-role or
// remove an administrator holding target: masters need PermManageMasters.
func PermissionToManage(target Role) Permission {
	if target == RoleMaster {
		return PermManageMasters
	}
	return PermManageAdmins
}

// CanAssign reports whether an administrator with role actor may give role
// target to anyone: nobody raises anyone above their own role, and managing
// masters takes a master.
func (actor Role) CanAssign(target Role) bool {
	return target.Valid() && actor.Can(PermissionToManage(target)) && actor.Rank() >= target.Rank()
}
