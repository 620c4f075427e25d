package main

import (
	"cmp"
	"context"
	"errors"
	"flag"

	"fmt"
	"github.com/peterbourgon/ff/v4"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/bench"
)

// benchCommand is "baton bench": load generators and the ceilings they are compared with.
// Its flags have no BATON_* variables (but --url and --key default to BATON_URL and
// BATON_API_KEY), so that a server's settings in the environment never change a benchmark.
func benchCommand(stdout io.Writer) *ff.Command {
	return group("bench", "baton bench ingest|sqlite-ceiling|fanout|fanout-ceiling [flags]",
		"offer load to a running server, or measure the ceilings it is compared with",
		benchIngestCommand(stdout), benchSQLiteCeilingCommand(stdout), benchFanoutCommand(stdout), benchFanoutCeilingCommand(stdout))
}

// benchmark wraps a bench command's exec: the load generator and the ceiling loop collect as
// seldom as the server (a collection pausing the generator would count in the latencies it
// measures, and the loop should run with the heap the server has).
func benchmark(exec func(context.Context) error) func(context.Context, []string) error {
	return noArgs(func(ctx context.Context) error {
		tuneGC()
		return exec(ctx)
	})
}

func benchIngestCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("ingest", flag.ContinueOnError)
	cfg := bench.IngestConfig{RunID: strconv.FormatInt(time.Now().UnixNano(), 36)}
	fs.StringVar(&cfg.URL, "url", cmp.Or(os.Getenv("BATON_URL"), "http://127.0.0.1:8080"), "the server (env BATON_URL)")
	fs.StringVar(&cfg.APIKey, "key", os.Getenv("BATON_API_KEY"), "an admin or service key (env BATON_API_KEY)")
	fs.StringVar(&cfg.ChannelID, "channel", "", "the channel the messages arrive on")
	fs.IntVar(&cfg.Rate, "rate", 0, "offered messages per second; 0 for as fast as possible")
	fs.IntVar(&cfg.Concurrency, "concurrency", 64, "requests in flight at most")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to offer load")
	fs.IntVar(&cfg.MaxMessages, "max", 1_000_000, "stop after this many messages")
	fs.IntVar(&cfg.Contacts, "contacts", 1000, "distinct customers")
	fs.StringVar(&cfg.WebhookSecret, "webhook-secret", os.Getenv("BATON_BENCH_WEBHOOK_SECRET"), "send to the generic channel webhook, signed with this whsec_ secret, instead of IngestMessage (env BATON_BENCH_WEBHOOK_SECRET)")
	return command(fs, false, "baton bench ingest --channel ID [flags]", "offer inbound messages to a running server; report throughput and latency",
		"Offers inbound messages to a running server over HTTP (the generic channel webhook with\n"+
			"--webhook-secret, IngestMessage otherwise) and reports throughput and latency.",
		benchmark(func(ctx context.Context) error {
			if cfg.ChannelID == "" {
				return errors.New("--channel is required")
			}
			res, err := bench.Ingest(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "ingest (offered %s): %s\n", rateLabel(cfg.Rate), res)
			return nil
		}))
}

func rateLabel(rate int) string {
	if rate == 0 {
		return "as fast as possible"
	}
	return strconv.Itoa(rate) + " msg/s"
}

func benchSQLiteCeilingCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("sqlite-ceiling", flag.ContinueOnError)
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	maxMessages := fs.Int("max", 1_000_000, "stop after this many messages")
	minimal := fs.Bool("minimal", false, "run the minimal transaction instead (message, activity, event on a bare schema)")
	batch := fs.Int("batch", 1, "messages per transaction (the server's writer commits up to 64 together)")
	return command(fs, false, "baton bench sqlite-ceiling [flags]", "the bare SQLite transaction ingest is compared with",
		"Runs Baton's ingest transaction on SQLite, on Baton's schema, in a bare single-writer loop:\n"+
			"the ceiling ingest is compared with.",
		benchmark(func(ctx context.Context) error {
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
		}))
}

func benchFanoutCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	cfg := bench.FanoutConfig{Ingest: bench.IngestConfig{RunID: strconv.FormatInt(time.Now().UnixNano(), 36)}}
	fs.StringVar(&cfg.Ingest.URL, "url", cmp.Or(os.Getenv("BATON_URL"), "http://127.0.0.1:8080"), "the server (env BATON_URL)")
	fs.StringVar(&cfg.Ingest.APIKey, "key", os.Getenv("BATON_API_KEY"), "an admin or service key (env BATON_API_KEY)")
	fs.StringVar(&cfg.Ingest.ChannelID, "channel", "", "the channel the messages arrive on")
	fs.IntVar(&cfg.Ingest.Rate, "rate", 100, "offered messages per second; 0 for as fast as possible")
	fs.IntVar(&cfg.Ingest.Concurrency, "concurrency", 64, "requests in flight at most")
	fs.DurationVar(&cfg.Ingest.Duration, "duration", 10*time.Second, "how long to offer load")
	fs.IntVar(&cfg.Ingest.MaxMessages, "max", 1_000_000, "stop after this many messages")
	fs.IntVar(&cfg.Ingest.Contacts, "contacts", 1000, "distinct customers")
	fs.IntVar(&cfg.Streams, "streams", 100, "streams to open")
	fs.BoolVar(&cfg.NoMatch, "no-match", false, "open streams whose filter selects nothing")
	fs.DurationVar(&cfg.Drain, "drain", 10*time.Second, "how long to wait, after the load, for the streams to get the last events")
	baseline := fs.Bool("baseline", false, "first offer the same load with no stream open")
	pid := fs.Int("pid", 0, "the server's process id: report its memory per idle stream")
	debugURL := fs.String("debug-url", "", "with --pid, the server's --debug-listen address as a URL: report also what it retains per idle stream after a collection")
	settle := fs.Duration("settle", time.Second, "with --pid, how long the server is left alone before its memory is read, and again once the streams opened")
	ceiling := fs.String("ceiling", "", "measure the streams of this fanout-ceiling server instead")
	return command(fs, false, "baton bench fanout --channel ID [flags]", "open streams and offer load to a running server",
		"Opens --streams Subscribe streams on a running server, each selecting the channel's received\n"+
			"messages, offers messages through IngestMessage at --rate, and reports ingest, deliveries/s,\n"+
			"commit → delivery latency, gaps and repeats. With --baseline it first offers the same load\n"+
			"with no stream open; with --pid, the server's memory per idle stream: its resident memory\n"+
			"grown, as an observer of the process sees it, --settle after the streams opened and right\n"+
			"after (and, with --debug-url, what it retains after collections). With --ceiling URL it\n"+
			"measures the streams of a `baton bench fanout-ceiling` server instead.",
		benchmark(func(ctx context.Context) error {
			if *ceiling != "" {
				res, err := bench.FanoutCeilingLoad(ctx, *ceiling, cfg.Streams, cfg.Ingest.Duration)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "fan-out ceiling (bare Connect server): %s\n", res)
				return nil
			}
			if cfg.Ingest.ChannelID == "" {
				return errors.New("--channel is required")
			}
			if *pid > 0 {
				m, err := idleStreamMemory(ctx, cfg, *pid, *debugURL, *settle)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "server memory per idle stream, resident memory grown: %.1f KB %v after they opened, %.1f KB right after (%d streams)\n",
					m.settled/1024, *settle, m.opened/1024, cfg.Streams)
				if *debugURL != "" {
					fmt.Fprintf(stdout, "server memory retained per idle stream after a collection: %.1f KB (heap %.1f KB, stack %.1f KB)\n",
						(m.heap+m.stacks)/1024, m.heap/1024, m.stacks/1024)
				}
			}
			if *baseline {
				base := cfg.Ingest
				base.RunID += "-baseline" // new messages: the same ids would be duplicates, stored once
				res, err := bench.Ingest(ctx, base)
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "ingest with no stream (offered %s): %s\n", rateLabel(cfg.Ingest.Rate), res)
			}
			res, err := bench.Fanout(ctx, cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "ingest with %d streams (offered %s): %s\n", cfg.Streams, rateLabel(cfg.Ingest.Rate), res.Ingest)
			if !cfg.NoMatch {
				fmt.Fprintf(stdout, "fan-out: %s\n", res)
			}
			return nil
		}))
}

// idleMemory is what the server's memory grew by per idle stream: its resident memory, as an
// observer of the process sees it (VmRSS, the server asked for nothing), right after the streams
// opened and once they settled; and, when its profiles are served, what it retains: heap and
// goroutine stacks after collections.
type idleMemory struct{ opened, settled, heap, stacks float64 }

// idleStreamMemory opens the streams, idle, and returns how much the server's memory grew per
// stream. The server is left alone for settle before the first reading, as before the last.
func idleStreamMemory(ctx context.Context, cfg bench.FanoutConfig, pid int, debugURL string, settle time.Duration) (idleMemory, error) {
	open := func() (func(), error) {
		_, stop, err := bench.OpenStreams(ctx, cfg.Ingest.URL, cfg.Ingest.APIKey, cfg.Streams, 0, &batonv1.EventFilter{ConversationId: "bench-idle"})
		return stop, err
	}
	time.Sleep(settle)
	before, err := bench.RSS(pid)
	if err != nil {
		return idleMemory{}, err
	}
	stop, err := open()
	if err != nil {
		return idleMemory{}, err
	}
	defer stop()
	opened, err := bench.RSS(pid)
	if err != nil {
		return idleMemory{}, err
	}
	time.Sleep(settle) // the streams are caught up, joined, waiting
	settled, err := bench.RSS(pid)
	if err != nil {
		return idleMemory{}, err
	}
	n := float64(cfg.Streams)
	m := idleMemory{opened: float64(opened-before) / n, settled: float64(settled-before) / n}
	if debugURL == "" {
		return m, nil
	}
	// What the server retains is what as many streams again add after collections: asked only
	// now, as the collections it asks for would change what the observer saw.
	heap0, stacks0, err := bench.Retained(ctx, debugURL)
	if err != nil {
		return idleMemory{}, err
	}
	stopMore, err := open()
	if err != nil {
		return idleMemory{}, err
	}
	defer stopMore()
	heap1, stacks1, err := bench.Retained(ctx, debugURL)
	if err != nil {
		return idleMemory{}, err
	}
	m.heap, m.stacks = float64(heap1-heap0)/n, float64(stacks1-stacks0)/n
	return m, nil
}

func benchFanoutCeilingCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("fanout-ceiling", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "where to listen")
	rate := fs.Int("rate", 100, "events per second")
	duration := fs.Duration("duration", time.Hour, "how long to serve at most")
	return command(fs, false, "baton bench fanout-ceiling [flags]", "serve the bare Connect fan-out streams are compared with",
		"Serves the fan-out ceiling: a bare Connect EventService whose Subscribe feeds every stream\n"+
			"from memory at --rate events per second, until interrupted or --duration passes.",
		benchmark(func(ctx context.Context) error {
			if *rate <= 0 {
				return errors.New("--rate must be positive")
			}
			l, err := net.Listen("tcp", *listen)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, *duration)
			defer cancel()
			fmt.Fprintf(stdout, "fan-out ceiling serving on %s at %d events/s\n", l.Addr(), *rate)
			return bench.FanoutCeiling(ctx, l, *rate)
		}))
}
