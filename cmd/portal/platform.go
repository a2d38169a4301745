package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// platformClient calls the IAM-authorized platform routes, signing each
// request with SigV4 for the execute-api service.
type platformClient struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     *http.Client
	signer   *v4.Signer
}

// dummyCredentials sign requests to a local server, which does not check
// signatures.
var dummyCredentials = credentials.NewStaticCredentialsProvider("AKIDLOCALPORTAL", "local-secret-not-checked", "")

// newPlatformClient resolves credentials through the normal AWS chain. With
// none configured and a loopback endpoint it falls back to dummy
// credentials and says so on warn.
func newPlatformClient(ctx context.Context, endpoint, region string, warn io.Writer) (*platformClient, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: --endpoint %q is not an http(s) URL", errUsage, endpoint)
	}
	c := &platformClient{endpoint: strings.TrimRight(endpoint, "/"), region: region, http: &http.Client{Timeout: 60 * time.Second}, signer: newSigner()}
	var opts []func(*config.LoadOptions) error
	if isLoopback(u.Hostname()) {
		// A local server does not check signatures: skip the slow EC2
		// metadata probe that ends the chain on a laptop.
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err == nil {
		if c.region == "" {
			c.region = cfg.Region
		}
		if _, rerr := cfg.Credentials.Retrieve(ctx); rerr == nil {
			c.creds = cfg.Credentials
		} else {
			err = rerr
		}
	}
	if c.region == "" {
		c.region = "us-east-1"
	}
	if c.creds == nil {
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("no AWS credentials for %s: %w", endpoint, err)
		}
		fmt.Fprintln(warn, "portal: no AWS credentials found; signing with dummy credentials, which only a local server accepts")
		c.creds = dummyCredentials
	}
	return c, nil
}

func newSigner() *v4.Signer { return v4.NewSigner() }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiError is a non-2xx answer.
type apiError struct {
	Status int
	Body   []byte
}

func (e *apiError) Error() string {
	var p struct{ Title, Detail, Code, Message string }
	if json.Unmarshal(e.Body, &p) == nil && (p.Detail != "" || p.Message != "") {
		msg := p.Detail
		if msg == "" {
			msg = p.Message
		}
		if p.Code != "" {
			return fmt.Sprintf("%d %s: %s\n%s", e.Status, p.Code, msg, e.Body)
		}
		return fmt.Sprintf("%d: %s", e.Status, msg)
	}
	return fmt.Sprintf("%d: %s", e.Status, bytes.TrimSpace(e.Body))
}

// do sends a signed request; body is marshalled as JSON when not nil.
func (c *platformClient) do(ctx context.Context, method, path string, body any, header http.Header) ([]byte, error) {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", c.region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &apiError{Status: resp.StatusCode, Body: out}
	}
	return out, nil
}

// platformFlags are the flags every platform command takes.
type platformFlags struct {
	endpoint string
	region   string
}

func (p *platformFlags) register(fs *flag.FlagSet) {
	def := os.Getenv("PORTAL_ENDPOINT")
	if def == "" {
		def = "http://127.0.0.1:3000"
	}
	fs.StringVar(&p.endpoint, "endpoint", def, "API base URL (env PORTAL_ENDPOINT)")
	fs.StringVar(&p.region, "region", "", "AWS region to sign for (default: from the AWS configuration, else us-east-1)")
}

const partnersUsage = `usage: portal partners <action> [flags]

  create --name NAME --country CC --master-email EMAIL [--idempotency-key K]
  list [--limit N] [--cursor C]
  get ID
  suspend ID
  restore ID
  invite-master ID --email EMAIL

Every action also takes --endpoint (default http://127.0.0.1:3000) and
--region. Requests are signed with AWS SigV4 using the normal credential
chain (environment, ~/.aws, SSO, roles).`

func runPartners(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, partnersUsage)
		if len(args) == 0 {
			return errUsage
		}
		return flag.ErrHelp
	}
	action, args := args[0], args[1:]
	fs := flag.NewFlagSet("partners "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, partnersUsage) }
	var pf platformFlags
	pf.register(fs)
	var name, country, masterEmail, email, idemKey, cursor string
	var limit int
	switch action {
	case "create":
		fs.StringVar(&name, "name", "", "partner name")
		fs.StringVar(&country, "country", "", "ISO 3166-1 alpha-2 country code")
		fs.StringVar(&masterEmail, "master-email", "", "email of the partner's first master")
		fs.StringVar(&idemKey, "idempotency-key", "", "Idempotency-Key header: a retry with the same key creates nothing twice")
	case "list":
		fs.IntVar(&limit, "limit", 0, "page size 1..100 (default 50)")
		fs.StringVar(&cursor, "cursor", "", "cursor of the next page")
	case "invite-master":
		fs.StringVar(&email, "email", "", "email of the new master")
	case "get", "suspend", "restore":
	default:
		return fmt.Errorf("%w: unknown action %q\n\n%s", errUsage, action, partnersUsage)
	}
	// Accept the partner id before or after the flags.
	var id string
	if action != "create" && action != "list" && len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if id == "" && fs.NArg() > 0 {
		id = fs.Arg(0)
	}
	needID := action == "get" || action == "suspend" || action == "restore" || action == "invite-master"
	if needID && id == "" {
		return fmt.Errorf("%w: portal partners %s needs a partner id", errUsage, action)
	}
	c, err := newPlatformClient(ctx, pf.endpoint, pf.region, stderr)
	if err != nil {
		return err
	}
	var out []byte
	base := "/v1/platform/partners"
	switch action {
	case "create":
		var missing []string
		for flagName, v := range map[string]string{"--name": name, "--country": country, "--master-email": masterEmail} {
			if v == "" {
				missing = append(missing, flagName)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("%w: portal partners create needs %s", errUsage, strings.Join(missing, ", "))
		}
		h := http.Header{}
		if idemKey != "" {
			h.Set("Idempotency-Key", idemKey)
		}
		out, err = c.do(ctx, http.MethodPost, base, map[string]string{"name": name, "country": country, "masterEmail": masterEmail}, h)
	case "list":
		q := url.Values{}
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		path := base
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		out, err = c.do(ctx, http.MethodGet, path, nil, nil)
	case "get":
		out, err = c.do(ctx, http.MethodGet, base+"/"+url.PathEscape(id), nil, nil)
	case "suspend":
		out, err = c.do(ctx, http.MethodPatch, base+"/"+url.PathEscape(id), map[string]string{"status": "suspended"}, nil)
	case "restore":
		out, err = c.do(ctx, http.MethodPatch, base+"/"+url.PathEscape(id), map[string]string{"status": "active"}, nil)
	case "invite-master":
		if email == "" {
			return fmt.Errorf("%w: portal partners invite-master needs --email", errUsage)
		}
		out, err = c.do(ctx, http.MethodPost, base+"/"+url.PathEscape(id)+"/master-invitation", map[string]string{"email": email}, nil)
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return fmt.Errorf("the API answered %w", err)
		}
		return err
	}
	return printJSON(stdout, out)
}

// printJSON pretty-prints a JSON body.
func printJSON(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		_, err = w.Write(raw)
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}
