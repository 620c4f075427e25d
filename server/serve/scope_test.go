package serve_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/domain"
)

// TestOutOfScopeIsAnsweredAsMissing: a bot asking for another bot's resources (its webhook and
// deliveries, the bot itself, its channel, conversation and handover, its events) gets exactly
// the answer it gets for an id that does not exist, so nothing tells it they exist or whose
// they are.
func TestOutOfScopeIsAnsweredAsMissing(t *testing.T) {
	h := start(t, loopback)
	ctx := context.Background()
	mine := h.world(0)
	theirs := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "theirs", DisplayName: "Theirs",
	}))(t).GetChannel()
	other := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Other"}))(t).GetBot()
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: other.GetId(), ChannelId: theirs.GetId()}))(t)
	otherAPI := h.key(batonv1.Role_ROLE_BOT, other.GetId())
	ep := newEndpoint(t)
	hook, _ := h.hook(otherAPI.Bots, &batonv1.CreateWebhookRequest{BotId: other.GetId(), Url: ep.srv.URL})
	conv := h.ingest(theirs.GetId(), "c", "m", "hi").GetConversation()
	ho := need(otherAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "x", QueueAnyway: true}))(t).GetHandover()
	deliveries := h.deliveries(hook.GetId())
	if len(deliveries) == 0 {
		t.Fatal("the other bot's webhook has no delivery")
	}
	from, to := timestamppb.New(h.clock.Now().Add(-time.Hour)), timestamppb.New(h.clock.Now().Add(time.Hour))

	bot := mine.botAPI
	calls := []struct {
		name     string
		existing string // the other bot's resource
		missing  string // an id of the same kind that does not exist
		call     func(id string) error
	}{
		{"GetWebhook", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.GetWebhook(ctx, &batonv1.GetWebhookRequest{WebhookId: id})
			return err
		}},
		{"UpdateWebhook", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.UpdateWebhook(ctx, &batonv1.UpdateWebhookRequest{WebhookId: id, InactivePolicy: batonv1.InactivePolicy_INACTIVE_POLICY_KEEP})
			return err
		}},
		{"DeleteWebhook", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.DeleteWebhook(ctx, &batonv1.DeleteWebhookRequest{WebhookId: id})
			return err
		}},
		{"VerifyWebhook", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: id})
			return err
		}},
		{"RotateWebhookSecret", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.RotateWebhookSecret(ctx, &batonv1.RotateWebhookSecretRequest{WebhookId: id})
			return err
		}},
		{"ListDeliveries by webhook", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.ListDeliveries(ctx, &batonv1.ListDeliveriesRequest{WebhookId: id})
			return err
		}},
		{"ListDeliveries by bot", other.GetId(), "bot_missing", func(id string) error {
			_, err := bot.Bots.ListDeliveries(ctx, &batonv1.ListDeliveriesRequest{BotId: id})
			return err
		}},
		{"Redeliver", deliveries[0].GetId(), "dlv_missing", func(id string) error {
			_, err := bot.Bots.Redeliver(ctx, &batonv1.RedeliverRequest{DeliveryId: id})
			return err
		}},
		{"RedeliverRange", hook.GetId(), "wh_missing", func(id string) error {
			_, err := bot.Bots.RedeliverRange(ctx, &batonv1.RedeliverRangeRequest{WebhookId: id, StartTime: from, EndTime: to})
			return err
		}},
		{"ListWebhooks", other.GetId(), "bot_missing", func(id string) error {
			_, err := bot.Bots.ListWebhooks(ctx, &batonv1.ListWebhooksRequest{BotId: id})
			return err
		}},
		{"CreateWebhook", other.GetId(), "bot_missing", func(id string) error {
			_, err := bot.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: id, Url: ep.srv.URL})
			return err
		}},
		{"GetBot", other.GetId(), "bot_missing", func(id string) error {
			_, err := bot.Bots.GetBot(ctx, &batonv1.GetBotRequest{BotId: id})
			return err
		}},
		{"GetChannel", theirs.GetId(), "ch_missing", func(id string) error {
			_, err := bot.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: id})
			return err
		}},
		{"GetConversation", conv.GetId(), "conv_missing", func(id string) error {
			_, err := bot.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: id})
			return err
		}},
		{"GetHandover", ho.GetId(), "ho_missing", func(id string) error {
			_, err := bot.Handovers.GetHandover(ctx, &batonv1.GetHandoverRequest{HandoverId: id})
			return err
		}},
		{"CancelHandover", ho.GetId(), "ho_missing", func(id string) error {
			_, err := bot.Handovers.CancelHandover(ctx, &batonv1.CancelHandoverRequest{HandoverId: id})
			return err
		}},
		{"ListEvents", other.GetId(), "bot_missing", func(id string) error {
			_, err := bot.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{BotId: id}})
			return err
		}},
	}
	for _, c := range calls {
		existing, missing := c.call(c.existing), c.call(c.missing)
		if code(existing) != connect.CodeNotFound || code(missing) != connect.CodeNotFound {
			t.Errorf("%s: %v for the other bot's, %v for a missing one; want NOT_FOUND for both", c.name, existing, missing)
			continue
		}
		a := strings.ReplaceAll(existing.Error(), c.existing, "<id>")
		b := strings.ReplaceAll(missing.Error(), c.missing, "<id>")
		if a != b {
			t.Errorf("%s: the answers differ:\n  other bot's: %s\n  missing:     %s", c.name, a, b)
		}
		if c.existing != other.GetId() && strings.Contains(existing.Error(), other.GetId()) {
			t.Errorf("%s: the answer names the owning bot: %v", c.name, existing)
		}
	}
}

// TestWhatAgentsReadOfChannelsAndBots: an agent lists and reads only the channels whose default
// queue it serves (all of them for a supervisor), never with their credentials, and reads a bot
// only when it is bound to such a channel.
func TestWhatAgentsReadOfChannelsAndBots(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1) // the agent serves the default queue, the world channel's default
	elsewhere := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Elsewhere"}))(t).GetQueue()
	generic := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "crm", DisplayName: "CRM", DefaultQueueId: elsewhere.GetId(),
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=", SendUrl: "https://crm.example.com/baton?token=abc"},
	}))(t).GetChannel()
	otherBot := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "CRM bot"}))(t).GetBot()
	need(h.admin.Bots.BindChannel(ctx, &batonv1.BindChannelRequest{BotId: otherBot.GetId(), ChannelId: generic.GetId()}))(t)
	mineToo := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "crm-2", DisplayName: "CRM 2", DefaultQueueId: domain.DefaultQueueID,
		Credentials: &batonv1.ChannelCredentials{WebhookSecret: "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=", SendUrl: "https://crm.example.com/two?token=abc"},
	}))(t).GetChannel()
	agent := w.agentAPI[0]

	list := need(agent.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}))(t).GetChannels()
	var ids []string
	for _, ch := range list {
		ids = append(ids, ch.GetId())
		if ch.GetSendUrl() != "" || ch.GetAppId() != "" {
			t.Errorf("an agent reads channel %s with send_url %q, app_id %q", ch.GetId(), ch.GetSendUrl(), ch.GetAppId())
		}
	}
	if len(ids) != 2 || !containsAll(ids, w.channel.GetId(), mineToo.GetId()) {
		t.Errorf("the agent lists channels %v, want %s and %s", ids, w.channel.GetId(), mineToo.GetId())
	}
	if got := need(agent.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: mineToo.GetId()}))(t).GetChannel(); got.GetSendUrl() != "" {
		t.Errorf("an agent reads send_url %q", got.GetSendUrl())
	}
	if _, err := agent.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: generic.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("an agent reading a channel of another queue: %v, want NOT_FOUND", err)
	}
	need(agent.Bots.GetBot(ctx, &batonv1.GetBotRequest{BotId: w.bot.GetId()}))(t)
	if _, err := agent.Bots.GetBot(ctx, &batonv1.GetBotRequest{BotId: otherBot.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("an agent reading the bot of another queue's channel: %v, want NOT_FOUND", err)
	}
	if _, err := agent.Bots.ListBots(ctx, &batonv1.ListBotsRequest{}); code(err) != connect.CodePermissionDenied {
		t.Errorf("an agent listing bots: %v, want PERMISSION_DENIED", err)
	}

	need(h.admin.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: w.agents[0].GetId(), Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR.Enum()}))(t)
	if n := len(need(agent.Channels.ListChannels(ctx, &batonv1.ListChannelsRequest{}))(t).GetChannels()); n != 3 {
		t.Errorf("a supervisor lists %d channels, want all 3", n)
	}
	if got := need(agent.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: generic.GetId()}))(t).GetChannel(); got.GetSendUrl() != "" {
		t.Errorf("a supervisor reads send_url %q", got.GetSendUrl())
	}
	if got := need(h.admin.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: generic.GetId()}))(t).GetChannel(); got.GetSendUrl() == "" {
		t.Error("an admin does not read send_url")
	}
}

func containsAll(list []string, want ...string) bool {
	for _, w := range want {
		found := false
		for _, v := range list {
			found = found || v == w
		}
		if !found {
			return false
		}
	}
	return true
}

// TestGenericChannelThatSendsNeedsASecret: a generic channel with a send_url signs its sends
// with its webhook secret, so creating or updating one without a secret is refused, naming the
// field, instead of every send failing after an hour of retries.
func TestGenericChannelThatSendsNeedsASecret(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	_, err := h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "crm",
		Credentials: &batonv1.ChannelCredentials{SendUrl: "https://crm.example.com/baton"},
	})
	if code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), "credentials.webhook_secret") {
		t.Errorf("create without a secret: %v, want INVALID_ARGUMENT naming credentials.webhook_secret", err)
	}
	ch := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "crm",
		Credentials: &batonv1.ChannelCredentials{SendUrl: "https://crm.example.com/baton", WebhookSecret: "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="},
	}))(t).GetChannel()
	_, err = h.admin.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{
		ChannelId: ch.GetId(), Credentials: &batonv1.ChannelCredentials{SendUrl: "https://crm.example.com/other"},
	})
	if code(err) != connect.CodeInvalidArgument {
		t.Errorf("update dropping the secret: %v, want INVALID_ARGUMENT", err)
	}
	if got := need(h.admin.Channels.GetChannel(ctx, &batonv1.GetChannelRequest{ChannelId: ch.GetId()}))(t).GetChannel(); got.GetSendUrl() != "https://crm.example.com/baton" {
		t.Errorf("the refused update changed the channel: send_url %q", got.GetSendUrl())
	}
}
