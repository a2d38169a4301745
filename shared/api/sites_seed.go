package api

import (
	"context"
	"fmt"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/portal"
)

// demoPlaces are the seed's customer sites: a name, its country and zone.
var demoPlaces = []struct{ name, country, zone string }{
	{"Lyon Head Office", "FR", "Europe/Paris"}, {"Paris Warehouse", "FR", "Europe/Paris"}, {"Marseille Port Gate", "FR", "Europe/Paris"},
	{"Berlin Campus", "DE", "Europe/Berlin"}, {"Munich Lab", "DE", "Europe/Berlin"}, {"Hamburg Depot", "DE", "Europe/Berlin"},
	{"London Docklands", "GB", "Europe/London"}, {"Manchester Clinic", "GB", "Europe/London"}, {"Madrid Tower", "ES", "Europe/Madrid"},
	{"Barcelona Hotel", "ES", "Europe/Madrid"}, {"Milan Showroom", "IT", "Europe/Rome"}, {"Rotterdam Terminal", "NL", "Europe/Amsterdam"},
	{"New York Office", "US", "America/New_York"}, {"Chicago Plant", "US", "America/Chicago"}, {"Denver Data Center", "US", "America/Denver"},
	{"Seattle Studio", "US", "America/Los_Angeles"}, {"Toronto School", "CA", "America/Toronto"}, {"Mexico City Retail", "MX", "America/Mexico_City"},
	{"São Paulo Factory", "BR", "America/Sao_Paulo"}, {"Tokyo Branch", "JP", "Asia/Tokyo"}, {"Seoul R&D Center", "KR", "Asia/Seoul"},
	{"Singapore Hub", "SG", "Asia/Singapore"}, {"Sydney Hospital", "AU", "Australia/Sydney"}, {"Dubai Mall Kiosk", "AE", "Asia/Dubai"},
	{"Mumbai Call Center", "IN", "Asia/Kolkata"}, {"Johannesburg Mine Office", "ZA", "Africa/Johannesburg"}, {"Nairobi Co-working", "KE", "Africa/Nairobi"},
	{"Auckland Marina", "NZ", "Pacific/Auckland"}, {"Oslo Fjord Office", "NO", "Europe/Oslo"}, {"Warsaw Bank Branch", "PL", "Europe/Warsaw"},
}

var demoNotes = []string{
	"Customer asked for a quote on 20 more door readers next quarter.",
	"Front desk contact: facilities team, weekdays 8:00-17:00.",
	"Firmware upgrade scheduled with the customer for the first Monday of the month.",
}

// SeedDemoSites gives partner pid n customer sites (n ≤ 30 distinct places;
// more are numbered) through the same store paths as the API: each site is
// created with credits from the pool while the pool lasts, gets usage as the
// platform would report it, and some get notes. Run it after the partner is
// active and has bought credits. It is for the local runner's --seed.
func (s *Service) SeedDemoSites(ctx context.Context, pid string, n int) error {
	// The notes need an author with an id and an email like any note's,
	// though no administrator wrote them: one made-up author for the seed.
	author := dynamo.NoteAuthor{ID: portal.NewID(s.now()), Email: "demo-seed@partner-portal.example", Name: "Demo seed"}
	for i := range n {
		place := demoPlaces[i%len(demoPlaces)]
		name := place.name
		if i >= len(demoPlaces) {
			name = fmt.Sprintf("%s %d", place.name, i/len(demoPlaces)+1)
		}
		p, err := s.Store.GetPartner(ctx, pid)
		if err != nil {
			return err
		}
		now := s.now()
		users, devices := int64(5+i*7%40), int64(10+i*13%120)
		site := portal.Site{ID: portal.NewID(now), Name: name, Country: place.country, TimeZone: place.zone,
			Status: portal.SiteActive, CreatedAt: now, UpdatedAt: now, Version: 1}
		// Between a few weeks and a year of credit, while the pool lasts.
		want := s.Store.Rates().MonthlyCost(users, devices) * int64(1+i*5%12)
		if want > 0 && want <= p.Credits.Available && want <= portal.MaxMove {
			site.Credits = want
		}
		if err := s.Store.CreateSite(ctx, pid, p.Credits.Available, site, portal.SystemActor, nil); err != nil {
			return fmt.Errorf("seeding site %q: %w", name, err)
		}
		if _, err := s.Store.SetUsage(ctx, pid, site.ID, users, devices); err != nil {
			return err
		}
		for j := range i % 3 {
			note := dynamo.Note{ID: portal.NewID(now), SiteID: site.ID, Text: demoNotes[(i+j)%len(demoNotes)], Author: author, CreatedAt: now, UpdatedAt: now}
			if err := s.Store.CreateNote(ctx, pid, note, portal.SystemActor, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
