// Command baton runs the Baton server and its admin tasks.
//
//	baton serve                     start the server
//	baton migrate                   apply database migrations and exit
//	baton keys create|list|delete   manage API keys directly in the database
//	baton bench ...                 load generators and their ceilings
//	baton version                   the version, from the build info
//	baton secrets rotate|new-key    seal every secret under a new key
//
// The command tree is in commands.go; "baton COMMAND -h" prints a command's flags. Every serve,
// migrate, keys and secrets rotate flag can also be set with a BATON_* environment variable; flags win.
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
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/peterbourgon/ff/v4"

	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/metrics"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/serve"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/store/postgres"
	"github.com/batonhq/baton/server/store/sqlite"
	"github.com/batonhq/baton/server/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "baton:", err)
		os.Exit(1)
	}
}

// storeFlags are the flags every command shares: where the data lives, and the key its
// secrets are sealed with.
type storeFlags struct{ dataDir, databaseURL, secretKeyFile string }

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.dataDir, "data-dir", "data",
		"directory of the embedded SQLite database, created if missing (env BATON_DATA_DIR)")
	fs.StringVar(&f.databaseURL, "database-url", "",
		"a postgres:// URL to use PostgreSQL instead of the embedded SQLite; several servers may share one (env BATON_DATABASE_URL)")
	fs.StringVar(&f.secretKeyFile, "secret-key-file", "",
		"file of the keys channel credentials and webhook secrets are sealed with, base64, one a line, the sealing key first; "+
			"or the keys themselves in the BATON_SECRET_KEY variable, comma-separated; by default, SQLite's secret.key in the data directory (env BATON_SECRET_KEY_FILE)")
}

func (f *storeFlags) sqlitePath() (string, error) {
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return "", err
	}
	return filepath.Join(f.dataDir, "baton.db"), nil
}

func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	keys, err := f.keys()
	if err != nil {
		return nil, err
	}
	var st store.Store
	if f.databaseURL != "" {
		st, err = postgres.Open(ctx, f.databaseURL, postgres.WithKeys(keys))
	} else {
		var path string
		if path, err = f.sqlitePath(); err != nil {
			return nil, err
		}
		var opts []sqlite.Option
		if keys != nil {
			opts = append(opts, sqlite.WithKeys(keys))
		}
		st, err = sqlite.Open(ctx, path, opts...)
	}
	if err != nil {
		return nil, f.explainKeyError(err)
	}
	return st, nil
}

// where says where the data is, for logs, without a URL's password.
func (f *storeFlags) where() string {
	if f.databaseURL == "" {
		return f.dataDir
	}
	if u, err := url.Parse(f.databaseURL); err == nil {
		return u.Redacted()
	}
	return "postgres"
}

func (f *storeFlags) migrate(ctx context.Context) error {
	if f.databaseURL != "" {
		return postgres.Migrate(ctx, f.databaseURL)
	}
	path, err := f.sqlitePath()
	if err != nil {
		return err
	}
	return sqlite.Migrate(ctx, path)
}

// rate is a token bucket at perSecond with a burst of two seconds' worth; no limit when negative.
func rate(perSecond float64) ratelimit.Rate {
	if perSecond <= 0 {
		return ratelimit.Rate{PerSecond: -1}
	}
	return ratelimit.Rate{PerSecond: perSecond, Burst: max(1, int(2*perSecond))}
}

// serveCommand is "baton serve": the server.
func serveCommand(stderr io.Writer) *ff.Command {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on (env BATON_LISTEN)")
	origins := fs.String("allowed-origins", "", "comma-separated browser origins allowed by CORS, or * (env BATON_ALLOWED_ORIGINS)")
	heartbeat := fs.Duration("heartbeat-timeout", app.DefaultHeartbeatTimeout, "agents without a heartbeat for this long go offline (env BATON_HEARTBEAT_TIMEOUT)")
	offersHold := fs.Bool("offers-hold-seats", false, "count an agent's live offers toward its capacity when routing, so it is offered no more than its free seats (env BATON_OFFERS_HOLD_SEATS)")
	grace := fs.Duration("shutdown-grace", 10*time.Second, "how long shutdown waits for requests in flight (env BATON_SHUTDOWN_GRACE)")
	allow := fs.String("webhook-allow-networks", "", "comma-separated private networks (CIDR) webhooks may reach, e.g. 127.0.0.0/8; none by default (env BATON_WEBHOOK_ALLOW_NETWORKS)")
	timeout := fs.Duration("webhook-timeout", 5*time.Second, "how long one webhook delivery attempt may take (env BATON_WEBHOOK_TIMEOUT)")
	schedule := fs.String("webhook-retry-schedule", "1m,5m,15m,40m", "waits before each webhook retry, ±20% jitter (env BATON_WEBHOOK_RETRY_SCHEDULE)")
	metaAPI := fs.String("meta-api-url", serve.DefaultMetaAPI, "Meta's Graph API, version included, for Messenger, Instagram and WhatsApp sends (env BATON_META_API_URL)")
	telegramAPI := fs.String("telegram-api-url", serve.DefaultTelegramAPI, "Telegram's Bot API (env BATON_TELEGRAM_API_URL)")
	logFormat := fs.String("log-format", "text", "text or json (env BATON_LOG_FORMAT)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error (env BATON_LOG_LEVEL)")
	debug := fs.String("debug-listen", "", "address serving Prometheus metrics (/metrics) and Go's profiles (/debug/pprof/); off when empty, keep it private (env BATON_DEBUG_LISTEN)")
	gaugeTTL := fs.Duration("gauge-interval", metrics.DefaultGaugeTTL, "how long gauges read from the database (queues, agents, outbox, deliveries) are reused; 0 reads them at every collection (env BATON_GAUGE_INTERVAL)")
	keyRate := fs.Float64("key-rate", serve.DefaultKeyRate.PerSecond, "RPCs per second each API key may make on this server, bursts of twice that; 0 for no limit (env BATON_KEY_RATE)")
	webhookRate := fs.Float64("webhook-rate", serve.DefaultWebhookRate.PerSecond, "webhook requests per second each channel may post to this server, bursts of twice that; 0 for no limit (env BATON_WEBHOOK_RATE)")
	var keep domain.Retention
	fs.DurationVar(&keep.Messages, "retention-messages", 0, "how long messages are kept where a channel does not say; 0 keeps them forever (env BATON_RETENTION_MESSAGES)")
	fs.DurationVar(&keep.Events, "retention-events", 0, "how long events are kept where a channel does not say; 0 keeps them forever (env BATON_RETENTION_EVENTS)")
	fs.DurationVar(&keep.Deliveries, "retention-deliveries", 0, "how long the webhook delivery log is kept where a channel does not say; 0 keeps it forever (env BATON_RETENTION_DELIVERIES)")
	return command(fs, true, "baton serve [flags]", "start the server (Connect, gRPC and gRPC-Web on one port)",
		"Serves the API, the console (/console/) and the web chat on --listen; logs where. Tracing\n"+
			"follows the standard OTEL_* variables and is off by default.",
		noArgs(func(ctx context.Context) error {
			if err := keep.Check(); err != nil || keep.Messages < 0 || keep.Events < 0 || keep.Deliveries < 0 {
				return fmt.Errorf("--retention-*: each must be 0 (forever) or at least %s", domain.MinRetention)
			}
			logger, err := telemetry.NewLogger(stderr, *logFormat, *logLevel)
			if err != nil {
				return fmt.Errorf("--log-format/--log-level: %w", err)
			}
			slog.SetDefault(logger)
			tuned := tuneGC()
			if *gaugeTTL < 0 {
				return fmt.Errorf("--gauge-interval: %v is negative", *gaugeTTL)
			}
			hooks, err := webhookConfig(*allow, *timeout, *schedule)
			if err != nil {
				return err
			}
			allowedOrigins, err := parseOrigins(*origins)
			if err != nil {
				return err
			}
			if sf.databaseURL == "" {
				if err := os.MkdirAll(sf.dataDir, 0o700); err != nil {
					return err
				}
				release, err := lockDataDir(sf.dataDir)
				if err != nil {
					return err
				}
				defer release()
			}
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			tel, err := telemetry.Setup(ctx, *debug != "")
			if err != nil {
				return err
			}
			defer tel.Shutdown(context.Background())
			if *debug != "" {
				if err := serveDebug(ctx, *debug, tel.Metrics); err != nil {
					return err
				}
			}
			srv, err := serve.New(ctx, serve.Config{
				Store: st, TracerProvider: tel.Tracer, MeterProvider: tel.Meter, GaugeTTL: *gaugeTTL, HeartbeatTimeout: *heartbeat, OffersHoldSeats: *offersHold, AllowedOrigins: allowedOrigins,
				Webhooks: hooks, ChannelAPIs: serve.ChannelAPIs{Meta: *metaAPI, Telegram: *telegramAPI}, Logger: logger,
				RateLimits: serve.RateLimits{Key: rate(*keyRate), Webhook: rate(*webhookRate)},
				Retention:  serve.RetentionConfig{Default: keep},
			})
			if err != nil {
				return err
			}
			l, err := net.Listen("tcp", *listen)
			if err != nil {
				return err
			}
			if tuned { // the floor's garbage is collected once the server turns idle (gc.go)
				go collectWhenIdle(ctx, srv.Activity)
			}
			base := "http://" + l.Addr().String()
			slog.Info("baton serving", "address", l.Addr().String(), "console", base+"/console/", "store", sf.where())
			return srv.Serve(ctx, l, *grace)
		}))
}

// serveDebug serves the metrics for Prometheus and net/http/pprof's handlers on addr, apart
// from the API so that they are never exposed with it, until ctx ends.
func serveDebug(ctx context.Context, addr string, metrics http.Handler) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--debug-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go srv.Serve(l) //nolint:errcheck // ends with ErrServerClosed when ctx does
	slog.Info("baton debug endpoints", "address", l.Addr().String())
	return nil
}

// webhookConfig parses the webhook flags.
func webhookConfig(allow string, timeout time.Duration, schedule string) (serve.WebhookConfig, error) {
	cfg := serve.WebhookConfig{Timeout: timeout, Retry: domain.DefaultRetryPolicy}
	if timeout <= 0 || timeout > 30*time.Second {
		// A delivery is leased for a minute: an attempt must end well within it.
		return cfg, fmt.Errorf("--webhook-timeout: %v is not between 0 and 30s", timeout)
	}
	for _, s := range splitList(allow) {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return cfg, fmt.Errorf("--webhook-allow-networks: %w", err)
		}
		cfg.AllowNetworks = append(cfg.AllowNetworks, p)
	}
	cfg.Retry.Schedule = nil
	for _, s := range splitList(schedule) {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return cfg, fmt.Errorf("--webhook-retry-schedule: %q is not a positive duration", s)
		}
		cfg.Retry.Schedule = append(cfg.Retry.Schedule, d)
	}
	if len(cfg.Retry.Schedule) == 0 {
		return cfg, errors.New("--webhook-retry-schedule: give at least one wait")
	}
	return cfg, nil
}

// parseOrigins parses --allowed-origins: "*", or origins as a browser sends them
// (scheme://host[:port], no path), which is all CORS ever compares.
func parseOrigins(s string) ([]string, error) {
	origins := splitList(s)
	for _, o := range origins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("--allowed-origins: %q is not an origin like https://desk.example.com", o)
		}
	}
	return origins, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// migrateCommand is "baton migrate".
func migrateCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	return command(fs, true, "baton migrate [flags]", "apply database migrations and exit",
		"Applies the embedded database migrations and exits (serve applies them too).",
		noArgs(func(ctx context.Context) error {
			if err := sf.migrate(ctx); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "migrated", sf.where())
			return nil
		}))
}

// operator is the principal of the command line: whoever can open the database is an admin.
var operator = domain.Principal{Role: domain.PrincipalAdmin, KeyID: "cli"}

// keysCommand is "baton keys": API keys, managed directly in the database.
func keysCommand(stdout io.Writer) *ff.Command {
	return group("keys", "baton keys create|list|delete [flags]", "manage API keys directly in the database",
		keysCreateCommand(stdout), keysListCommand(stdout), keysDeleteCommand())
}

func keysCreateCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("create", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	role := fs.String("role", "", "admin, bot, agent or service")
	subject := fs.String("subject", "", "the bot or agent id, for bot and agent keys")
	name := fs.String("name", "", "a name for the key")
	return command(fs, true, "baton keys create --role admin|bot|agent|service [--subject ID] [--name NAME] [flags]",
		"create a key and print its secret, shown once (only its hash is stored)", "",
		noArgs(func(ctx context.Context) error {
			return withApp(ctx, sf, func(a *app.App) error {
				return createKey(ctx, a, *name, domain.Role(*role), *subject, stdout)
			})
		}))
}

func keysListCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	return command(fs, true, "baton keys list [flags]", "list the keys: id, role, subject and name, never a secret", "",
		noArgs(func(ctx context.Context) error {
			return withApp(ctx, sf, func(a *app.App) error { return listKeys(ctx, a, stdout) })
		}))
}

func keysDeleteCommand() *ff.Command {
	fs := flag.NewFlagSet("delete", flag.ContinueOnError)
	var sf storeFlags
	sf.register(fs)
	cmd := command(fs, true, "baton keys delete KEY_ID [flags]", "delete a key: it stops working at once", "",
		func(ctx context.Context, args []string) error {
			if len(args) != 1 {
				return usageError("keys delete needs one KEY_ID, got %q", args)
			}
			return withApp(ctx, sf, func(a *app.App) error { return a.DeleteAPIKey(ctx, operator, args[0]) })
		})
	cmd.Flags = &argFirst{envFlags: cmd.Flags.(envFlags)} // "keys delete KEY_ID --data-dir DIR" parses the flags after the id
	return cmd
}

// withApp opens the store sf names and runs do with an app on it.
func withApp(ctx context.Context, sf storeFlags, do func(*app.App) error) error {
	st, err := sf.open(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	return do(app.New(app.Config{Store: st}))
}

func createKey(ctx context.Context, a *app.App, name string, role domain.Role, subject string, stdout io.Writer) error {
	switch role {
	case domain.PrincipalAdmin, domain.PrincipalService:
		if subject != "" {
			return fmt.Errorf("%s keys take no --subject", role)
		}
	case domain.PrincipalBot, domain.PrincipalAgent:
		if subject == "" {
			return fmt.Errorf("%s keys need --subject (the %s id)", role, role)
		}
	default:
		return errors.New("--role must be admin, bot, agent or service")
	}
	_, secret, err := a.CreateAPIKey(ctx, operator, name, role, subject)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

func listKeys(ctx context.Context, a *app.App, stdout io.Writer) error {
	page := store.Page{Size: 1000}
	for {
		keys, next, err := a.ListAPIKeys(ctx, operator, page)
		if err != nil {
			return err
		}
		for _, k := range keys {
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", k.ID, k.Role, k.SubjectID, k.DisplayName)
		}
		if next == "" {
			return nil
		}
		page.Cursor = next
	}
}
