// Command hello is the smallest aws-lambda-go function: the baseline that
// e2e's cold-start measurement compares each function's bootstrap with.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (string, error) { return "hello", nil })
}
