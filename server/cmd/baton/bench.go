package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/batonhq/baton/server/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("bench needs a subcommand: ingest or sqlite-ceiling")
	}
	// The load generator and the ceiling loop collect as seldom as the server: a collection
	// pausing the generator would count in the latencies it measures, and the loop should run
	// with the heap the server has.
	tuneGC()
	switch args[0] {
	case "ingest":
		return benchIngest(ctx, args[1:], stdout, stderr)
	case "sqlite-ceiling":
		return benchSQLiteCeiling(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown bench subcommand %q", args[0])
}

func benchIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench ingest", stderr, "Usage: baton bench ingest --channel ID [flags]\n\n"+
		"Offers inbound messages to a running server over HTTP (the generic channel webhook with\n"+
		"--webhook-secret, IngestMessage otherwise) and reports throughput and latency.")
	cfg := bench.IngestConfig{RunID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	fs.StringVar(&cfg.URL, "url", env("BATON_URL", "http://127.0.0.1:8080"), "the server (env BATON_URL)")
	fs.StringVar(&cfg.APIKey, "key", os.Getenv("BATON_API_KEY"), "an admin or service key (env BATON_API_KEY)")
	fs.StringVar(&cfg.ChannelID, "channel", "", "the channel the messages arrive on")
	fs.IntVar(&cfg.Rate, "rate", 0, "offered messages per second; 0 for as fast as possible")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "requests in flight at most")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to offer load")
	fs.IntVar(&cfg.MaxMessages, "max", 1_000_000, "stop after this many messages")
	fs.IntVar(&cfg.Contacts, "contacts", 1000, "distinct customers")
	fs.StringVar(&cfg.WebhookSecret, "webhook-secret", os.Getenv("BATON_BENCH_WEBHOOK_SECRET"), "send to the generic channel webhook, signed with this whsec_ secret, instead of IngestMessage (env BATON_BENCH_WEBHOOK_SECRET)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.ChannelID == "" {
		return errors.New("--channel is required")
	}
	res, err := bench.Ingest(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ingest (offered %s): %s\n", rateLabel(cfg.Rate), res)
	return nil
}

func rateLabel(rate int) string {
	if rate == 0 {
		return "as fast as possible"
	}
	return strconv.Itoa(rate) + " msg/s"
}

func benchSQLiteCeiling(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench sqlite-ceiling", stderr, "Usage: baton bench sqlite-ceiling [flags]\n\n"+
		"Runs Baton's ingest transaction on SQLite, on Baton's schema, in a bare single-writer loop:\n"+
		"the ceiling ingest is compared with.")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	maxMessages := fs.Int("max", 1_000_000, "stop after this many messages")
	minimal := fs.Bool("minimal", false, "run the minimal transaction instead (message, activity, event on a bare schema)")
	batch := fs.Int("batch", 1, "messages per transaction (the server's writer commits up to 64 together)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "baton-ceiling-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, name := bench.BatonCeiling, "sqlite ceiling (Baton's transaction)"
	if *minimal {
		c, name = bench.MinimalCeiling, "sqlite ceiling (minimal transaction)"
	}
	res, err := bench.SQLiteCeiling(ctx, c, dir, *duration, *maxMessages, *batch)
	if err != nil {
		return err
	}
	if *batch > 1 {
		name += fmt.Sprintf(", %d messages per transaction", *batch)
	}
	fmt.Fprintf(stdout, "%s: %s\n", name, res)
	return nil
}
