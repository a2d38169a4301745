package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const creditsUsage = `usage: portal credits purchase --partner ID --amount N --reference REF [--idempotency-key K]

Sells N credits (1..1000000) to a partner: POST /v1/platform/partners/{id}/credits.
The reference (the order or invoice number) is unique per partner: repeating
a purchase with the same reference and amount replays the first one, so a
retry never sells twice.

Also takes --endpoint (default http://127.0.0.1:3000) and --region.`

const usageUsage = `usage: portal usage set --partner ID --site SID --users N --devices N

Reports a site's users and devices: PUT /v1/platform/partners/{id}/sites/{sid}/usage.
The report replaces the previous one; the answer is the site with its new
monthly cost.

Also takes --endpoint (default http://127.0.0.1:3000) and --region.`

// subcommand checks that args start with the one action a command has, and
// prints help for -h.
func subcommand(args []string, action, help string, stderr io.Writer) ([]string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, help)
		if len(args) == 0 {
			return nil, errUsage
		}
		return nil, flag.ErrHelp
	}
	if args[0] != action {
		return nil, fmt.Errorf("%w: unknown action %q\n\n%s", errUsage, args[0], help)
	}
	return args[1:], nil
}

// parseFlags parses args; a bad flag is a usage error (exit 2), which the
// flag package has already explained on stderr.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return fmt.Errorf("%w: %v", errUsage, err)
}

// intFlag is an integer flag that remembers whether it was given, so that
// a missing --amount is told apart from --amount 0.
type intFlag struct {
	v   int64
	set bool
}

func (f *intFlag) String() string { return fmt.Sprint(f.v) }
func (f *intFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	f.v, f.set = v, true
	return nil
}

// missing names the flags among named that are empty or unset, in order.
func missing(named ...any) []string {
	var out []string
	for i := 0; i+1 < len(named); i += 2 {
		switch v := named[i+1].(type) {
		case string:
			if v == "" {
				out = append(out, named[i].(string))
			}
		case *intFlag:
			if !v.set {
				out = append(out, named[i].(string))
			}
		}
	}
	return out
}

func runCredits(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	args, err := subcommand(args, "purchase", creditsUsage, stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("credits purchase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, creditsUsage) }
	var pf platformFlags
	pf.register(fs)
	var partner, reference, idemKey string
	var amount intFlag
	fs.StringVar(&partner, "partner", "", "partner id")
	fs.Var(&amount, "amount", "credits to sell, 1..1000000")
	fs.StringVar(&reference, "reference", "", "the platform's order or invoice number (unique per partner)")
	fs.StringVar(&idemKey, "idempotency-key", "", "Idempotency-Key header")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if m := missing("--partner", partner, "--amount", &amount, "--reference", reference); len(m) > 0 {
		return fmt.Errorf("%w: portal credits purchase needs %s", errUsage, strings.Join(m, ", "))
	}
	c, err := newPlatformClient(ctx, pf.endpoint, pf.region, stderr)
	if err != nil {
		return err
	}
	h := http.Header{}
	if idemKey != "" {
		h.Set("Idempotency-Key", idemKey)
	}
	out, err := c.do(ctx, http.MethodPost, "/v1/platform/partners/"+url.PathEscape(partner)+"/credits",
		map[string]any{"amount": amount.v, "reference": reference}, h)
	return answer(stdout, out, err)
}

func runUsage(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	args, err := subcommand(args, "set", usageUsage, stderr)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("usage set", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, usageUsage) }
	var pf platformFlags
	pf.register(fs)
	var partner, site string
	var users, devices intFlag
	fs.StringVar(&partner, "partner", "", "partner id")
	fs.StringVar(&site, "site", "", "site id")
	fs.Var(&users, "users", "the site's users")
	fs.Var(&devices, "devices", "the site's devices")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if m := missing("--partner", partner, "--site", site, "--users", &users, "--devices", &devices); len(m) > 0 {
		return fmt.Errorf("%w: portal usage set needs %s", errUsage, strings.Join(m, ", "))
	}
	c, err := newPlatformClient(ctx, pf.endpoint, pf.region, stderr)
	if err != nil {
		return err
	}
	out, err := c.do(ctx, http.MethodPut, "/v1/platform/partners/"+url.PathEscape(partner)+"/sites/"+url.PathEscape(site)+"/usage",
		map[string]any{"users": users.v, "devices": devices.v}, nil)
	return answer(stdout, out, err)
}

// answer prints a platform call's body, or says the API refused it.
func answer(stdout io.Writer, out []byte, err error) error {
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return fmt.Errorf("the API answered %w", err)
		}
		return err
	}
	return printJSON(stdout, out)
}
