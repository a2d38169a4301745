// Package functions builds the handler of each Lambda function from its
// configuration. The deployed binaries (functions/<name>/main.go), the local
// runner and the end-to-end tests all go through Handler, so they serve
// requests with the same code and the same wiring.
package functions

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"partnerportal/shared/api"
	"partnerportal/shared/awsenv"
	"partnerportal/shared/billing"
	cfgpkg "partnerportal/shared/config"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/mail"
)

// Billing is the scheduled function's name.
const Billing = "billing"

// Names lists every function, by folder name under functions/.
func Names() []string {
	out := []string{Billing}
	for _, g := range api.Groups {
		out = append(out, string(g))
	}
	slices.Sort(out)
	return out
}

// Deps are the clients a function runs with.
type Deps struct {
	Config cfgpkg.Config
	Store  *dynamo.Store
	Mail   mail.Sender
	Log    *slog.Logger
}

// NewDeps builds the clients from configuration: DynamoDB at the configured
// endpoint (or AWS), and mail into the outbox when OUTBOX_DIR is set (or SES).
func NewDeps(ctx context.Context, c cfgpkg.Config, log *slog.Logger) (Deps, error) {
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: c.DynamoDBEndpoint, Region: c.Region})
	if err != nil {
		return Deps{}, err
	}
	d := Deps{Config: c, Store: dynamo.New(db, c.TableName, c.Rates), Log: log}
	if c.OutboxDir != "" {
		d.Mail = &mail.Outbox{Dir: c.OutboxDir, From: c.SenderEmail}
	} else {
		ses := sesv2.New(sesv2.Options{Region: c.Region, Credentials: aws.NewCredentialsCache(awsenv.Credentials{})})
		d.Mail = &mail.SES{Client: ses, From: c.SenderEmail}
	}
	return d, nil
}

// Handler returns the named function's Lambda handler.
func Handler(name string, d Deps) (lambda.Handler, error) {
	if name == Billing {
		job := &billing.Job{Store: d.Store, Mail: d.Mail, PublicURL: d.Config.PublicURL, Log: d.Log, Concurrency: d.Config.BillingConcurrency}
		return lambda.NewHandler(job.Run), nil
	}
	if !slices.Contains(api.Groups, api.Group(name)) {
		return nil, fmt.Errorf("functions: no function named %q", name)
	}
	svc := &api.Service{Store: d.Store, Mail: d.Mail, PublicURL: d.Config.PublicURL, Log: d.Log}
	return lambda.NewHandler(svc.Router(api.Group(name)).Serve), nil
}

// Start runs the named function in the Lambda runtime; it is all a
// function's main does.
func Start(name string) {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	c, err := cfgpkg.FromEnv()
	if err != nil {
		log.Error("configuration", slog.String("error", err.Error()))
		os.Exit(1)
	}
	ctx := context.Background()
	d, err := NewDeps(ctx, c, log)
	if err != nil {
		log.Error("clients", slog.String("error", err.Error()))
		os.Exit(1)
	}
	h, err := Handler(name, d)
	if err != nil {
		log.Error("handler", slog.String("error", err.Error()))
		os.Exit(1)
	}
	lambda.Start(h)
}
