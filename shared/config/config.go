// Package config reads the functions' configuration from the environment,
// with defaults that suit the local runner.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"partnerportal/shared/portal"
)

// Config is everything a function needs to know about its deployment.
type Config struct {
	// TableName is the single DynamoDB table (TABLE_NAME).
	TableName string
	// DynamoDBEndpoint overrides the AWS endpoint, e.g. for the embedded
	// engine (DYNAMODB_ENDPOINT).
	DynamoDBEndpoint string
	// Region is the AWS region (AWS_REGION).
	Region string
	// PublicURL is the web front end's base URL for email links (PUBLIC_URL).
	PublicURL string
	// SenderEmail is the SES identity mail is sent from (SENDER_EMAIL).
	SenderEmail string
	// OutboxDir, when set, writes mail to .eml files instead of SES (OUTBOX_DIR).
	OutboxDir string
	// Rates price usage in credits per month (CREDITS_PER_DEVICE_MONTH,
	// CREDITS_PER_USER_MONTH).
	Rates portal.Rates
	// BillingConcurrency bounds the billing job's parallel partners (BILLING_CONCURRENCY).
	BillingConcurrency int
}

// FromEnv reads the configuration; it fails on values that do not parse.
func FromEnv() (Config, error) {
	c := Config{
		TableName:          env("TABLE_NAME", "partner-portal"),
		DynamoDBEndpoint:   os.Getenv("DYNAMODB_ENDPOINT"),
		Region:             env("AWS_REGION", "us-east-1"),
		PublicURL:          strings.TrimRight(env("PUBLIC_URL", "http://127.0.0.1:3000"), "/"),
		SenderEmail:        env("SENDER_EMAIL", "no-reply@partner-portal.local"),
		OutboxDir:          os.Getenv("OUTBOX_DIR"),
		Rates:              portal.Rates{PerDeviceMonth: 1, PerUserMonth: 0},
		BillingConcurrency: 8,
	}
	var err error
	if c.Rates.PerDeviceMonth, err = nonNegative("CREDITS_PER_DEVICE_MONTH", c.Rates.PerDeviceMonth); err != nil {
		return c, err
	}
	if c.Rates.PerUserMonth, err = nonNegative("CREDITS_PER_USER_MONTH", c.Rates.PerUserMonth); err != nil {
		return c, err
	}
	n, err := nonNegative("BILLING_CONCURRENCY", int64(c.BillingConcurrency))
	if err != nil {
		return c, err
	}
	c.BillingConcurrency = max(1, int(n))
	return c, nil
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func nonNegative(name string, def int64) (int64, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("config: %s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}
