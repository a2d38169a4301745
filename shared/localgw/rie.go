package localgw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// RIEOptions say how to run one function under the Runtime Interface
// Emulator.
type RIEOptions struct {
	// RIE is the aws-lambda-rie executable (`go tool -n aws-lambda-rie`).
	RIE string
	// Bootstrap is the function's built bootstrap.
	Bootstrap string
	// Name is the function name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// Env is the function's whole environment, as KEY=value pairs; the
	// emulator passes its own environment on to the function.
	Env []string
	// Timeout is the function's timeout; zero means 30 seconds.
	Timeout time.Duration
	// Output receives the emulator's and the function's output.
	Output io.Writer
	// StartTimeout bounds the wait for the emulator to listen; zero means
	// 15 seconds.
	StartTimeout time.Duration
}

// RIE invokes a function's bootstrap running under aws-lambda-rie. The
// emulator runs one invocation at a time, so invocations are serialised.
type RIE struct {
	url     string
	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex
	client  *http.Client
	timeout time.Duration
}

// StartRIE starts the emulator and waits until it accepts connections.
func StartRIE(ctx context.Context, o RIEOptions) (*RIE, error) {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 15 * time.Second
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	cmd := exec.Command(o.RIE,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(ports[1]),
		"--log-level", "error",
		o.Bootstrap)
	secs := int((o.Timeout + time.Second - 1) / time.Second)
	cmd.Env = append(append([]string(nil), o.Env...),
		"AWS_LAMBDA_FUNCTION_NAME="+o.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.Itoa(secs),
	)
	cmd.Stdout, cmd.Stderr = o.Output, o.Output
	ownProcessGroup(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("localgw: starting %s: %w", o.RIE, err)
	}
	r := &RIE{
		url:     "http://" + addr + "/2015-03-31/functions/function/invocations",
		cmd:     cmd,
		exited:  make(chan struct{}),
		client:  &http.Client{Timeout: o.Timeout + 5*time.Second},
		timeout: o.Timeout,
	}
	go func() { cmd.Wait(); close(r.exited) }()
	if err := r.waitReady(ctx, addr, o.StartTimeout); err != nil {
		r.Close()
		return nil, fmt.Errorf("localgw: %s under aws-lambda-rie: %w", o.Name, err)
	}
	return r, nil
}

// waitReady polls the emulator's port until it accepts a connection.
func (r *RIE) waitReady(ctx context.Context, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-r.exited:
			return errors.New("the emulator exited before listening")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %s", addr, limit)
		}
	}
}

// Invoke posts the event to the emulator.
func (r *RIE) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localgw: invoking through aws-lambda-rie: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		if fe := asFunctionError(out); fe != nil {
			return nil, fe
		}
		return nil, fmt.Errorf("localgw: aws-lambda-rie answered %d: %s", resp.StatusCode, out)
	}
	// The emulator answers 200 with the error document when the function
	// reports an error; tell it from a result by its exact shape.
	if fe := asFunctionError(out); fe != nil {
		return nil, fe
	}
	return out, nil
}

// asFunctionError recognises the runtime's error document: an object with
// errorMessage and errorType and nothing but those and stackTrace.
func asFunctionError(out []byte) *FunctionError {
	var m map[string]json.RawMessage
	if json.Unmarshal(out, &m) != nil {
		return nil
	}
	if _, ok := m["errorMessage"]; !ok {
		return nil
	}
	for k := range m {
		if k != "errorMessage" && k != "errorType" && k != "stackTrace" {
			return nil
		}
	}
	var fe FunctionError
	if json.Unmarshal(out, &fe) != nil {
		return nil
	}
	return &fe
}

// Close stops the emulator and its function.
func (r *RIE) Close() error {
	if r.cmd.Process == nil {
		return nil
	}
	select {
	case <-r.exited:
		return nil
	default:
	}
	killGroup(r.cmd)
	<-r.exited
	return nil
}

// freePorts reserves n distinct loopback ports by listening on port 0, then
// releases them for the emulator to take.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}
