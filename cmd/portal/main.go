// Command portal is the Partner Portal's local runner and the platform's
// command-line client.
//
//	portal serve       the whole API on http://127.0.0.1:3000, no AWS needed
//	portal dynamodb    the embedded DynamoDB engine alone, for SAM CLI
//	portal partners …  platform routes, signed with AWS SigV4
//	portal credits purchase, portal usage set   likewise
//
// Run `portal help` for the flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the whole API locally (functions routed as template.yaml routes them)", runServe},
		{"dynamodb", "serve the embedded DynamoDB engine alone (for sam local)", runDynamoDB},
		{"partners", "platform: create, list, get, suspend, restore partners; invite a master", runPartners},
		{"credits", "platform: sell credits to a partner (credits purchase)", runCredits},
		{"usage", "platform: report a site's users and devices (usage set)", runUsage},
	}
}

// errUsage marks errors whose message is a usage hint; the exit code is 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintln(stderr, err)
			return 2
		default:
			fmt.Fprintln(stderr, "portal:", err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "portal: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: portal <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `portal <command> -h` for a command's flags.")
}

// newLogger writes text logs to stderr.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
