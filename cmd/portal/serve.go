package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"partnerportal/shared/api"
	cfgpkg "partnerportal/shared/config"
	"partnerportal/shared/dynamo"
	"partnerportal/shared/functions"
	"partnerportal/shared/localdb"
	"partnerportal/shared/localgw"
	"partnerportal/shared/samtemplate"
)

// serveOptions are serve's flags.
type serveOptions struct {
	Addr             string
	DataDir          string
	Outbox           string
	DynamoDBEndpoint string
	Seed             bool
	Template         string
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	fs.StringVar(&o.Addr, "addr", "127.0.0.1:3000", "listen address")
	fs.StringVar(&o.DataDir, "data-dir", ".portal", "local state; data survives a restart")
	fs.StringVar(&o.Outbox, "outbox", "", "directory for mail, one RFC 5322 .eml file each (default <data-dir>/outbox)")
	fs.StringVar(&o.DynamoDBEndpoint, "dynamodb-endpoint", "", "use this DynamoDB endpoint instead of the embedded engine")
	fs.BoolVar(&o.Seed, "seed", false, "create a demo partner with credits and sites; print its master invitation link")
	fs.StringVar(&o.Template, "template", "", "SAM template (default: template.yaml in this directory or the nearest parent)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: portal serve [flags]\n\nRuns the whole API locally: functions routed as template.yaml routes them,\nan embedded DynamoDB engine persisted under --data-dir, mail written to --outbox.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: portal serve takes no arguments", errUsage)
	}
	log := newLogger(stderr, slog.LevelInfo)
	s, err := startServer(ctx, o, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Partner Portal API listening on %s\n", s.URL)
	fmt.Fprintf(stdout, "  health:  %s/healthz\n  outbox:  %s\n", s.URL, s.Outbox)
	if o.Seed {
		res, err := seedDemo(ctx, s.URL, s.Outbox, s.Service())
		if err != nil {
			s.Close()
			return fmt.Errorf("seeding: %w", err)
		}
		printSeed(stdout, res)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-s.Done:
		s.Close()
		return err
	}
	return s.Close()
}

// server is a running local API.
type server struct {
	URL    string
	Outbox string
	// Done reports a failure of the listener.
	Done chan error
	// Deps are the clients the in-process functions run with: the seed
	// writes through the same store.
	Deps functions.Deps

	http    *http.Server
	closers []func() error
}

// startServer starts the engine (unless an endpoint is given), the table,
// the in-process functions and the gateway, listening on o.Addr.
func startServer(ctx context.Context, o serveOptions, log *slog.Logger) (s *server, err error) {
	s = &server{Done: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	tplPath := o.Template
	if tplPath == "" {
		if tplPath, err = findTemplate(); err != nil {
			return nil, err
		}
	}
	tpl, err := samtemplate.ReadFile(tplPath)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.DataDir, 0o755); err != nil {
		return nil, err
	}
	s.Outbox = o.Outbox
	if s.Outbox == "" {
		s.Outbox = filepath.Join(o.DataDir, "outbox")
	}
	endpoint := o.DynamoDBEndpoint
	if endpoint == "" {
		url, closeDB, err := startEngine(filepath.Join(o.DataDir, "dynamodb"), "127.0.0.1:0", log)
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, closeDB)
		endpoint = url
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	s.URL = "http://" + ln.Addr().String()

	cfg, err := cfgpkg.FromEnv()
	if err != nil {
		ln.Close()
		return nil, err
	}
	if os.Getenv("TABLE_NAME") == "" {
		cfg.TableName = "partner-portal"
	}
	if os.Getenv("PUBLIC_URL") == "" {
		// Links in mail point at this server, so they work locally.
		cfg.PublicURL = s.URL
	}
	cfg.DynamoDBEndpoint, cfg.OutboxDir = endpoint, s.Outbox
	if err := ensureTable(ctx, cfg, tpl); err != nil {
		ln.Close()
		return nil, fmt.Errorf("preparing table %s at %s: %w", cfg.TableName, endpoint, err)
	}
	deps, err := functions.NewDeps(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.Deps = deps
	invokers := map[string]localgw.Invoker{}
	for _, f := range tpl.Functions {
		h, err := functions.Handler(f.Folder(), deps)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("%s: %w", f.LogicalID, err)
		}
		invokers[f.LogicalID] = &localgw.InProcess{Handler: h, Name: f.LogicalID, Timeout: time.Duration(f.Timeout) * time.Second}
	}
	gw, err := localgw.New(tpl, invokers, localgw.Options{Log: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.http = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Done <- err
		}
	}()
	log.Info("serving", slog.String("url", s.URL), slog.String("dynamodb", endpoint), slog.String("table", cfg.TableName),
		slog.String("outbox", s.Outbox), slog.String("template", tplPath), slog.Int("functions", len(invokers)))
	return s, nil
}

// Service is the API service over the server's store and mailer, for work
// that no route does (the demo sites of --seed).
func (s *server) Service() *api.Service {
	return &api.Service{Store: s.Deps.Store, Mail: s.Deps.Mail, PublicURL: s.Deps.Config.PublicURL, Log: s.Deps.Log}
}

// Close shuts the server down gracefully, then the engine.
func (s *server) Close() error {
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
		s.http = nil
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// startEngine serves a persisted embedded engine on addr and returns its URL.
func startEngine(dir, addr string, log *slog.Logger) (string, func() error, error) {
	engine, err := localdb.Open(dir, log)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		engine.Close()
		return "", nil, err
	}
	srv := &http.Server{Handler: engine, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	closeFn := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(ctx), engine.Close())
	}
	return "http://" + ln.Addr().String(), closeFn, nil
}

// ensureTable creates the table (as the template defines it) and enables
// its TTL attribute, unless they exist.
func ensureTable(ctx context.Context, cfg cfgpkg.Config, tpl *samtemplate.Template) error {
	db, err := dynamo.NewClient(ctx, dynamo.ClientOptions{Endpoint: cfg.DynamoDBEndpoint, Region: cfg.Region})
	if err != nil {
		return err
	}
	if err := dynamo.CreateTable(ctx, db, cfg.TableName); err != nil {
		return err
	}
	if len(tpl.Tables) == 0 || tpl.Tables[0].TTLAttribute == "" {
		return nil
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(cfg.TableName)})
	if err == nil && ttl.TimeToLiveDescription != nil && ttl.TimeToLiveDescription.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
		return nil
	}
	_, err = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(cfg.TableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(tpl.Tables[0].TTLAttribute), Enabled: aws.Bool(true)}})
	if err != nil && strings.Contains(err.Error(), "already enabled") {
		return nil
	}
	return err
}

// findTemplate looks for template.yaml in the working directory and its
// parents.
func findTemplate() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no template.yaml in this directory or its parents; run from the project or pass --template")
		}
		dir = parent
	}
}

func runDynamoDB(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dynamodb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8000", "listen address")
	dataDir := fs.String("data-dir", ".portal", "local state, shared with serve (the engine keeps it in <data-dir>/dynamodb)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: portal dynamodb [flags]\n\nServes the embedded DynamoDB engine alone, persisted like serve's, for\n`sam local start-api` / `sam local invoke` (set DYNAMODB_ENDPOINT to its URL).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := newLogger(stderr, slog.LevelInfo)
	url, closeFn, err := startEngine(filepath.Join(*dataDir, "dynamodb"), *addr, log)
	if err != nil {
		return err
	}
	cfg, err := cfgpkg.FromEnv()
	if err != nil {
		closeFn()
		return err
	}
	if os.Getenv("TABLE_NAME") == "" {
		cfg.TableName = "partner-portal"
	}
	cfg.DynamoDBEndpoint = url
	if tplPath, err := findTemplate(); err == nil {
		if tpl, err := samtemplate.ReadFile(tplPath); err == nil {
			if err := ensureTable(ctx, cfg, tpl); err != nil {
				closeFn()
				return err
			}
		}
	}
	fmt.Fprintf(stdout, "DynamoDB engine listening on %s (table %s)\n", url, cfg.TableName)
	fmt.Fprintf(stdout, "Functions reach it with DYNAMODB_ENDPOINT=%s; from SAM's containers use the host's address.\n", url)
	<-ctx.Done()
	log.Info("shutting down")
	return closeFn()
}
