package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// TestMetricsScrape starts "baton serve" with --debug-listen, scrapes /metrics, drives a
// handoff and an accept through the API, and checks what must move: messages in, handoffs,
// the waiting gauge (up at the handoff, down at the accept), time to accept, and the load; and
// that RPC, Go runtime and connection pool metrics are there.
func TestMetricsScrape(t *testing.T) {
	for _, v := range []string{"OTEL_METRICS_EXPORTER", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		t.Setenv(v, "") // nothing exported elsewhere: the scrape alone
	}
	dir := t.TempDir()
	key, err := runCmd(t, "keys", "create", "--data-dir", dir, "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	api, debug := serveForTest(t, "--data-dir", dir, "--gauge-interval", "0")
	ctx := context.Background()
	admin := client.New(api, strings.TrimSpace(key))

	before := scrape(t, debug)
	ch := need(admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site", DisplayName: "Website",
	}))(t).GetChannel()
	bot := need(admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "bot"}))(t).GetBot()
	need(admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: bot.GetId(), ChannelId: ch.GetId()}))(t)
	agent := need(admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{
		DisplayName: "Agent", QueueIds: []string{domain.DefaultQueueID}, Capacity: 2,
	}))(t).GetAgent()
	agentAPI := client.New(api, need(admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_AGENT, SubjectId: agent.GetId()}))(t).GetSecret())
	botAPI := client.New(api, need(admin.APIKeys.CreateApiKey(ctx, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_BOT, SubjectId: bot.GetId()}))(t).GetSecret())
	need(agentAPI.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	conv := need(admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: ch.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "cust"}, ChannelMessageId: "m-1",
		Content: &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: "a human please"}}},
	}))(t).GetConversation()

	ho := need(botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "human"}))(t).GetHandover()
	handedOff := scrape(t, debug)
	need(agentAPI.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	accepted := scrape(t, debug)

	waiting := `baton_queue_waiting{queue="default"}`
	for _, c := range []struct {
		name                        string
		before, handedOff, accepted float64
		got0, got1, got2            scraped
	}{
		{`baton_messages_total{direction="inbound",channel_kind="webchat",status="received"}`, 0, 1, 1, before, handedOff, accepted},
		{`baton_handoffs_total{outcome="offered"}`, 0, 1, 1, before, handedOff, accepted},
		{waiting, 0, 1, 0, before, handedOff, accepted},
		{`baton_handover_time_to_accept_seconds_count`, 0, 0, 1, before, handedOff, accepted},
		{`baton_agents{presence="online"}`, 0, 1, 1, before, handedOff, accepted},
		{`baton_agents_engaged`, 0, 0, 1, before, handedOff, accepted},
	} {
		got := []float64{c.got0.value(c.name), c.got1.value(c.name), c.got2.value(c.name)}
		if want := []float64{c.before, c.handedOff, c.accepted}; !slices.Equal(got, want) {
			t.Errorf("%s before, after the handoff, after the accept = %v, want %v", c.name, got, want)
		}
	}
	for _, name := range []string{
		`rpc_server_call_duration_seconds_count{rpc_method="baton.v1.HandoverService/AcceptHandover",rpc_response_status_code="OK"}`, // otelconnect
		`go_goroutine_count`, // Go runtime
		`baton_db_pool_max_connections{pool="sqlite_reader"}`,
		`baton_streams_open`,
	} {
		if !accepted.has(name) {
			t.Errorf("no %s in the scrape", name)
		}
	}
}

// serveForTest runs "baton serve" on loopback ports until the test ends and returns the
// API's and the debug listener's base URLs, read from its log.
func serveForTest(t *testing.T, args ...string) (api, debug string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--listen", "127.0.0.1:0", "--debug-listen", "127.0.0.1:0", "--log-format", "json"}, args...), io.Discard, w)
		w.Close()
	}()
	addresses := make(chan [2]string, 1)
	go func() {
		var found [2]string
		lines := bufio.NewScanner(logs)
		for lines.Scan() { // to the end: the server must never block on its log
			var r struct{ Msg, Address string }
			if json.Unmarshal(lines.Bytes(), &r) != nil {
				continue
			}
			switch r.Msg {
			case "baton debug endpoints":
				found[1] = "http://" + r.Address
			case "baton serving":
				found[0] = "http://" + r.Address
				addresses <- found
			}
		}
		close(addresses)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	found, ok := <-addresses
	if !ok || found[1] == "" {
		t.Fatalf("serve ended or logged no debug address: %v", <-done)
	}
	return found[0], found[1]
}

// scraped is one scrape: each series ("name{labels}") and its value.
type scraped map[string]float64

func scrape(t *testing.T, base string) scraped {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", res.Status)
	}
	m := scraped{}
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

// value sums the series of name{labels} whose labels include every label given; 0 when none.
func (m scraped) value(series string) float64 {
	var sum float64
	for s, v := range m {
		if matches(s, series) {
			sum += v
		}
	}
	return sum
}

func (m scraped) has(series string) bool {
	for s := range m {
		if matches(s, series) {
			return true
		}
	}
	return false
}

// matches reports whether sample s is of the metric series names, with at least its labels.
func matches(s, series string) bool {
	name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	sName, sLabels, _ := strings.Cut(strings.TrimSuffix(s, "}"), "{")
	if sName != name {
		return false
	}
	have := strings.Split(sLabels, ",")
	for _, l := range strings.Split(labels, ",") {
		if l != "" && !slices.Contains(have, l) {
			return false
		}
	}
	return true
}

// need returns v, failing the test if err is not nil.
func need[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
