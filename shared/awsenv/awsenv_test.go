package awsenv

import (
	"context"
	"testing"
)

func TestCredentials(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := (Credentials{}).Retrieve(context.Background()); err == nil {
		t.Fatal("no error without credentials")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "token")
	c, err := (Credentials{}).Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if c.AccessKeyID != "AKID" || c.SecretAccessKey != "secret" || c.SessionToken != "token" {
		t.Errorf("credentials = %+v", c)
	}
}
