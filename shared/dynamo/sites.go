package dynamo

import (
	"time"

	"partnerportal/shared/portal"
)

// siteItem is the stored site, with its credit balance.
type siteItem struct {
	ID              string
	Name            string
	Country         string
	TimeZone        string
	Credits         int64
	Users           int64
	Devices         int64
	Status          portal.SiteStatus
	SuspendedReason string `dynamodbav:",omitempty"`
	CreatedAt       time.Time
	UpdatedAt       time.Time
	Version         int64
}

func decodeSite(it item, r portal.Rates) (portal.Site, error) {
	var si siteItem
	if err := unmarshal(it, &si); err != nil {
		return portal.Site{}, err
	}
	site := portal.Site{
		ID: si.ID, Name: si.Name, Country: si.Country, TimeZone: si.TimeZone,
		Credits: si.Credits, Users: si.Users, Devices: si.Devices, Status: si.Status,
		SuspendedReason: si.SuspendedReason, CreatedAt: si.CreatedAt, UpdatedAt: si.UpdatedAt, Version: si.Version,
	}
	r.Price(&site)
	return site, nil
}
