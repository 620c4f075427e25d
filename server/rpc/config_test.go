package rpc

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/auth"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store/sqlite"
)

// configEnv is a real app over a real SQLite store, with the handlers under test.
type configEnv struct {
	h     Handlers
	st    *sqlite.Store
	admin context.Context
}

func newConfigEnv(t *testing.T) configEnv {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "baton.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	a := app.New(app.Config{Store: st})
	if err := a.Bootstrap(ctx); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return configEnv{
		h:     Handlers{App: a},
		st:    st,
		admin: as(ctx, domain.PrincipalAdmin, ""),
	}
}

func as(ctx context.Context, role domain.Role, subject string) context.Context {
	return auth.WithPrincipal(ctx, domain.Principal{Role: role, KeyID: "k-" + string(role) + subject, SubjectID: subject})
}

// must takes a call's results and returns a check that fails the test on its error and
// otherwise returns its value: must(h.GetBot(ctx, req))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

// wantCode checks that err is a Connect error with code and returns it.
func wantCode(t *testing.T, err error, code connect.Code) *connect.Error {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a Connect error with code %v", err, code)
	}
	if ce.Code() != code {
		t.Fatalf("code = %v (%v), want %v", ce.Code(), ce, code)
	}
	return ce
}

// wantNotFound checks for NOT_FOUND carrying a ResourceInfo that names id.
func wantNotFound(t *testing.T, err error, id string) {
	t.Helper()
	ce := wantCode(t, err, connect.CodeNotFound)
	for _, d := range ce.Details() {
		v, derr := d.Value()
		if derr != nil {
			t.Fatalf("detail: %v", derr)
		}
		if ri, ok := v.(*errdetails.ResourceInfo); ok {
			if ri.GetResourceName() != id || ri.GetResourceType() == "" {
				t.Errorf("ResourceInfo = %v, want name %q and a type", ri, id)
			}
			return
		}
	}
	t.Fatalf("NOT_FOUND without ResourceInfo detail: %v", ce)
}

func (e configEnv) createChannel(t *testing.T, externalID string) *batonv1.Channel {
	t.Helper()
	return must(e.h.CreateChannel(e.admin, &batonv1.CreateChannelRequest{
		Kind: batonv1.ChannelKind_CHANNEL_KIND_TELEGRAM, ExternalId: externalID, DisplayName: "Support",
	}))(t).GetChannel()
}

func (e configEnv) createBot(t *testing.T) *batonv1.Bot {
	t.Helper()
	return must(e.h.CreateBot(e.admin, &batonv1.CreateBotRequest{DisplayName: "Rasa"}))(t).GetBot()
}

func (e configEnv) createAgent(t *testing.T, name string) *batonv1.Agent {
	t.Helper()
	return must(e.h.CreateAgent(e.admin, &batonv1.CreateAgentRequest{DisplayName: name}))(t).GetAgent()
}

func TestChannelRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	created := must(e.h.CreateChannel(e.admin, &batonv1.CreateChannelRequest{
		Kind:           batonv1.ChannelKind_CHANNEL_KIND_MESSENGER,
		ExternalId:     "page-1",
		DisplayName:    "Shop",
		SessionTimeout: durationpb.New(2 * time.Hour),
		Credentials:    &batonv1.ChannelCredentials{AppSecret: "s3cret"},
	}))(t).GetChannel()
	if created.GetId() == "" || created.GetKind() != batonv1.ChannelKind_CHANNEL_KIND_MESSENGER ||
		created.GetExternalId() != "page-1" || created.GetDisplayName() != "Shop" ||
		created.GetDefaultQueueId() != domain.DefaultQueueID ||
		created.GetSessionTimeout().AsDuration() != 2*time.Hour || !created.GetHasCredentials() ||
		created.GetEtag() == "" || created.GetCreateTime() == nil {
		t.Fatalf("created = %v", created)
	}

	got := must(e.h.GetChannel(e.admin, &batonv1.GetChannelRequest{ChannelId: created.GetId()}))(t).GetChannel()
	if !proto.Equal(got, created) {
		t.Errorf("get = %v, want %v", got, created)
	}

	e.createChannel(t, "tg-1")
	list := must(e.h.ListChannels(e.admin, &batonv1.ListChannelsRequest{}))(t)
	if n := len(list.GetChannels()); n != 2 {
		t.Errorf("list: %d channels, want 2", n)
	}
	filtered := must(e.h.ListChannels(e.admin, &batonv1.ListChannelsRequest{Kind: batonv1.ChannelKind_CHANNEL_KIND_MESSENGER}))(t)
	if len(filtered.GetChannels()) != 1 || filtered.GetChannels()[0].GetId() != created.GetId() {
		t.Errorf("list by kind = %v, want only %s", filtered.GetChannels(), created.GetId())
	}
	paged := must(e.h.ListChannels(e.admin, &batonv1.ListChannelsRequest{PageSize: 1}))(t)
	if len(paged.GetChannels()) != 1 || paged.GetNextPageToken() == "" {
		t.Errorf("first page = %v, want 1 channel and a next token", paged)
	}

	q := must(e.h.CreateQueue(e.admin, &batonv1.CreateQueueRequest{DisplayName: "VIP"}))(t).GetQueue()
	updated := must(e.h.UpdateChannel(e.admin, &batonv1.UpdateChannelRequest{
		ChannelId:      created.GetId(),
		Etag:           created.GetEtag(),
		DisplayName:    proto.String("Shop FR"),
		DefaultQueueId: proto.String(q.GetId()),
	}))(t).GetChannel()
	if updated.GetDisplayName() != "Shop FR" || updated.GetDefaultQueueId() != q.GetId() ||
		updated.GetSessionTimeout().AsDuration() != 2*time.Hour || !updated.GetHasCredentials() ||
		updated.GetEtag() == created.GetEtag() {
		t.Errorf("updated = %v", updated)
	}
	cleared := must(e.h.UpdateChannel(e.admin, &batonv1.UpdateChannelRequest{
		ChannelId: created.GetId(), Credentials: &batonv1.ChannelCredentials{},
	}))(t).GetChannel()
	if cleared.GetHasCredentials() || cleared.GetDisplayName() != "Shop FR" {
		t.Errorf("after replacing credentials with empty ones = %v", cleared)
	}

	_, err := e.h.UpdateChannel(e.admin, &batonv1.UpdateChannelRequest{
		ChannelId: created.GetId(), Etag: created.GetEtag(), DisplayName: proto.String("late"),
	})
	wantCode(t, err, connect.CodeAborted)
	_, err = e.h.DeleteChannel(e.admin, &batonv1.DeleteChannelRequest{ChannelId: created.GetId(), Etag: created.GetEtag()})
	wantCode(t, err, connect.CodeAborted)

	must(e.h.DeleteChannel(e.admin, &batonv1.DeleteChannelRequest{ChannelId: created.GetId(), Etag: cleared.GetEtag()}))(t)
	_, err = e.h.GetChannel(e.admin, &batonv1.GetChannelRequest{ChannelId: created.GetId()})
	wantNotFound(t, err, created.GetId())
}

func TestBotRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	created := must(e.h.CreateBot(e.admin, &batonv1.CreateBotRequest{
		DisplayName: "Rasa", Standby: true,
	}))(t).GetBot()
	if created.GetId() == "" || created.GetDisplayName() != "Rasa" || !created.GetActive() ||
		created.GetUnreachable() || !created.GetStandby() ||
		len(created.GetChannelIds()) != 0 || created.GetEtag() == "" {
		t.Fatalf("created = %v", created)
	}
	got := must(e.h.GetBot(e.admin, &batonv1.GetBotRequest{BotId: created.GetId()}))(t).GetBot()
	if !proto.Equal(got, created) {
		t.Errorf("get = %v, want %v", got, created)
	}
	list := must(e.h.ListBots(e.admin, &batonv1.ListBotsRequest{}))(t).GetBots()
	if len(list) != 1 || list[0].GetId() != created.GetId() {
		t.Errorf("list = %v", list)
	}

	updated := must(e.h.UpdateBot(e.admin, &batonv1.UpdateBotRequest{
		BotId: created.GetId(), Etag: created.GetEtag(), Standby: proto.Bool(false),
	}))(t).GetBot()
	if updated.GetDisplayName() != "Rasa" || updated.GetStandby() {
		t.Errorf("updated = %v", updated)
	}
	_, err := e.h.UpdateBot(e.admin, &batonv1.UpdateBotRequest{BotId: created.GetId(), Etag: created.GetEtag(), DisplayName: proto.String("late")})
	wantCode(t, err, connect.CodeAborted)

	ch := e.createChannel(t, "tg-1")
	bound := must(e.h.BindChannel(e.admin, &batonv1.BindChannelRequest{BotId: created.GetId(), ChannelId: ch.GetId()}))(t).GetBot()
	if !slices.Equal(bound.GetChannelIds(), []string{ch.GetId()}) {
		t.Errorf("bound channels = %v, want [%s]", bound.GetChannelIds(), ch.GetId())
	}
	if got := must(e.h.GetChannel(e.admin, &batonv1.GetChannelRequest{ChannelId: ch.GetId()}))(t).GetChannel().GetBotId(); got != created.GetId() {
		t.Errorf("channel bot = %q, want %q", got, created.GetId())
	}
	_, err = e.h.DeleteBot(e.admin, &batonv1.DeleteBotRequest{BotId: created.GetId()})
	wantCode(t, err, connect.CodeFailedPrecondition)

	off := must(e.h.DeactivateBot(e.admin, &batonv1.DeactivateBotRequest{BotId: created.GetId()}))(t).GetBot()
	on := must(e.h.ActivateBot(e.admin, &batonv1.ActivateBotRequest{BotId: created.GetId()}))(t).GetBot()
	if off.GetActive() || !on.GetActive() {
		t.Errorf("deactivate/activate: active %v then %v, want false then true", off.GetActive(), on.GetActive())
	}

	unbound := must(e.h.UnbindChannel(e.admin, &batonv1.UnbindChannelRequest{BotId: created.GetId(), ChannelId: ch.GetId()}))(t).GetBot()
	if len(unbound.GetChannelIds()) != 0 {
		t.Errorf("after unbind channels = %v", unbound.GetChannelIds())
	}
	_, err = e.h.UnbindChannel(e.admin, &batonv1.UnbindChannelRequest{BotId: created.GetId(), ChannelId: ch.GetId()})
	wantCode(t, err, connect.CodeFailedPrecondition)

	must(e.h.DeleteBot(e.admin, &batonv1.DeleteBotRequest{BotId: created.GetId(), Etag: unbound.GetEtag()}))(t)
	_, err = e.h.GetBot(e.admin, &batonv1.GetBotRequest{BotId: created.GetId()})
	wantNotFound(t, err, created.GetId())
}

func TestAgentRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	q := must(e.h.CreateQueue(e.admin, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	created := must(e.h.CreateAgent(e.admin, &batonv1.CreateAgentRequest{
		DisplayName: "Ada", Email: "ada@example.com", Skills: []string{"fr", "billing"},
		Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR, Team: "eu", Capacity: 3, QueueIds: []string{q.GetId()},
	}))(t).GetAgent()
	if created.GetId() == "" || created.GetDisplayName() != "Ada" || created.GetEmail() != "ada@example.com" ||
		!slices.Equal(created.GetSkills(), []string{"fr", "billing"}) ||
		created.GetRole() != batonv1.AgentRole_AGENT_ROLE_SUPERVISOR || created.GetTeam() != "eu" ||
		created.GetCapacity() != 3 || !slices.Equal(created.GetQueueIds(), []string{q.GetId()}) ||
		created.GetPresence() != batonv1.Presence_PRESENCE_OFFLINE || created.GetEtag() == "" {
		t.Fatalf("created = %v", created)
	}
	defaults := e.createAgent(t, "Bob")
	if defaults.GetRole() != batonv1.AgentRole_AGENT_ROLE_AGENT || defaults.GetCapacity() != domain.DefaultCapacity {
		t.Errorf("defaults = %v", defaults)
	}

	got := must(e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: created.GetId()}))(t).GetAgent()
	if !proto.Equal(got, created) {
		t.Errorf("get = %v, want %v", got, created)
	}
	if n := len(must(e.h.ListAgents(e.admin, &batonv1.ListAgentsRequest{}))(t).GetAgents()); n != 2 {
		t.Errorf("list: %d agents, want 2", n)
	}
	inQueue := must(e.h.ListAgents(e.admin, &batonv1.ListAgentsRequest{QueueId: q.GetId()}))(t).GetAgents()
	if len(inQueue) != 1 || inQueue[0].GetId() != created.GetId() {
		t.Errorf("list by queue = %v, want only %s", inQueue, created.GetId())
	}

	updated := must(e.h.UpdateAgent(e.admin, &batonv1.UpdateAgentRequest{
		AgentId:  created.GetId(),
		Etag:     created.GetEtag(),
		Role:     batonv1.AgentRole_AGENT_ROLE_AGENT.Enum(),
		Capacity: proto.Int32(5),
		Skills:   &batonv1.StringList{}, // set and empty: clears the skills
	}))(t).GetAgent()
	if updated.GetDisplayName() != "Ada" || updated.GetRole() != batonv1.AgentRole_AGENT_ROLE_AGENT ||
		updated.GetCapacity() != 5 || len(updated.GetSkills()) != 0 ||
		!slices.Equal(updated.GetQueueIds(), []string{q.GetId()}) || updated.GetTeam() != "eu" {
		t.Errorf("updated = %v", updated)
	}
	_, err := e.h.UpdateAgent(e.admin, &batonv1.UpdateAgentRequest{AgentId: created.GetId(), Etag: created.GetEtag(), Team: proto.String("us")})
	wantCode(t, err, connect.CodeAborted)
	_, err = e.h.UpdateAgent(e.admin, &batonv1.UpdateAgentRequest{AgentId: created.GetId(), QueueIds: &batonv1.StringList{Values: []string{"q_missing"}}})
	wantNotFound(t, err, "q_missing")

	before := must(e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: created.GetId()}))(t).GetAgent()
	hb := must(e.h.Heartbeat(as(e.admin, domain.PrincipalAgent, created.GetId()), &batonv1.HeartbeatRequest{}))(t)
	if hb.GetAgent().GetId() != created.GetId() || hb.GetAgent().GetLastSeenTime() == nil ||
		hb.GetNextHeartbeatWithin().AsDuration() != app.DefaultHeartbeatTimeout {
		t.Errorf("heartbeat = %v", hb)
	}
	// A heartbeat is not an edit: an admin holding the etag from before can still update.
	if hb.GetAgent().GetEtag() != before.GetEtag() {
		t.Errorf("heartbeat changed the etag from %s to %s", before.GetEtag(), hb.GetAgent().GetEtag())
	}

	current := must(e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: created.GetId()}))(t).GetAgent()
	must(e.h.DeleteAgent(e.admin, &batonv1.DeleteAgentRequest{AgentId: created.GetId(), Etag: current.GetEtag()}))(t)
	_, err = e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: created.GetId()})
	wantNotFound(t, err, created.GetId())
}

func TestQueueRoundTrip(t *testing.T) {
	e := newConfigEnv(t)
	created := must(e.h.CreateQueue(e.admin, &batonv1.CreateQueueRequest{
		DisplayName: "Billing", Skills: []string{"billing"}, OfferTimeout: durationpb.New(30 * time.Second),
	}))(t).GetQueue()
	if created.GetId() == "" || created.GetDisplayName() != "Billing" ||
		!slices.Equal(created.GetSkills(), []string{"billing"}) ||
		created.GetOfferTimeout().AsDuration() != 30*time.Second || created.GetEtag() == "" {
		t.Fatalf("created = %v", created)
	}
	defaulted := must(e.h.CreateQueue(e.admin, &batonv1.CreateQueueRequest{DisplayName: "Sales"}))(t).GetQueue()
	if defaulted.GetOfferTimeout().AsDuration() != domain.DefaultOfferTimeout {
		t.Errorf("default offer timeout = %v", defaulted.GetOfferTimeout())
	}

	got := must(e.h.GetQueue(e.admin, &batonv1.GetQueueRequest{QueueId: created.GetId()}))(t).GetQueue()
	if !proto.Equal(got, created) {
		t.Errorf("get = %v, want %v", got, created)
	}
	var ids []string
	for _, q := range must(e.h.ListQueues(e.admin, &batonv1.ListQueuesRequest{}))(t).GetQueues() {
		ids = append(ids, q.GetId())
	}
	if want := []string{domain.DefaultQueueID, created.GetId(), defaulted.GetId()}; !sameSet(ids, want) {
		t.Errorf("list = %v, want %v", ids, want)
	}

	updated := must(e.h.UpdateQueue(e.admin, &batonv1.UpdateQueueRequest{
		QueueId: created.GetId(), Etag: created.GetEtag(),
		Skills: &batonv1.StringList{Values: []string{"billing", "fr"}}, OfferTimeout: durationpb.New(time.Minute),
	}))(t).GetQueue()
	if updated.GetDisplayName() != "Billing" || !slices.Equal(updated.GetSkills(), []string{"billing", "fr"}) ||
		updated.GetOfferTimeout().AsDuration() != time.Minute {
		t.Errorf("updated = %v", updated)
	}
	_, err := e.h.UpdateQueue(e.admin, &batonv1.UpdateQueueRequest{QueueId: created.GetId(), Etag: created.GetEtag(), DisplayName: proto.String("late")})
	wantCode(t, err, connect.CodeAborted)

	must(e.h.DeleteQueue(e.admin, &batonv1.DeleteQueueRequest{QueueId: created.GetId(), Etag: updated.GetEtag()}))(t)
	_, err = e.h.GetQueue(e.admin, &batonv1.GetQueueRequest{QueueId: created.GetId()})
	wantNotFound(t, err, created.GetId())
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestConfigNotFound(t *testing.T) {
	e := newConfigEnv(t)
	const id = "missing"
	calls := map[string]func() error{
		"channel": func() error { _, err := e.h.GetChannel(e.admin, &batonv1.GetChannelRequest{ChannelId: id}); return err },
		"bot":     func() error { _, err := e.h.GetBot(e.admin, &batonv1.GetBotRequest{BotId: id}); return err },
		"agent":   func() error { _, err := e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: id}); return err },
		"queue":   func() error { _, err := e.h.GetQueue(e.admin, &batonv1.GetQueueRequest{QueueId: id}); return err },
		"update channel": func() error {
			_, err := e.h.UpdateChannel(e.admin, &batonv1.UpdateChannelRequest{ChannelId: id})
			return err
		},
		"delete bot": func() error { _, err := e.h.DeleteBot(e.admin, &batonv1.DeleteBotRequest{BotId: id}); return err },
		"delete api key": func() error {
			_, err := e.h.DeleteApiKey(e.admin, &batonv1.DeleteApiKeyRequest{ApiKeyId: id})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantNotFound(t, call(), id) })
	}
}

func TestConfigPermissions(t *testing.T) {
	e := newConfigEnv(t)
	bot := e.createBot(t)
	asBot := as(e.admin, domain.PrincipalBot, bot.GetId())
	_, err := e.h.CreateChannel(asBot, &batonv1.CreateChannelRequest{Kind: batonv1.ChannelKind_CHANNEL_KIND_GENERIC, ExternalId: "x"})
	wantCode(t, err, connect.CodePermissionDenied)
	_, err = e.h.ListChannels(asBot, &batonv1.ListChannelsRequest{})
	wantCode(t, err, connect.CodePermissionDenied)
	_, err = e.h.CreateApiKey(as(e.admin, domain.PrincipalService, ""), &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_ADMIN})
	wantCode(t, err, connect.CodePermissionDenied)

	// A bot reads itself and the channels it is bound to, nothing else.
	must(e.h.GetBot(asBot, &batonv1.GetBotRequest{BotId: bot.GetId()}))(t)
	other := e.createBot(t)
	_, err = e.h.GetBot(asBot, &batonv1.GetBotRequest{BotId: other.GetId()})
	wantCode(t, err, connect.CodeNotFound)
	ch := e.createChannel(t, "tg-1")
	_, err = e.h.GetChannel(asBot, &batonv1.GetChannelRequest{ChannelId: ch.GetId()})
	wantCode(t, err, connect.CodeNotFound)
	must(e.h.BindChannel(e.admin, &batonv1.BindChannelRequest{BotId: bot.GetId(), ChannelId: ch.GetId()}))(t)
	must(e.h.GetChannel(asBot, &batonv1.GetChannelRequest{ChannelId: ch.GetId()}))(t)
}

func TestDeleteQueueInUse(t *testing.T) {
	e := newConfigEnv(t)
	e.createChannel(t, "tg-1") // defaults to the built-in queue
	_, err := e.h.DeleteQueue(e.admin, &batonv1.DeleteQueueRequest{QueueId: domain.DefaultQueueID})
	ce := wantCode(t, err, connect.CodeFailedPrecondition)
	var found bool
	for _, d := range ce.Details() {
		if v, _ := d.Value(); v != nil {
			_, found = v.(*errdetails.PreconditionFailure)
		}
	}
	if !found {
		t.Errorf("FAILED_PRECONDITION without PreconditionFailure detail: %v", ce)
	}
	must(e.h.GetQueue(e.admin, &batonv1.GetQueueRequest{QueueId: domain.DefaultQueueID}))(t)
}

func TestCreateIdempotent(t *testing.T) {
	e := newConfigEnv(t)
	creates := map[string]func(requestID string) (string, error){
		"channel": func(rid string) (string, error) {
			r, err := e.h.CreateChannel(e.admin, &batonv1.CreateChannelRequest{
				Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site-" + rid, RequestId: rid,
			})
			return r.GetChannel().GetId(), err
		},
		"bot": func(rid string) (string, error) {
			r, err := e.h.CreateBot(e.admin, &batonv1.CreateBotRequest{DisplayName: "b", RequestId: rid})
			return r.GetBot().GetId(), err
		},
		"agent": func(rid string) (string, error) {
			r, err := e.h.CreateAgent(e.admin, &batonv1.CreateAgentRequest{DisplayName: "a", RequestId: rid})
			return r.GetAgent().GetId(), err
		},
		"queue": func(rid string) (string, error) {
			r, err := e.h.CreateQueue(e.admin, &batonv1.CreateQueueRequest{DisplayName: "q", RequestId: rid})
			return r.GetQueue().GetId(), err
		},
	}
	for kind, create := range creates {
		t.Run(kind, func(t *testing.T) {
			first := must(create("req-1"))(t)
			again := must(create("req-1"))(t)
			if first == "" || again != first {
				t.Errorf("retried create returned %q, first returned %q", again, first)
			}
			if other := must(create("req-2"))(t); other == first {
				t.Errorf("another request id returned the same id %q", other)
			}
		})
	}
}

func TestApiKeys(t *testing.T) {
	e := newConfigEnv(t)
	ctx := t.Context()
	bot := e.createBot(t)
	created := must(e.h.CreateApiKey(e.admin, &batonv1.CreateApiKeyRequest{
		DisplayName: "rasa prod", Role: batonv1.Role_ROLE_BOT, SubjectId: bot.GetId(),
	}))(t)
	key := created.GetApiKey()
	if created.GetSecret() == "" || key.GetId() == "" || key.GetRole() != batonv1.Role_ROLE_BOT ||
		key.GetSubjectId() != bot.GetId() || key.GetDisplayName() != "rasa prod" || key.GetCreateTime() == nil {
		t.Fatalf("created = %v", created)
	}

	p, err := auth.Authenticate(ctx, e.st, created.GetSecret())
	if err != nil {
		t.Fatalf("authenticate new key: %v", err)
	}
	if want := (domain.Principal{KeyID: key.GetId(), Role: domain.PrincipalBot, SubjectID: bot.GetId()}); p != want {
		t.Errorf("principal = %+v, want %+v", p, want)
	}
	if _, err := auth.Authenticate(ctx, e.st, key.GetId()+".wrong"); err == nil {
		t.Error("a wrong secret with the right id was accepted")
	}

	_, err = e.h.CreateApiKey(e.admin, &batonv1.CreateApiKeyRequest{Role: batonv1.Role_ROLE_AGENT, SubjectId: "agt_missing"})
	wantNotFound(t, err, "agt_missing")

	keys := must(e.h.ListApiKeys(e.admin, &batonv1.ListApiKeysRequest{}))(t).GetApiKeys()
	if len(keys) != 1 || !proto.Equal(keys[0], key) {
		t.Errorf("list = %v, want [%v]", keys, key)
	}

	must(e.h.DeleteApiKey(e.admin, &batonv1.DeleteApiKeyRequest{ApiKeyId: key.GetId()}))(t)
	if _, err := auth.Authenticate(ctx, e.st, created.GetSecret()); err == nil {
		t.Error("a deleted key was accepted")
	}
	if keys := must(e.h.ListApiKeys(e.admin, &batonv1.ListApiKeysRequest{}))(t).GetApiKeys(); len(keys) != 0 {
		t.Errorf("list after delete = %v", keys)
	}
}

func TestSetPresence(t *testing.T) {
	e := newConfigEnv(t)
	ada, bob := e.createAgent(t, "Ada"), e.createAgent(t, "Bob")
	asAda := as(e.admin, domain.PrincipalAgent, ada.GetId())

	online := must(e.h.SetPresence(asAda, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t).GetAgent()
	if online.GetId() != ada.GetId() || online.GetPresence() != batonv1.Presence_PRESENCE_ONLINE {
		t.Errorf("set own presence = %v", online)
	}
	away := must(e.h.SetPresence(asAda, &batonv1.SetPresenceRequest{AgentId: ada.GetId(), Presence: batonv1.Presence_PRESENCE_AWAY}))(t).GetAgent()
	if away.GetPresence() != batonv1.Presence_PRESENCE_AWAY {
		t.Errorf("set own presence by id = %v", away)
	}
	stored := must(e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: ada.GetId()}))(t).GetAgent()
	if stored.GetPresence() != batonv1.Presence_PRESENCE_AWAY || stored.GetEtag() != away.GetEtag() {
		t.Errorf("stored = %v, want away with etag %s", stored, away.GetEtag())
	}

	_, err := e.h.SetPresence(asAda, &batonv1.SetPresenceRequest{AgentId: bob.GetId(), Presence: batonv1.Presence_PRESENCE_ONLINE})
	wantCode(t, err, connect.CodePermissionDenied)
	_, err = e.h.Heartbeat(asAda, &batonv1.HeartbeatRequest{AgentId: bob.GetId()})
	wantCode(t, err, connect.CodePermissionDenied)
	if got := must(e.h.GetAgent(e.admin, &batonv1.GetAgentRequest{AgentId: bob.GetId()}))(t).GetAgent(); got.GetPresence() != batonv1.Presence_PRESENCE_OFFLINE {
		t.Errorf("bob's presence changed to %v", got.GetPresence())
	}

	byAdmin := must(e.h.SetPresence(e.admin, &batonv1.SetPresenceRequest{AgentId: bob.GetId(), Presence: batonv1.Presence_PRESENCE_ONLINE}))(t).GetAgent()
	if byAdmin.GetPresence() != batonv1.Presence_PRESENCE_ONLINE {
		t.Errorf("admin set presence = %v", byAdmin)
	}
	onlineOnly := must(e.h.ListAgents(e.admin, &batonv1.ListAgentsRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t).GetAgents()
	if len(onlineOnly) != 1 || onlineOnly[0].GetId() != bob.GetId() {
		t.Errorf("online agents = %v, want only %s", onlineOnly, bob.GetId())
	}
}
