package serve_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// TestConcurrentPresenceIsSerialized has an agent's presence set by many callers at once, on two
// replicas: none carries an etag, so every call succeeds, and none is lost.
func TestConcurrentPresenceIsSerialized(t *testing.T) {
	hs := replicas(t, 2)
	w := hs[0].world(1)
	agentID := w.agents[0].GetId()
	const callers, calls = 8, 12
	presences := []batonv1.Presence{batonv1.Presence_PRESENCE_AWAY, batonv1.Presence_PRESENCE_ONLINE}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, callers*calls)
	for i := range callers {
		api := hs[i%2].client(secret(t, hs[0], batonv1.Role_ROLE_AGENT, agentID))
		wg.Go(func() {
			<-start
			for j := range calls {
				_, err := api.Routing.SetPresence(context.Background(), &batonv1.SetPresenceRequest{Presence: presences[(i+j)%2]})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("SetPresence: %v (%v)", err, code(err))
	}
	// Each change was made on the latest row: the presences the changes announce alternate,
	// each at the revision after the one before.
	var last *batonv1.Agent
	for _, e := range allEvents(t, hs[0], batonv1.EventType_EVENT_TYPE_AGENT_PRESENCE_CHANGED) {
		ag := e.GetAgent()
		if last != nil && (ag.GetPresence() == last.GetPresence() || ag.GetEtag() != strconv.Itoa(mustAtoi(t, last.GetEtag())+1)) {
			t.Errorf("presence %v at etag %s after %v at etag %s", ag.GetPresence(), ag.GetEtag(), last.GetPresence(), last.GetEtag())
		}
		last = ag
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("etag %q: %v", s, err)
	}
	return n
}

// TestConcurrentUpdatesWithoutEtag updates each kind of configuration at once from many callers
// on two replicas, none sending an etag: every update succeeds (none is ABORTED), as each waits
// for the one before instead of failing on its revision.
func TestConcurrentUpdatesWithoutEtag(t *testing.T) {
	hs := replicas(t, 2)
	ctx := context.Background()
	w := hs[0].world(1)
	hook := need(hs[0].admin.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: w.bot.GetId(), Url: "https://example.test/hook"}))(t).GetWebhook()
	updates := map[string]func(api *client.Client, n string) error{
		"UpdateChannel": func(api *client.Client, n string) error {
			_, err := api.Channels.UpdateChannel(ctx, &batonv1.UpdateChannelRequest{ChannelId: w.channel.GetId(), DisplayName: &n})
			return err
		},
		"UpdateBot": func(api *client.Client, n string) error {
			_, err := api.Bots.UpdateBot(ctx, &batonv1.UpdateBotRequest{BotId: w.bot.GetId(), DisplayName: &n})
			return err
		},
		"UpdateAgent": func(api *client.Client, n string) error {
			_, err := api.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: w.agents[0].GetId(), DisplayName: &n})
			return err
		},
		"UpdateQueue": func(api *client.Client, n string) error {
			_, err := api.Routing.UpdateQueue(ctx, &batonv1.UpdateQueueRequest{QueueId: "default", DisplayName: &n})
			return err
		},
		"UpdateWebhook": func(api *client.Client, n string) error {
			_, err := api.Bots.UpdateWebhook(ctx, &batonv1.UpdateWebhookRequest{WebhookId: hook.GetId(),
				Filters: &batonv1.WebhookFilters{ChannelIds: []string{w.channel.GetId()}}})
			return err
		},
	}
	const callers, calls = 6, 4
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, len(updates)*callers*calls)
	for name, update := range updates {
		for i := range callers {
			api := hs[i%2].admin
			wg.Go(func() {
				<-start
				for j := range calls {
					if err := update(api, fmt.Sprint(name, " ", i, ".", j)); err != nil {
						errs <- fmt.Errorf("%s: %w (%v)", name, err, code(err))
					}
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
