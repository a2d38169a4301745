package portal

import "time"

// PartnerStatus is a partner account's lifecycle state.
type PartnerStatus string

// Partner states: pending until a master accepts, then active; the platform
// may suspend and restore an activated partner.
const (
	PartnerPending   PartnerStatus = "pending"
	PartnerActive    PartnerStatus = "active"
	PartnerSuspended PartnerStatus = "suspended"
)

// Partner is a reseller: a tenant with a credit pool, sites and administrators.
type Partner struct {
	ID                       string         `json:"id"`
	Name                     string         `json:"name"`
	Country                  string         `json:"country"`
	Status                   PartnerStatus  `json:"status"`
	LowCreditThresholdMonths int            `json:"lowCreditThresholdMonths"`
	Credits                  PartnerCredits `json:"credits"`
	SiteCount                int            `json:"siteCount"`
	CreatedAt                time.Time      `json:"createdAt"`
	UpdatedAt                time.Time      `json:"updatedAt"`
	// Version increases with every change of the partner record.
	Version int64 `json:"-"`
	// Usage totals over all sites; monthly cost is derived with Rates.
	TotalUsers   int64 `json:"-"`
	TotalDevices int64 `json:"-"`
	// SessionEpoch is stamped into sessions; suspension raises it.
	SessionEpoch int64 `json:"-"`
}

// Epoch returns the partner's session epoch.
func (p Partner) Epoch() int64 { return p.SessionEpoch }

// PartnerCredits is the partner's balance summary.
type PartnerCredits struct {
	Available   int64 `json:"available"`
	Allocated   int64 `json:"allocated"`
	MonthlyCost int64 `json:"monthlyCost"`
	Purchased   int64 `json:"-"`
	Charged     int64 `json:"-"`
}

// DefaultLowCreditThresholdMonths is a new partner's alert threshold.
const DefaultLowCreditThresholdMonths = 1

// Admin is a portal administrator of one partner.
type Admin struct {
	ID          string     `json:"id"`
	PartnerID   string     `json:"-"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        Role       `json:"role"`
	CreatedAt   time.Time  `json:"createdAt"`
	LastLoginAt *time.Time `json:"lastLoginAt"`
	// SessionEpoch is stamped into every session; raising it ends them all.
	SessionEpoch int64 `json:"-"`
}

// Principal is the authenticated caller of a partner route.
type Principal struct {
	Admin   Admin
	Partner Partner
	// SessionID is the hash identifying the caller's session.
	SessionID string
}

// Actor returns the ledger and audit actor for the principal.
func (p Principal) Actor() Actor {
	return Actor{Type: ActorAdmin, ID: p.Admin.ID, Email: p.Admin.Email}
}

// ActorType says who performed a change.
type ActorType string

// Actor types.
const (
	ActorAdmin    ActorType = "admin"
	ActorPlatform ActorType = "platform"
	ActorSystem   ActorType = "system"
)

// Actor is who performed a change, as recorded in the ledger and audit log.
type Actor struct {
	Type  ActorType `json:"type"`
	ID    string    `json:"id,omitempty"`
	Email string    `json:"email,omitempty"`
}

// PlatformActor is the vendor calling IAM-authorized routes.
var PlatformActor = Actor{Type: ActorPlatform}

// SystemActor is the billing job.
var SystemActor = Actor{Type: ActorSystem}

// Delivery records what happened when an email was handed to the mailer.
type Delivery struct {
	Status string     `json:"status"` // pending, sent, failed
	At     *time.Time `json:"at"`
	Error  string     `json:"error,omitempty"`
}

// Delivery states.
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
)

// InvitationStatus is a portal invitation's state.
type InvitationStatus string

// Invitation states.
const (
	InvitationPending  InvitationStatus = "pending"
	InvitationAccepted InvitationStatus = "accepted"
	InvitationRevoked  InvitationStatus = "revoked"
	InvitationExpired  InvitationStatus = "expired"
)

// InvitationTTL is how long an invitation link works (SPEC §2 rule 3).
const InvitationTTL = 7 * 24 * time.Hour

// Invitation invites an email to become a portal administrator of a partner.
type Invitation struct {
	ID        string           `json:"id"`
	PartnerID string           `json:"-"`
	Email     string           `json:"email"`
	Role      Role             `json:"role"`
	Status    InvitationStatus `json:"status"`
	ExpiresAt time.Time        `json:"expiresAt"`
	CreatedAt time.Time        `json:"createdAt"`
	InvitedBy Actor            `json:"invitedBy"`
	Delivery  Delivery         `json:"delivery"`
	// TokenHash identifies the one live link; resending replaces it.
	TokenHash string `json:"-"`
}

// EffectiveStatus reports expired for a pending invitation past its expiry.
func (i Invitation) EffectiveStatus(now time.Time) InvitationStatus {
	if i.Status == InvitationPending && !now.Before(i.ExpiresAt) {
		return InvitationExpired
	}
	return i.Status
}

// InvitationKind distinguishes the two kinds of invitation link.
type InvitationKind string

// Invitation kinds.
const (
	KindPortalAdmin InvitationKind = "portal_admin"
	KindSiteAdmin   InvitationKind = "site_admin"
)

// SiteStatus is a site's billing state.
type SiteStatus string

// Site states.
const (
	SiteActive    SiteStatus = "active"
	SiteSuspended SiteStatus = "suspended"
)

// Site is a customer site of a partner.
type Site struct {
	ID              string     `json:"id"`
	PartnerID       string     `json:"-"`
	Name            string     `json:"name"`
	Country         string     `json:"country"`
	TimeZone        string     `json:"timeZone"`
	Credits         int64      `json:"credits"`
	MonthlyCost     int64      `json:"monthlyCost"`
	MonthsRemaining *int64     `json:"monthsRemaining"`
	Users           int64      `json:"users"`
	Devices         int64      `json:"devices"`
	Status          SiteStatus `json:"status"`
	SuspendedReason string     `json:"suspendedReason,omitempty"`
	CreatedAt       time.Time  `json:"createdAt"`
	UpdatedAt       time.Time  `json:"updatedAt"`
	Version         int64      `json:"version"`
	// Children counts the site's notes and site administrators; deleting
	// the site cleans them up only when there are any.
	Children int64 `json:"-"`
}

// Rates are the configured credit prices of usage (SPEC §4).
type Rates struct {
	PerDeviceMonth int64
	PerUserMonth   int64
}

// MonthlyCost is devices × rate + users × rate.
func (r Rates) MonthlyCost(users, devices int64) int64 {
	return devices*r.PerDeviceMonth + users*r.PerUserMonth
}

// Price fills a site's monthly cost and months remaining from its usage.
func (r Rates) Price(s *Site) {
	s.MonthlyCost = r.MonthlyCost(s.Users, s.Devices)
	s.MonthsRemaining = nil
	if s.MonthlyCost > 0 {
		m := s.Credits / s.MonthlyCost
		s.MonthsRemaining = &m
	}
}

// PricePartner fills the partner's monthly cost from its usage totals.
func (r Rates) PricePartner(p *Partner) {
	p.Credits.MonthlyCost = r.MonthlyCost(p.TotalUsers, p.TotalDevices)
}
