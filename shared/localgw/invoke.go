package localgw

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invoker runs one function with a raw event and returns its raw result.
type Invoker interface {
	Invoke(ctx context.Context, event []byte) ([]byte, error)
}

// FunctionError is an error the function itself reported, in the shape the
// Lambda runtime uses; any other error from an Invoker means the function
// could not be run at all.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// InProcess invokes a lambda.Handler in this process, as the Lambda runtime
// would: with a deadline, a Lambda context, and panics turned into function
// errors.
type InProcess struct {
	Handler lambda.Handler
	// Name is the function name put in the Lambda context.
	Name string
	// Timeout is the function's timeout; zero means 30 seconds.
	Timeout time.Duration
}

// Invoke calls the handler.
func (p *InProcess) Invoke(ctx context.Context, event []byte) (out []byte, err error) {
	timeout := p.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{
		AwsRequestID:       newID(),
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:" + LocalAccountID + ":function:" + p.Name,
	})
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &FunctionError{Type: "Runtime.Panic", Message: fmt.Sprintf("%v\n%s", v, debug.Stack())}
		}
	}()
	out, err = p.Handler.Invoke(ctx, event)
	if err != nil {
		if _, ok := err.(*FunctionError); !ok {
			err = &FunctionError{Type: errorType(err), Message: err.Error()}
		}
	}
	return out, err
}

// errorType names an error's type as the Go Lambda runtime does.
func errorType(err error) string {
	t := fmt.Sprintf("%T", err)
	if len(t) > 0 && t[0] == '*' {
		t = t[1:]
	}
	return t
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
