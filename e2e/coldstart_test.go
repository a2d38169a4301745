package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"partnerportal/shared/localgw"
	"partnerportal/shared/samtemplate"
)

// coldEvents are, per function folder, a cheap first invocation that is
// answered without DynamoDB or SES, and how to recognise its answer: a
// request with no credentials (401 after the authorizer check), a
// malformed login (400), and for billing an event without a time (the
// function's error). Only the first invocation of each process is timed,
// so what is measured is the cold start: the emulator, the bootstrap's
// init (configuration, SDK clients, routers) and one trivial request.
var coldEvents = map[string]struct {
	event  string
	status int // 0: the function must report an error
}{
	"hello":    {`{}`, 200},
	"platform": {httpEvent("GET /v1/platform/partners", "/v1/platform/partners", ""), 401},
	"public":   {httpEvent("POST /v1/auth/login", "/v1/auth/login", "{"), 400},
	"accounts": {httpEvent("GET /v1/me", "/v1/me", ""), 401},
	"sites":    {httpEvent("GET /v1/sites", "/v1/sites", ""), 401},
	"credits":  {httpEvent("GET /v1/credits", "/v1/credits", ""), 401},
	"billing":  {`{}`, 0},
}

func httpEvent(routeKey, path, body string) string {
	method, _, _ := strings.Cut(routeKey, " ")
	return fmt.Sprintf(`{"version":"2.0","routeKey":%q,"rawPath":%q,"rawQueryString":"","headers":{"content-type":"application/json"},`+
		`"requestContext":{"requestId":"cold","http":{"method":%q,"path":%q,"protocol":"HTTP/1.1","sourceIp":"192.0.2.1"}},"body":%q,"isBase64Encoded":false}`,
		routeKey, path, method, path, body)
}

// TestColdStart measures each function's cold start against a hello-world
// aws-lambda-go function built and run the same way (ENGINEERING.md: within
// 1.25×). It is opt-in, because it is a measurement: `make coldstart`, or
// COLDSTART_RUNS=N go test ./e2e -run TestColdStart -v. Each run starts
// every binary once under aws-lambda-rie, in rotating order, and times
// (a) from starting the emulator process to the first invocation's answer,
// and (b) from sending that invocation (the emulator listening, the
// bootstrap not yet started: the emulator starts it on the first invoke)
// to its answer. It reports the medians and their ratios to hello-world;
// it asserts only that every first invocation answered as expected.
func TestColdStart(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("COLDSTART_RUNS"))
	if runs <= 0 {
		t.Skip("a measurement, not a check: set COLDSTART_RUNS=N (make coldstart)")
	}
	if runtime.GOOS != "linux" {
		needTool(t, "aws-lambda-rie runs Linux bootstraps only; this is "+runtime.GOOS)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	binDir := t.TempDir()
	pkgs := []string{"./e2e/testdata/hello"}
	names := []string{"hello"}
	for _, f := range tpl.Functions {
		pkgs = append(pkgs, "./functions/"+f.Folder())
		names = append(names, f.Folder())
	}
	// As deployed, for this machine's architecture so that it can run here.
	build := exec.Command("go", append([]string{"build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", binDir + string(os.PathSeparator)}, pkgs...)...)
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	rieCmd := exec.Command("go", "tool", "-n", "aws-lambda-rie")
	rieCmd.Dir = root
	rieOut, err := rieCmd.Output()
	rie := strings.TrimSpace(string(rieOut))
	if err != nil || rie == "" {
		needTool(t, fmt.Sprintf("aws-lambda-rie (go tool -n aws-lambda-rie) is not available: %v", err))
	}

	envs := map[string][]string{}
	base := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=AKIDCOLDSTART", "AWS_SECRET_ACCESS_KEY=not-used"}
	envs["hello"] = base
	for _, f := range tpl.Functions {
		env, err := tpl.Env(f, map[string]string{"Table": "coldstart"})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing listens there: a DynamoDB call would fail at once.
		env["DYNAMODB_ENDPOINT"] = "http://127.0.0.1:1"
		vars := slices.Clone(base)
		for k, v := range env {
			vars = append(vars, k+"="+v)
		}
		envs[f.Folder()] = vars
	}

	total := map[string][]time.Duration{}
	invoke := map[string][]time.Duration{}
	ctx := context.Background()
	for run := range runs {
		for k := range names {
			name := names[(k+run)%len(names)]
			ce, ok := coldEvents[name]
			if !ok {
				t.Fatalf("no cold-start event for function %q", name)
			}
			t0 := time.Now()
			r, err := localgw.StartRIE(ctx, localgw.RIEOptions{RIE: rie, Bootstrap: filepath.Join(binDir, name), Name: name, Env: envs[name], Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t1 := time.Now()
			out, err := r.Invoke(ctx, []byte(ce.event))
			t2 := time.Now()
			r.Close()
			var fe *localgw.FunctionError
			switch {
			case ce.status == 0 && !errors.As(err, &fe):
				t.Fatalf("%s: got %s %v, want the function's error", name, out, err)
			case ce.status == 200 && name == "hello" && (err != nil || string(out) != `"hello"`):
				t.Fatalf("%s: %s %v", name, out, err)
			case ce.status != 0 && name != "hello":
				var resp events.APIGatewayV2HTTPResponse
				if err != nil || json.Unmarshal(out, &resp) != nil || resp.StatusCode != ce.status {
					t.Fatalf("%s: %s %v, want status %d", name, out, err, ce.status)
				}
			}
			total[name] = append(total[name], t2.Sub(t0))
			invoke[name] = append(invoke[name], t2.Sub(t1))
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "cold start, median of %d runs (%s/%s):\n", runs, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "| binary | size | process start → answer | ratio | first invoke → answer | ratio |\n|---|--:|--:|--:|--:|--:|\n")
	helloTotal, helloInvoke := median(total["hello"]), median(invoke["hello"])
	for _, name := range names {
		st, _ := os.Stat(filepath.Join(binDir, name))
		mt, mi := median(total[name]), median(invoke[name])
		fmt.Fprintf(&b, "| %s | %.1f MB | %s | %.2f× | %s | %.2f× |\n", name, float64(st.Size())/1e6,
			ms(mt), float64(mt)/float64(helloTotal), ms(mi), float64(mi)/float64(helloInvoke))
	}
	t.Log("\n" + b.String())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
