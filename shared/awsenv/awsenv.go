// Package awsenv supplies AWS credentials from the standard environment
// variables, which is how AWS Lambda hands them to a function.
//
// The deployed functions use it instead of the SDK's config.LoadDefaultConfig:
// the full credential chain (SSO, STS, IMDS, processes, shared files) adds
// about 2 MB to every bootstrap and nothing a Lambda function needs, and the
// bootstraps must stay under 10 MB. Tools that run on people's machines
// (the platform CLI) keep the full chain.
package awsenv

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Credentials reads AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN on every retrieval, so a process whose environment is
// refreshed sees the new values.
type Credentials struct{}

// Retrieve returns the environment's credentials, or an error when they are
// not set.
func (Credentials) Retrieve(context.Context) (aws.Credentials, error) {
	c := aws.Credentials{
		AccessKeyID:     os.Getenv("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    os.Getenv("AWS_SESSION_TOKEN"),
		Source:          "awsenv",
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return aws.Credentials{}, errors.New("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
	}
	return c, nil
}
