// Package serve assembles Baton's HTTP server: every Connect service on one port (Connect,
// gRPC and gRPC-Web over HTTP/1.1 and h2c), the channels' webhooks, health, reflection, CORS,
// the agent console and web-chat widget, and the background work: timers, event publication, webhook delivery,
// the retention sweep.
package serve

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	connectcors "connectrpc.com/cors"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/otelconnect"
	"connectrpc.com/validate"
	"github.com/rs/cors"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/channel/meta"
	"github.com/batonhq/baton/server/channel/telegram"
	"github.com/batonhq/baton/server/channel/whatsapp"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
	"github.com/batonhq/baton/server/gateway"
	"github.com/batonhq/baton/server/metrics"
	"github.com/batonhq/baton/server/ratelimit"
	"github.com/batonhq/baton/server/rpc"
	"github.com/batonhq/baton/server/store"
	"github.com/batonhq/baton/server/ttlcache"
	"github.com/batonhq/baton/server/web"
	"github.com/batonhq/baton/server/webhook"
)

// Config configures a Server.
type Config struct {
	Store store.Store
	// Clock drives every rule and timer; the wall clock when nil. Tests inject their own.
	Clock app.Clock
	// TracerProvider receives RPC and ownership spans; tracing is off when nil.
	TracerProvider trace.TracerProvider
	// MeterProvider receives RPC metrics and Baton's own (server/metrics); metrics are off
	// when nil.
	MeterProvider metric.MeterProvider
	// GaugeTTL is how long gauges read from the database are reused; 0 reads them at every
	// collection.
	GaugeTTL time.Duration
	// TimerInterval is how often timers run; 1s when zero, never when negative (tests drive
	// them with RunTimers).
	TimerInterval time.Duration
	// HeartbeatTimeout is how long an agent stays online without a heartbeat.
	HeartbeatTimeout time.Duration
	// OffersHoldSeats counts live offers toward an agent's capacity when routing.
	OffersHoldSeats bool
	// MaxRequestBytes bounds a request body; 1 MiB when zero.
	MaxRequestBytes int64
	// AllowedOrigins are the browser origins CORS admits; none when empty, "*" for any.
	AllowedOrigins []string
	// CacheTTL is how long a checked API key, the channel a webhook names, or finding no webhook
	// at all, is trusted without reading it again: a key revoked, a channel secret changed or a
	// webhook created through another server takes effect here within it. 2s when zero, no
	// caching when negative.
	CacheTTL time.Duration
	// KeyCheckInterval is how often an open event stream checks its key was not revoked; 10s
	// when zero.
	KeyCheckInterval time.Duration
	// EventPollInterval is how often the event hub reads new events without being woken, as a
	// safety net for lost wake-ups; 1s when zero.
	EventPollInterval time.Duration
	// EventBuffer is how many events a stream may have waiting before it falls behind and
	// catches up from the store; events.DefaultBuffer when zero.
	EventBuffer int
	// StreamSends bounds the streams sending at once; half of GOMAXPROCS (at least one) when zero.
	StreamSends int
	// Webhooks configures webhook delivery.
	Webhooks WebhookConfig
	// RateLimits bound each API key's RPCs and each channel's webhooks.
	RateLimits RateLimits
	// Retention configures the retention sweep.
	Retention RetentionConfig
	// ChannelAPIs are where the channels' send APIs are; tests point them at fakes.
	ChannelAPIs ChannelAPIs
	Logger      *slog.Logger
}

// RetentionConfig configures the retention sweep (docs/retention.md).
type RetentionConfig struct {
	// Default is how long data is kept where a channel does not say; zero fields keep forever.
	Default domain.Retention
	// Interval is how often this server tries to sweep (one replica at a time does); 1m when
	// zero, never when negative (tests drive app.Sweeper themselves).
	Interval time.Duration
}

// ChannelAPIs are the base URLs of the channels' send APIs.
type ChannelAPIs struct {
	// Meta is the Graph API, version included, for Messenger, Instagram and WhatsApp.
	Meta string
	// Telegram is the Bot API.
	Telegram string
}

// Default send APIs.
const (
	DefaultMetaAPI     = "https://graph.facebook.com/v21.0"
	DefaultTelegramAPI = "https://api.telegram.org"
)

// WebhookConfig configures webhook delivery.
type WebhookConfig struct {
	// AllowNetworks are private networks webhooks may reach despite the SSRF guard (a test's
	// loopback, an internal bot's subnet).
	AllowNetworks []netip.Prefix
	// Timeout bounds one attempt; 5s when zero.
	Timeout time.Duration
	// Retry is the retry policy; domain.DefaultRetryPolicy when its schedule is empty.
	Retry domain.RetryPolicy
	// Concurrency bounds deliveries in flight; 32 when zero.
	Concurrency int
	// Interval is how often due retries are looked for without a wake-up; 1s when zero.
	Interval time.Duration
}

// RateLimits are token buckets per API key and per channel webhook, on this server alone: with
// N replicas a caller spread over them gets up to N times the rate. A zero Rate is the default,
// a negative PerSecond no limit.
type RateLimits struct {
	Key     ratelimit.Rate
	Webhook ratelimit.Rate
}

// Default rate limits: far above what a well-behaved bot or channel sends, well below what one
// runaway loop could.
var (
	DefaultKeyRate     = ratelimit.Rate{PerSecond: 1000, Burst: 2000}
	DefaultWebhookRate = ratelimit.Rate{PerSecond: 1000, Burst: 2000}
)

// limiter is a limiter at r, the default d when r is zero.
func limiter(r, d ratelimit.Rate) *ratelimit.Limiter {
	if r == (ratelimit.Rate{}) {
		r = d
	}
	return ratelimit.New(r)
}

// Server is a configured Baton server.
type Server struct {
	cfg      Config
	streams  chan struct{} // closed at shutdown: event streams end
	stopOnce sync.Once
	draining atomic.Bool // set when shutdown starts: not ready any more
	keys     *auth.Cache
	channels *ttlcache.Cache[domain.Channel]
	app      *app.App
	hub      *events.Hub
	// keysChanged and channelsChanged fire when this server revokes a key or changes a channel.
	keysChanged, channelsChanged *events.Signal
	dispatch                     *webhook.Dispatcher
	outbox                       *gateway.Outbox
	handler                      http.Handler
	activity                     atomic.Uint64 // requests started and ended
}

// Listener is a store that hears other processes commit events (PostgreSQL's LISTEN).
type Listener interface {
	Listen(ctx context.Context, onCommit func()) error
}

// New builds a server and prepares the database (the built-in default queue).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.TracerProvider == nil {
		cfg.TracerProvider = noop.NewTracerProvider()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	hub := events.NewHub(cfg.Store, cfg.StreamSends)
	var committed func(context.Context, []domain.Event)
	var attempted func(context.Context, domain.AttemptResult)
	if cfg.MeterProvider == nil {
		cfg.MeterProvider = metricnoop.NewMeterProvider()
	} else {
		m, err := newMetrics(cfg, hub)
		if err != nil {
			return nil, err
		}
		committed, attempted = m.Committed, m.WebhookAttempt
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 1 << 20
	}
	var keys *auth.Cache
	var channels *ttlcache.Cache[domain.Channel]
	ttl := cmp.Or(cfg.CacheTTL, 2*time.Second)
	if ttl > 0 {
		keys = auth.NewCache(ttl)
		channels = ttlcache.New[domain.Channel](ttl)
	}
	hub.Logger = cfg.Logger
	hub.Interval = cmp.Or(cfg.EventPollInterval, events.DefaultPollInterval)
	hub.Buffer = cmp.Or(cfg.EventBuffer, events.DefaultBuffer)
	// A Listener hears this server's own commits as well as the other replicas' (Serve), so a
	// commit need not also kick the hub.
	notify := hub.Kick
	if _, ok := cfg.Store.(Listener); ok {
		notify = nil
	}
	keysChanged, channelsChanged := &events.Signal{}, &events.Signal{}
	client := webhook.NewClient(webhook.Config{Timeout: cfg.Webhooks.Timeout, AllowNetworks: cfg.Webhooks.AllowNetworks})
	var dispatch *webhook.Dispatcher
	var outbox *gateway.Outbox
	a := app.New(app.Config{
		Store:            cfg.Store,
		Clock:            cfg.Clock,
		Tracer:           cfg.TracerProvider.Tracer("github.com/batonhq/baton/server/app"),
		Notify:           notify,
		Committed:        committed,
		Queued:           func() { dispatch.Kick(); outbox.Kick() },
		HeartbeatTimeout: cfg.HeartbeatTimeout,
		OffersHoldSeats:  cfg.OffersHoldSeats,
		KeyDeleted:       func(id string) { keys.Forget(id); keysChanged.Fire() },
		ChannelChanged:   func(id string) { channels.Forget(id); channelsChanged.Fire() },
		Verifier:         client,
		RenderEvent:      rpc.WebhookData,
		Retry:            cfg.Webhooks.Retry,
		NoWebhooksTTL:    ttl,
	})
	if err := a.Bootstrap(ctx); err != nil {
		return nil, err
	}
	dispatch = webhook.NewDispatcher(a, client, a.Now)
	dispatch.Concurrency = cmp.Or(cfg.Webhooks.Concurrency, dispatch.Concurrency)
	dispatch.Interval = cmp.Or(cfg.Webhooks.Interval, dispatch.Interval)
	dispatch.Tracer = cfg.TracerProvider.Tracer("github.com/batonhq/baton/server/webhook")
	dispatch.Logger = cfg.Logger
	dispatch.Attempted = attempted
	outbox = gateway.NewOutbox(a, senders(cfg.ChannelAPIs, client, a.Now))
	outbox.Logger = cfg.Logger
	outbox.Tracer = cfg.TracerProvider.Tracer("github.com/batonhq/baton/server/gateway")
	// New events may have brought webhook deliveries, here or on another replica. (Messages to
	// send wake the outbox of the replica that stored them; the others look every interval.)
	hub.OnEvents = dispatch.Kick
	s := &Server{cfg: cfg, streams: make(chan struct{}), keys: keys, channels: channels, app: a, hub: hub, dispatch: dispatch, outbox: outbox,
		keysChanged: keysChanged, channelsChanged: channelsChanged}
	h, err := s.routes()
	if err != nil {
		return nil, err
	}
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Counted for the GC policy (Activity): an atomic add each way, nothing else.
		s.activity.Add(1)
		defer s.activity.Add(1)
		h.ServeHTTP(w, r)
	})
	return s, nil
}

// Activity changes each time a request starts or ends: while it stays the same, the server is
// idle, but for the streams it holds open (the GC policy collects then).
func (s *Server) Activity() uint64 { return s.activity.Load() }

// newMetrics creates Baton's instruments, reading the gauges from the store and the open
// streams from the hub.
func newMetrics(cfg Config, hub *events.Hub) (*metrics.Metrics, error) {
	mc := metrics.Config{
		MeterProvider: cfg.MeterProvider,
		ChannelKind: func(ctx context.Context, id string) (kind domain.ChannelKind, err error) {
			err = cfg.Store.Read(ctx, func(tx store.Tx) error {
				ch, err := tx.GetChannel(ctx, id)
				kind = ch.Kind
				return err
			})
			return kind, err
		},
		Gauges: func(ctx context.Context) (g store.Gauges, err error) {
			err = cfg.Store.Read(ctx, func(tx store.Tx) error {
				g, err = tx.Gauges(ctx)
				return err
			})
			return g, err
		},
		GaugeTTL: cfg.GaugeTTL,
		Streams:  hub.Open,
	}
	if cfg.Clock != nil {
		mc.Now = cfg.Clock.Now
	}
	if p, ok := cfg.Store.(store.Pooled); ok {
		mc.Pools = p.PoolStats
	}
	return metrics.New(mc)
}

// App is the server's application layer (tests drive timers through it).
func (s *Server) App() *app.App { return s.app }

// senders are the channels' send APIs at the configured addresses. Generic channels post to
// their own URL, through the webhook client (its SSRF guard and allow-list); web chats have
// none: their stream is the delivery.
func senders(apis ChannelAPIs, hooks *webhook.Client, now func() time.Time) gateway.Senders {
	metaAPI, telegramAPI := cmp.Or(apis.Meta, DefaultMetaAPI), cmp.Or(apis.Telegram, DefaultTelegramAPI)
	client := &http.Client{}
	return gateway.Senders{
		domain.ChannelMessenger: meta.Messenger{BaseURL: metaAPI, Client: client},
		domain.ChannelInstagram: meta.Instagram{BaseURL: metaAPI, Client: client},
		domain.ChannelWhatsApp:  whatsapp.Sender{BaseURL: metaAPI, Client: client},
		domain.ChannelTelegram:  telegram.Sender{BaseURL: telegramAPI, Client: client},
		domain.ChannelGeneric:   gateway.GenericSender{Client: hooks, Now: now},
	}
}

// KickOutbox asks the outbox to look for messages due to be sent now (tests that move the clock
// use it instead of waiting for its interval).
func (s *Server) KickOutbox() { s.outbox.Kick() }

// KickDeliveries asks the dispatcher to look for due deliveries now (tests that move the clock
// use it instead of waiting for its interval).
func (s *Server) KickDeliveries() { s.dispatch.Kick() }

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.handler }

// services lists the fully-qualified names of the Baton services, for health and reflection.
var services = []string{
	batonv1connect.ConversationServiceName,
	batonv1connect.HandoverServiceName,
	batonv1connect.BotIntegrationServiceName,
	batonv1connect.EventServiceName,
	batonv1connect.ChannelServiceName,
	batonv1connect.RoutingServiceName,
	batonv1connect.ApiKeyServiceName,
	batonv1connect.WebChatServiceName,
}

func (s *Server) routes() (http.Handler, error) {
	interceptor, err := otelconnect.NewInterceptor(otelconnect.WithTracerProvider(s.cfg.TracerProvider), otelconnect.WithMeterProvider(s.cfg.MeterProvider))
	if err != nil {
		return nil, err
	}
	otel := callTraces{interceptor}
	opts := connect.WithHandlerOptions(
		connect.WithInterceptors(otel, auth.Interceptor{Store: s.cfg.Store, Cache: s.keys},
			ratelimit.Interceptor{Limiter: limiter(s.cfg.RateLimits.Key, DefaultKeyRate)}, validate.NewInterceptor()),
		connect.WithReadMaxBytes(int(s.cfg.MaxRequestBytes)),
		// Compressing a few hundred bytes costs more CPU than it saves on the wire.
		connect.WithCompressMinBytes(4096),
	)
	h := rpc.Handlers{App: s.app, Hub: s.hub, Stop: s.streams, KeyCheckInterval: s.cfg.KeyCheckInterval,
		KeysChanged: s.keysChanged, ChannelsChanged: s.channelsChanged}
	mux := http.NewServeMux()
	mux.Handle(batonv1connect.NewConversationServiceHandler(h, opts))
	mux.Handle(batonv1connect.NewHandoverServiceHandler(h, opts))
	mux.Handle(batonv1connect.NewBotIntegrationServiceHandler(h, opts))
	mux.Handle(batonv1connect.NewEventServiceHandler(h, opts, uncompressed))
	mux.Handle(batonv1connect.NewChannelServiceHandler(h, opts))
	mux.Handle(batonv1connect.NewRoutingServiceHandler(h, opts))
	mux.Handle(batonv1connect.NewApiKeyServiceHandler(h, opts))
	// The web chat is called from visitors' browsers: no API key, a visitor token instead.
	webchatOpts := connect.WithHandlerOptions(
		connect.WithInterceptors(otel, validate.NewInterceptor()),
		connect.WithReadMaxBytes(int(s.cfg.MaxRequestBytes)),
		connect.WithCompressMinBytes(4096),
	)
	mux.Handle(batonv1connect.NewWebChatServiceHandler(h, webchatOpts, uncompressed))
	mux.Handle(grpchealth.NewHandler(readyChecker{s: s, known: grpchealth.NewStaticChecker(services...)}))
	reflector := grpcreflect.NewStaticReflector(services...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	mux.HandleFunc("GET /livez", s.livez)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /healthz", s.readyz) // before /livez and /readyz; kept for existing probes
	web.Register(mux)
	gateway.Handler{App: s.app, Logger: s.cfg.Logger, Channels: s.channels, MaxBodyBytes: s.cfg.MaxRequestBytes,
		Limiter: limiter(s.cfg.RateLimits.Webhook, DefaultWebhookRate)}.Register(mux)
	return s.withCORS(http.MaxBytesHandler(mux, s.cfg.MaxRequestBytes+1024)), nil
}

// uncompressed turns compression off for the services that stream events: a stream's write goes
// to one client, so gzip would compress the same events once per stream, and with hundreds of
// streams that took more CPU than all the rest of fan-out (measured: a third of the server's).
var uncompressed = connect.WithCompression("gzip", nil, nil)

func (s *Server) withCORS(h http.Handler) http.Handler {
	if len(s.cfg.AllowedOrigins) == 0 {
		return h
	}
	return cors.New(cors.Options{
		AllowedOrigins: s.cfg.AllowedOrigins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Authorization"),
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         7200,
	}).Handler(h)
}

// Serve serves on l until ctx ends, then shuts down gracefully: it stops accepting, ends
// event streams (which never finish by themselves), waits up to grace for the other requests
// in flight, and stops the timers and the event hub last.
func (s *Server) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var tasks sync.WaitGroup
	defer func() {
		stopBackground()
		tasks.Wait()
	}()
	tasks.Go(func() { s.runTimers(background) })
	tasks.Go(func() { s.runSweeper(background) })
	tasks.Go(func() { s.hub.Run(background) })
	tasks.Go(func() { s.dispatch.Run(background) })
	tasks.Go(func() { s.outbox.Run(background) })
	if l, ok := s.cfg.Store.(Listener); ok {
		tasks.Go(func() {
			if err := l.Listen(background, s.hub.Kick); err != nil && background.Err() == nil {
				s.cfg.Logger.ErrorContext(background, "listen for events", "error", err)
			}
		})
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: s.handler, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	srv.RegisterOnShutdown(s.stopStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.cfg.Logger.Info("draining: shutting down once the requests in flight end", "grace", grace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, srv.Close()) // grace is over: cut what is left
	}
	if serveErr := <-errc; !errors.Is(serveErr, http.ErrServerClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}

func (s *Server) stopStreams() { s.stopOnce.Do(func() { close(s.streams) }) }

func (s *Server) runTimers(ctx context.Context) {
	interval := s.cfg.TimerInterval
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = time.Second
	}
	app.Scheduler{App: s.app, Interval: interval, OnError: func(ctx context.Context, err error) {
		s.cfg.Logger.ErrorContext(ctx, "timers", "error", err)
	}}.Run(ctx)
}

func (s *Server) runSweeper(ctx context.Context) {
	interval := s.cfg.Retention.Interval
	if interval < 0 {
		return
	}
	sw := &app.Sweeper{App: s.app, Default: s.cfg.Retention.Default, Interval: cmp.Or(interval, time.Minute),
		OnError: func(err error) { s.cfg.Logger.ErrorContext(ctx, "retention sweep", "error", err) }}
	sw.Run(ctx)
}
