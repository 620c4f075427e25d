package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// The fan-out load: N streams open on Subscribe while messages are ingested at an offered rate.
// Each stream selects the channel's received messages (or, with NoMatch, nothing at all), and
// records when each event arrives. Its ceiling is the same N streams fed from memory, at the same
// rate, by a bare Connect server (FanoutCeiling).

// FanoutConfig describes one fan-out load.
type FanoutConfig struct {
	Ingest  IngestConfig // the offered messages; its Rate and Duration are the load's
	Streams int
	// NoMatch opens streams whose filter selects nothing: what idle streams cost ingest.
	NoMatch bool
	// Drain bounds the wait, after the load, for the streams to get the last events.
	Drain time.Duration
}

// FanoutResult summarises a fan-out load.
type FanoutResult struct {
	Ingest     Result // nothing for a ceiling
	Streams    int
	Deliveries int // events received, all streams together
	Writes     int // stream messages received (several events may share one)
	Elapsed    time.Duration
	Latencies  []time.Duration // commit (the event's time) to delivery, a sample of them, sorted
	Gaps       int             // events a stream should have had and never got, all streams together
	Repeats    int             // events a stream got twice, or out of order
}

// DeliveryRate is events delivered per second, all streams together.
func (r FanoutResult) DeliveryRate() float64 { return float64(r.Deliveries) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile commit → delivery latency.
func (r FanoutResult) Percentile(p float64) time.Duration {
	return Result{Latencies: r.Latencies}.Percentile(p)
}

func (r FanoutResult) String() string {
	perWrite := 0.0
	if r.Writes > 0 {
		perWrite = float64(r.Deliveries) / float64(r.Writes)
	}
	return fmt.Sprintf("%d streams: %.0f deliveries/s (%.1f events per write), commit → delivery p50 %.1f ms, p99 %.1f ms; gaps %d, repeats %d",
		r.Streams, r.DeliveryRate(), perWrite, ms(r.Percentile(50)), ms(r.Percentile(99)), r.Gaps, r.Repeats)
}

// h2c is an HTTP/2 client without TLS: streams share connections as gRPC clients' do.
func h2c() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr}
}

// streamLog is what one stream received.
type streamLog struct {
	mu        sync.Mutex
	sequences []uint64
	writes    int
	latencies []time.Duration
}

func (l *streamLog) receive(res *batonv1.SubscribeResponse, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	for _, e := range res.GetEvents() {
		l.sequences = append(l.sequences, e.GetEvent().GetSequence())
		l.latencies = append(l.latencies, now.Sub(e.GetEvent().GetCreateTime().AsTime()))
	}
}

func (l *streamLog) last() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.sequences) == 0 {
		return 0
	}
	return l.sequences[len(l.sequences)-1]
}

// OpenStreams opens n Subscribe streams on url after the cursor, with filter, and records what
// they receive until ctx ends. It returns once every stream has its response headers.
func OpenStreams(ctx context.Context, url, key string, n int, after uint64, filter *batonv1.EventFilter) ([]*streamLog, func(), error) {
	hc := h2c()
	c := client.New(url, key, client.WithHTTPClient(hc))
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop := func() { cancel(); wg.Wait(); hc.CloseIdleConnections() }
	logs := make([]*streamLog, n)
	opened := make(chan error, n)
	for i := range logs {
		l := &streamLog{}
		logs[i] = l
		wg.Go(func() {
			stream, err := c.Events.Subscribe(ctx, &batonv1.SubscribeRequest{AfterSequence: &after, Filter: filter})
			if err == nil {
				_, err = stream.ResponseHeader(), stream.Err()
			}
			opened <- err
			if err != nil {
				return
			}
			defer stream.Close()
			for stream.Receive() {
				l.receive(stream.Msg(), time.Now())
			}
		})
	}
	for range n {
		if err := <-opened; err != nil {
			stop()
			return nil, nil, err
		}
	}
	return logs, stop, nil
}

// Fanout measures ingest and delivery with cfg.Streams streams open on Baton.
func Fanout(ctx context.Context, cfg FanoutConfig) (FanoutResult, error) {
	c := client.New(cfg.Ingest.URL, cfg.Ingest.APIKey)
	// A first message sets the cursor every stream starts after.
	marker, err := c.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: cfg.Ingest.ChannelID, ChannelMessageId: cfg.Ingest.RunID + "-marker",
		Contact: &batonv1.ContactProfile{ExternalId: "bench-marker"},
		Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: "marker"}}},
	})
	if err != nil {
		return FanoutResult{}, fmt.Errorf("marker message: %w", err)
	}
	list, err := c.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		ConversationId: marker.GetMessage().GetConversationId(), Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED},
	}, PageSize: 1000})
	if err != nil || len(list.GetEvents()) == 0 {
		return FanoutResult{}, fmt.Errorf("marker event: %v", err)
	}
	cursor := list.GetEvents()[len(list.GetEvents())-1].GetSequence()
	filter := &batonv1.EventFilter{ChannelId: cfg.Ingest.ChannelID, Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}}
	if cfg.NoMatch {
		filter = &batonv1.EventFilter{ConversationId: "bench-nothing"}
	}
	logs, stop, err := OpenStreams(ctx, cfg.Ingest.URL, cfg.Ingest.APIKey, cfg.Streams, cursor, filter)
	if err != nil {
		return FanoutResult{}, fmt.Errorf("open streams: %w", err)
	}
	defer stop()
	start := time.Now()
	ing, err := Ingest(ctx, cfg.Ingest)
	if err != nil {
		return FanoutResult{}, err
	}
	var want []uint64
	if !cfg.NoMatch {
		if want, err = stored(ctx, c, cursor, filter); err != nil {
			return FanoutResult{}, err
		}
		drain(logs, want, cfg.Drain)
	}
	res := collect(logs, want, time.Since(start))
	res.Ingest = ing
	return res, nil
}

// stored lists the sequences of the events filter selects after cursor.
func stored(ctx context.Context, c *client.Client, cursor uint64, filter *batonv1.EventFilter) ([]uint64, error) {
	var out []uint64
	for {
		page, err := c.Events.ListEvents(ctx, &batonv1.ListEventsRequest{AfterSequence: cursor, Filter: filter, PageSize: 1000})
		if err != nil {
			return nil, err
		}
		for _, e := range page.GetEvents() {
			out = append(out, e.GetSequence())
		}
		if len(page.GetEvents()) == 0 {
			return out, nil
		}
		cursor = page.GetCursor()
	}
}

// drain waits, up to limit, for every stream to have the last event.
func drain(logs []*streamLog, want []uint64, limit time.Duration) {
	if len(want) == 0 {
		return
	}
	deadline := time.Now().Add(limit)
	for _, l := range logs {
		for l.last() < want[len(want)-1] && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// collect sums the streams' logs: deliveries counted over elapsed, gaps and repeats against want
// (when given; a ceiling's streams check their sequences are consecutive instead).
func collect(logs []*streamLog, want []uint64, elapsed time.Duration) FanoutResult {
	res := FanoutResult{Streams: len(logs), Elapsed: elapsed}
	for _, l := range logs {
		l.mu.Lock()
		res.Deliveries += len(l.sequences)
		res.Writes += l.writes
		// Keep at most 10,000 latencies a stream: enough for a p99, bounded in memory.
		step := max(1, len(l.latencies)/10_000)
		for i := 0; i < len(l.latencies); i += step {
			res.Latencies = append(res.Latencies, l.latencies[i])
		}
		gaps, repeats := check(l.sequences, want)
		res.Gaps += gaps
		res.Repeats += repeats
		l.mu.Unlock()
	}
	slices.Sort(res.Latencies)
	return res
}

// check counts what got lacks of want, and what it holds twice or out of order. Without want,
// got should be consecutive.
func check(got, want []uint64) (gaps, repeats int) {
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			repeats++
		} else if want == nil {
			gaps += int(got[i] - got[i-1] - 1)
		}
	}
	if want != nil {
		seen := make(map[uint64]bool, len(got))
		for _, s := range got {
			seen[s] = true
		}
		for _, s := range want {
			if !seen[s] {
				gaps++
			}
		}
	}
	return gaps, repeats
}

// RSS returns the resident memory of process pid, in bytes.
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// Retained returns the heap and the goroutine stacks in use in the server whose profiles
// (net/http/pprof) debugURL serves, right after collections it asks for: what the server keeps,
// without the garbage that waits for the next collection (RSS counts that too). It asks twice:
// what sync.Pools held at the first collection is freed by the second.
func Retained(ctx context.Context, debugURL string) (heap, stacks int64, err error) {
	if _, _, err := retained(ctx, debugURL); err != nil {
		return 0, 0, err
	}
	return retained(ctx, debugURL)
}

func retained(ctx context.Context, debugURL string) (heap, stacks int64, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(debugURL, "/")+"/debug/pprof/heap?debug=1&gc=1", nil)
	if err != nil {
		return 0, 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, 0, err
	}
	heap, stacks = -1, -1
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "# HeapAlloc = "); ok {
			heap, err = strconv.ParseInt(rest, 10, 64)
		} else if rest, ok := strings.CutPrefix(line, "# Stack = "); ok {
			inUse, _, _ := strings.Cut(rest, " ")
			stacks, err = strconv.ParseInt(inUse, 10, 64)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	if heap < 0 || stacks < 0 {
		return 0, 0, fmt.Errorf("%s: no memory statistics in the heap profile", debugURL)
	}
	return heap, stacks, nil
}

// FanoutCeiling is the fan-out's ceiling: a bare Connect server whose Subscribe feeds every stream
// from memory, at rate events per second, each event made once (as Baton's hub renders an event
// once for every stream) and written with whatever else waits for the stream. It serves on l
// until ctx ends.
func FanoutCeiling(ctx context.Context, l net.Listener, rate int) error {
	b := &bare{}
	mux := http.NewServeMux()
	mux.Handle(batonv1connect.NewEventServiceHandler(b))
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: mux, Protocols: protocols}
	go b.generate(ctx, rate)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// bare is the ceiling's EventService: Subscribe only.
type bare struct {
	batonv1connect.UnimplementedEventServiceHandler
	mu      sync.Mutex
	streams map[*bareStream]struct{}
	seq     atomic.Uint64
}

type bareStream struct {
	queue []*batonv1.SubscribedEvent
	ready chan struct{}
}

func (b *bare) Subscribe(ctx context.Context, _ *batonv1.SubscribeRequest, stream *connect.ServerStream[batonv1.SubscribeResponse]) error {
	s := &bareStream{ready: make(chan struct{}, 1)}
	b.mu.Lock()
	if b.streams == nil {
		b.streams = map[*bareStream]struct{}{}
	}
	b.streams[s] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.streams, s)
		b.mu.Unlock()
	}()
	if err := stream.Send(nil); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.ready:
		}
		b.mu.Lock()
		q := s.queue
		s.queue = nil
		b.mu.Unlock()
		if len(q) == 0 {
			continue
		}
		if err := stream.Send(&batonv1.SubscribeResponse{Events: q, Cursor: q[len(q)-1].GetEvent().GetSequence()}); err != nil {
			return err
		}
	}
}

// generate makes rate events a second, shaped as Baton's message.received, until ctx ends.
func (b *bare) generate(ctx context.Context, rate int) {
	start := time.Now()
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(due)):
		}
		e := bareEvent(b.seq.Add(1))
		b.mu.Lock()
		for s := range b.streams {
			s.queue = append(s.queue, e)
			select {
			case s.ready <- struct{}{}:
			default:
			}
		}
		b.mu.Unlock()
	}
}

func bareEvent(seq uint64) *batonv1.SubscribedEvent {
	n := strconv.FormatUint(seq, 10)
	now := timestamppb.Now()
	conv := "conv_ceiling" + strconv.FormatUint(seq%1000, 10)
	return &batonv1.SubscribedEvent{Responsible: true, Event: &batonv1.Event{
		Sequence: seq, Id: "ev_ceiling" + n, Type: batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED, CreateTime: now,
		ConversationId: conv, ChannelId: "ch_ceiling", BotId: "bot_ceiling", ContactId: "ct_ceiling",
		Actor: &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_CUSTOMER, Id: "ct_ceiling"},
		Owner: &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_BOT, Id: "bot_ceiling"}, Epoch: 1,
		Message: &batonv1.Message{
			Id: "msg_ceiling" + n, ConversationId: conv, ChannelId: "ch_ceiling",
			Direction: batonv1.MessageDirection_MESSAGE_DIRECTION_INBOUND,
			Sender:    &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_CUSTOMER, Id: "ct_ceiling"},
			Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{
				Text: "message " + n + " of a load test"}}},
			ChannelMessageId: "ceiling-" + n, Status: batonv1.DeliveryStatus_DELIVERY_STATUS_DELIVERED, CreateTime: now,
		},
	}}
}

// FanoutCeilingLoad measures streams on a bare ceiling server at url for duration.
func FanoutCeilingLoad(ctx context.Context, url string, streams int, duration time.Duration) (FanoutResult, error) {
	logs, stop, err := OpenStreams(ctx, url, "", streams, 0, nil)
	if err != nil {
		return FanoutResult{}, err
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-time.After(duration):
	}
	elapsed := time.Since(start)
	stop()
	return collect(logs, nil, elapsed), nil
}
