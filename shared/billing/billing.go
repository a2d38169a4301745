// Package billing is the scheduled job that charges each site's monthly cost
// once per UTC month, suspends sites that cannot pay, and sends credit alerts.
package billing

import (
	"context"
	"encoding/json"
	"log/slog"

	"partnerportal/shared/dynamo"
	"partnerportal/shared/mail"
	"partnerportal/shared/portal"
)

// Job charges sites; Run is the Lambda handler.
type Job struct {
	Store       *dynamo.Store
	Mail        mail.Sender
	PublicURL   string
	Log         *slog.Logger
	Concurrency int
}

// Run handles one scheduled event.
func (j *Job) Run(ctx context.Context, event json.RawMessage) (any, error) {
	return nil, portal.Errorf(portal.CodeNotImplemented, "billing is not implemented yet")
}
