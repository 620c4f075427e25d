package serve_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// violations returns the fields an INVALID_ARGUMENT error names.
func violations(t *testing.T, err error) []string {
	t.Helper()
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		t.Fatalf("error %v, want INVALID_ARGUMENT", err)
	}
	var fields []string
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			t.Fatal(err)
		}
		switch v := v.(type) {
		case *errdetails.BadRequest: // the domain's
			for _, f := range v.GetFieldViolations() {
				fields = append(fields, f.GetField())
			}
		case *validate.Violations: // the proto's
			for _, viol := range v.GetViolations() {
				var path []string
				for _, e := range viol.GetField().GetElements() {
					path = append(path, e.GetFieldName())
				}
				fields = append(fields, strings.Join(path, "."))
			}
		}
	}
	return fields
}

func queueTarget(id string) *batonv1.HandoverTarget {
	return &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: id}}
}

// billingRule sends conversations whose customer wrote a billing word to queueID.
func billingRule(queueID string) *batonv1.CreateRoutingRuleRequest {
	return &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Billing words",
		When:        &batonv1.RuleConditions{Words: []string{"invoice", "refund", "billing"}},
		Then:        &batonv1.RuleAction{Target: queueTarget(queueID), Priority: 5, AddTags: []string{"billing"}},
	}
}

func ruleIDs(rules []*batonv1.RoutingRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, r.GetId())
	}
	return out
}

func TestRoutingRulesAPI(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	rt := h.admin.Routing
	billing := need(rt.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()

	// Validation: the proto's rules, then the domain's, each naming the field.
	for _, tc := range []struct {
		name  string
		req   *batonv1.CreateRoutingRuleRequest
		field string
	}{
		{"no name", &batonv1.CreateRoutingRuleRequest{Then: &batonv1.RuleAction{Priority: 1}}, "display_name"},
		{"no action", &batonv1.CreateRoutingRuleRequest{DisplayName: "x"}, "then"},
		{"priority out of range", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", Then: &batonv1.RuleAction{Priority: 5000}}, "then.priority"},
		{"undefined trigger", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", When: &batonv1.RuleConditions{Triggers: []batonv1.RouteTrigger{9}}, Then: &batonv1.RuleAction{Priority: 1}}, "when.triggers"},
		{"bad pattern", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", When: &batonv1.RuleConditions{Patterns: []string{"("}}, Then: &batonv1.RuleAction{Priority: 1}}, "when.patterns"},
		{"does nothing", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", Then: &batonv1.RuleAction{}}, "then"},
		{"no such queue", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", Then: &batonv1.RuleAction{Target: queueTarget("q-nope")}}, "then.target.queue_id"},
		{"no such channel", &batonv1.CreateRoutingRuleRequest{DisplayName: "x", ChannelId: "ch-nope", Then: &batonv1.RuleAction{Priority: 1}}, "channel_id"},
		{"tag change without tags", &batonv1.CreateRoutingRuleRequest{DisplayName: "x",
			When: &batonv1.RuleConditions{Triggers: []batonv1.RouteTrigger{batonv1.RouteTrigger_ROUTE_TRIGGER_TAG_CHANGE}},
			Then: &batonv1.RuleAction{Target: queueTarget(billing.GetId())}}, "when.tags"},
	} {
		_, err := rt.CreateRoutingRule(ctx, tc.req)
		if got := violations(t, err); !slices.Contains(got, tc.field) {
			t.Errorf("%s: violations %q, want %q", tc.name, got, tc.field)
		}
	}

	// Rules without a position go last; the list is in evaluation order.
	first := need(rt.CreateRoutingRule(ctx, billingRule(billing.GetId())))(t).GetRoutingRule()
	vip := need(rt.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "VIPs first", When: &batonv1.RuleConditions{Tags: []string{"vip"}}, Then: &batonv1.RuleAction{Priority: 9},
	}))(t).GetRoutingRule()
	site := need(h.admin.Channels.CreateChannel(ctx, &batonv1.CreateChannelRequest{Kind: batonv1.ChannelKind_CHANNEL_KIND_WEBCHAT, ExternalId: "site", DisplayName: "Site"}))(t).GetChannel()
	onSite := need(rt.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Pricing page", ChannelId: site.GetId(), RequestId: "create-1",
		When: &batonv1.RuleConditions{EntryPoints: []string{"https://shop.example/pricing*"}}, Then: &batonv1.RuleAction{Priority: 3},
	}))(t).GetRoutingRule()
	again := need(rt.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{DisplayName: "Pricing page", ChannelId: site.GetId(), RequestId: "create-1", Then: &batonv1.RuleAction{Priority: 3}}))(t).GetRoutingRule()
	if again.GetId() != onSite.GetId() {
		t.Errorf("a retried create made rule %s, want %s", again.GetId(), onSite.GetId())
	}
	if first.GetPosition() != 1 || vip.GetPosition() != 2 || onSite.GetPosition() != 3 {
		t.Errorf("positions %d, %d, %d: want 1, 2, 3", first.GetPosition(), vip.GetPosition(), onSite.GetPosition())
	}
	list := func(req *batonv1.ListRoutingRulesRequest) []string {
		return ruleIDs(need(rt.ListRoutingRules(ctx, req))(t).GetRoutingRules())
	}
	if got, want := list(&batonv1.ListRoutingRulesRequest{}), []string{first.GetId(), vip.GetId(), onSite.GetId()}; !slices.Equal(got, want) {
		t.Errorf("rules %q, want %q", got, want)
	}
	if got, want := list(&batonv1.ListRoutingRulesRequest{GlobalOnly: true}), []string{first.GetId(), vip.GetId()}; !slices.Equal(got, want) {
		t.Errorf("global rules %q, want %q", got, want)
	}
	if got := list(&batonv1.ListRoutingRulesRequest{ChannelId: "other"}); len(got) != 2 {
		t.Errorf("rules for another channel %q, want the two global ones", got)
	}
	page := need(rt.ListRoutingRules(ctx, &batonv1.ListRoutingRulesRequest{PageSize: 2}))(t)
	rest := need(rt.ListRoutingRules(ctx, &batonv1.ListRoutingRulesRequest{PageSize: 2, PageToken: page.GetNextPageToken()}))(t)
	if got := append(ruleIDs(page.GetRoutingRules()), ruleIDs(rest.GetRoutingRules())...); len(got) != 3 || rest.GetNextPageToken() != "" {
		t.Errorf("pages %q, next %q", got, rest.GetNextPageToken())
	}
	_, err := rt.ListRoutingRules(ctx, &batonv1.ListRoutingRulesRequest{ChannelId: site.GetId(), GlobalOnly: true})
	violations(t, err)

	// Update with the etag read; a stale one is ABORTED and changes nothing.
	name := "Billing and refunds"
	updated := need(rt.UpdateRoutingRule(ctx, &batonv1.UpdateRoutingRuleRequest{RoutingRuleId: first.GetId(), Etag: first.GetEtag(), DisplayName: &name}))(t).GetRoutingRule()
	if updated.GetDisplayName() != name || updated.GetEtag() == first.GetEtag() {
		t.Errorf("updated %v", updated)
	}
	if _, err := rt.UpdateRoutingRule(ctx, &batonv1.UpdateRoutingRuleRequest{RoutingRuleId: first.GetId(), Etag: first.GetEtag(), DisplayName: &name}); code(err) != connect.CodeAborted {
		t.Errorf("update with a stale etag: %v, want ABORTED", err)
	}
	if _, err := rt.UpdateRoutingRule(ctx, &batonv1.UpdateRoutingRuleRequest{RoutingRuleId: first.GetId(),
		When: &batonv1.RuleConditions{Patterns: []string{"[a-"}}}); !slices.Contains(violations(t, err), "when.patterns") {
		t.Errorf("update to a bad pattern: %v", err)
	}
	if got := need(rt.GetRoutingRule(ctx, &batonv1.GetRoutingRuleRequest{RoutingRuleId: first.GetId()}))(t).GetRoutingRule(); got.GetEtag() != updated.GetEtag() || len(got.GetWhen().GetWords()) != 3 {
		t.Errorf("a refused update changed the rule: %v", got)
	}

	// Reorder: the rules named go first; every rule is renumbered.
	reordered := need(rt.ReorderRoutingRules(ctx, &batonv1.ReorderRoutingRulesRequest{RoutingRuleIds: []string{onSite.GetId(), vip.GetId()}}))(t).GetRoutingRules()
	if got, want := ruleIDs(reordered), []string{onSite.GetId(), vip.GetId(), first.GetId()}; !slices.Equal(got, want) {
		t.Errorf("reordered %q, want %q", got, want)
	}
	for i, r := range reordered {
		if r.GetPosition() != int32(i+1) {
			t.Errorf("rule %s at position %d, want %d", r.GetId(), r.GetPosition(), i+1)
		}
	}
	if got := list(&batonv1.ListRoutingRulesRequest{}); !slices.Equal(got, ruleIDs(reordered)) {
		t.Errorf("listed after reorder %q", got)
	}
	if _, err := rt.ReorderRoutingRules(ctx, &batonv1.ReorderRoutingRulesRequest{RoutingRuleIds: []string{"rule-nope"}}); code(err) != connect.CodeNotFound {
		t.Errorf("reorder naming no rule: %v", err)
	}
	if _, err := rt.ReorderRoutingRules(ctx, &batonv1.ReorderRoutingRulesRequest{RoutingRuleIds: []string{vip.GetId(), vip.GetId()}}); len(violations(t, err)) == 0 {
		t.Errorf("reorder naming a rule twice: %v", err)
	}

	// A queue a rule sends to cannot be deleted.
	if _, err := rt.DeleteQueue(ctx, &batonv1.DeleteQueueRequest{QueueId: billing.GetId()}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("deleting a queue a rule sends to: %v", err)
	}

	// Dry run, hypothetical: which rule, where, and why.
	explained := need(rt.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{Messages: []string{"Hello", "My INVOICE is wrong"}}))(t)
	if explained.GetRoutingRule().GetId() != first.GetId() || explained.GetTarget().GetQueueId() != billing.GetId() || explained.GetPriority() != 5 ||
		!slices.Contains(explained.GetReasons(), `the customer wrote "invoice"`) {
		t.Errorf("explained %v", explained)
	}
	onPricing := need(rt.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{ChannelId: site.GetId(), EntryPoint: ptr("https://shop.example/pricing?plan=pro")}))(t)
	if onPricing.GetRoutingRule().GetId() != onSite.GetId() {
		t.Errorf("explained the pricing page %v", onPricing)
	}
	none := need(rt.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{Messages: []string{"hello"}, RequestedTarget: queueTarget("q-x")}))(t)
	if none.GetRoutingRule() != nil || none.GetTarget().GetQueueId() != "q-x" || !slices.Contains(none.GetReasons(), "no rule matched") {
		t.Errorf("explained no match %v", none)
	}

	// Delete with the etag read: the reorder moved the site's rule, so its first etag is stale.
	cur := need(rt.GetRoutingRule(ctx, &batonv1.GetRoutingRuleRequest{RoutingRuleId: onSite.GetId()}))(t).GetRoutingRule()
	if _, err := rt.DeleteRoutingRule(ctx, &batonv1.DeleteRoutingRuleRequest{RoutingRuleId: onSite.GetId(), Etag: onSite.GetEtag()}); code(err) != connect.CodeAborted {
		t.Errorf("delete with a stale etag: %v", err)
	}
	need(rt.DeleteRoutingRule(ctx, &batonv1.DeleteRoutingRuleRequest{RoutingRuleId: onSite.GetId(), Etag: cur.GetEtag()}))(t)
	if _, err := rt.GetRoutingRule(ctx, &batonv1.GetRoutingRuleRequest{RoutingRuleId: onSite.GetId()}); code(err) != connect.CodeNotFound {
		t.Errorf("a deleted rule: %v", err)
	}
}

// TestRoutingRulesAuthorization: admins change rules; admins, services and supervisors read
// them and dry-run them; bots and other agents do neither.
func TestRoutingRulesAuthorization(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	rule := need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{DisplayName: "All", Then: &batonv1.RuleAction{Priority: 1}}))(t).GetRoutingRule()
	agent := func(role batonv1.AgentRole) *client.Client {
		ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "A", Role: role}))(t).GetAgent()
		return h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
	}
	bot := need(h.admin.Bots.CreateBot(ctx, &batonv1.CreateBotRequest{DisplayName: "Bot"}))(t).GetBot()
	for _, tc := range []struct {
		name        string
		c           *client.Client
		read, write bool
	}{
		{"service", h.key(batonv1.Role_ROLE_SERVICE, ""), true, false},
		{"supervisor", agent(batonv1.AgentRole_AGENT_ROLE_SUPERVISOR), true, false},
		{"agent", agent(batonv1.AgentRole_AGENT_ROLE_AGENT), false, false},
		{"bot", h.key(batonv1.Role_ROLE_BOT, bot.GetId()), false, false},
	} {
		want := func(allowed bool) connect.Code {
			if allowed {
				return 0
			}
			return connect.CodePermissionDenied
		}
		rt := tc.c.Routing
		_, err := rt.ListRoutingRules(ctx, &batonv1.ListRoutingRulesRequest{})
		if code(err) != want(tc.read) {
			t.Errorf("%s lists rules: %v", tc.name, err)
		}
		_, err = rt.GetRoutingRule(ctx, &batonv1.GetRoutingRuleRequest{RoutingRuleId: rule.GetId()})
		if code(err) != want(tc.read) {
			t.Errorf("%s reads a rule: %v", tc.name, err)
		}
		_, err = rt.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{Messages: []string{"hi"}})
		if code(err) != want(tc.read) {
			t.Errorf("%s dry-runs: %v", tc.name, err)
		}
		_, err = rt.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{DisplayName: "x", Then: &batonv1.RuleAction{Priority: 1}})
		if code(err) != want(tc.write) {
			t.Errorf("%s creates a rule: %v", tc.name, err)
		}
		name := "y"
		_, err = rt.UpdateRoutingRule(ctx, &batonv1.UpdateRoutingRuleRequest{RoutingRuleId: rule.GetId(), DisplayName: &name})
		if code(err) != want(tc.write) {
			t.Errorf("%s updates a rule: %v", tc.name, err)
		}
		_, err = rt.ReorderRoutingRules(ctx, &batonv1.ReorderRoutingRulesRequest{RoutingRuleIds: []string{rule.GetId()}})
		if code(err) != want(tc.write) {
			t.Errorf("%s reorders rules: %v", tc.name, err)
		}
		_, err = rt.DeleteRoutingRule(ctx, &batonv1.DeleteRoutingRuleRequest{RoutingRuleId: rule.GetId()})
		if code(err) != want(tc.write) {
			t.Errorf("%s deletes a rule: %v", tc.name, err)
		}
	}
}

// TestMessengerBillingWordRoutesToBillingQueue: a Messenger customer writes about an invoice
// (a signed webhook in Meta's format), the bot answers through the fake Send API and hands off
// without a target, and a routing rule puts the conversation in the billing queue, at its
// priority, with its tag; the handover and its event name the rule and why.
func TestMessengerBillingWordRoutesToBillingQueue(t *testing.T) {
	api := newSendAPI(t, func(r apiRequest) string {
		return `{"recipient_id":"` + r.Body["recipient"].(map[string]any)["id"].(string) + `","message_id":"m_reply_1"}`
	})
	h := start(t, withAPIs(api.srv.URL+"/v21.0", ""))
	ctx := context.Background()
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1", AppId: "1517776481860111",
	})
	ch := w.channel.GetId()
	billing := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	cashier := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "Cashier", QueueIds: []string{billing.GetId()}}))(t).GetAgent()
	need(h.key(batonv1.Role_ROLE_AGENT, cashier.GetId()).Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	rule := need(h.admin.Routing.CreateRoutingRule(ctx, billingRule(billing.GetId())))(t).GetRoutingRule()

	// The customer came from an m.me link (Get Started), then writes about an invoice.
	getStarted := `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
		"postback":{"mid":"m_get_started","title":"Get Started","payload":"GET_STARTED",
			"referral":{"ref":"pricing-page","source":"SHORTLINK","type":"OPEN_THREAD"}}}]}]}`
	inbound := `{"object":"page","entry":[{"id":"1122334455","time":1795251601000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251601000,
		"message":{"mid":"m_customer_1","text":"Hi, I was charged twice on my last invoice."}}]}]}`
	for _, body := range []string{getStarted, inbound} {
		if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, body), body); status != http.StatusOK {
			t.Fatalf("webhook: %d %s", status, out)
		}
	}
	conv := w.conversation()
	if conv.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT || conv.GetEntryPoint() != "pricing-page" {
		t.Fatalf("conversation %v: want the bot's, entered from pricing-page", conv)
	}

	// The bot says it is getting someone, then hands off without a target.
	bot := h.key(batonv1.Role_ROLE_BOT, w.bot.GetId())
	need(bot.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{ConversationId: conv.GetId(), Content: text("Let me get someone from billing.")}))(t)
	if req := api.next(t); req.Path != "/v21.0/me/messages" || req.Body["recipient"].(map[string]any)["id"] != "6789" {
		t.Errorf("send request %s %v", req.Path, req.Body)
	}
	res := need(bot.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "customer asked for a human"}))(t)
	ho := res.GetHandover()
	if ho.GetQueueId() != billing.GetId() || ho.GetTarget().GetQueueId() != billing.GetId() || ho.GetPriority() != 5 || ho.GetRoutingRuleId() != rule.GetId() {
		t.Fatalf("handover %v: want in the billing queue at priority 5 by rule %s", ho, rule.GetId())
	}
	if want := `rule "Billing words": the customer wrote "invoice"`; ho.GetRoutingReason() != want {
		t.Errorf("routing reason %q, want %q", ho.GetRoutingReason(), want)
	}
	if ho.GetState() != batonv1.HandoverState_HANDOVER_STATE_OFFERED || ho.GetOfferedAgentId() != cashier.GetId() {
		t.Errorf("handover %v: want offered to the cashier", ho)
	}
	after := w.conversation()
	if after.GetOwner().GetId() != billing.GetId() || !slices.Contains(after.GetTags(), "billing") {
		t.Errorf("conversation %v: want in the billing queue, tagged billing", after)
	}
	events := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		ConversationId: conv.GetId(), Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_HANDOVER_REQUESTED},
	}}))(t).GetEvents()
	if len(events) != 1 || events[0].GetHandover().GetRoutingRuleId() != rule.GetId() || !strings.Contains(events[0].GetHandover().GetRoutingReason(), "invoice") {
		t.Errorf("handover.requested events %v: want one naming the rule and why", events)
	}
}

// TestTagHandsOff: a rule that hands off on a tag (Khoros' hand-off tag) moves a bot-owned
// conversation to its queue when the bot adds the tag, and not again when other tags follow.
func TestTagHandsOff(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1)
	humans := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Humans"}))(t).GetQueue()
	need(h.admin.Routing.UpdateAgent(ctx, &batonv1.UpdateAgentRequest{AgentId: w.agents[0].GetId(), QueueIds: &batonv1.StringList{Values: []string{humans.GetId()}}}))(t)
	rule := need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Hand-off tag",
		When:        &batonv1.RuleConditions{Triggers: []batonv1.RouteTrigger{batonv1.RouteTrigger_ROUTE_TRIGGER_TAG_CHANGE}, Tags: []string{"agent"}},
		Then:        &batonv1.RuleAction{Target: queueTarget(humans.GetId()), Priority: 2},
	}))(t).GetRoutingRule()
	conv := h.ingest(w.channel.GetId(), "c1", "m1", "hello").GetConversation()

	tagged := need(w.botAPI.Conversations.UpdateConversation(ctx, &batonv1.UpdateConversationRequest{ConversationId: conv.GetId(), AddTags: []string{"vip"}}))(t).GetConversation()
	if tagged.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_BOT {
		t.Fatalf("a tag no rule hands off on moved the conversation: %v", tagged.GetOwner())
	}
	moved := need(w.botAPI.Conversations.UpdateConversation(ctx, &batonv1.UpdateConversationRequest{ConversationId: conv.GetId(), AddTags: []string{"agent"}}))(t).GetConversation()
	if moved.GetOwner().GetKind() != batonv1.OwnerKind_OWNER_KIND_QUEUE || moved.GetOwner().GetId() != humans.GetId() {
		t.Fatalf("after the hand-off tag the owner is %v, want queue %s", moved.GetOwner(), humans.GetId())
	}
	ho := need(h.admin.Handovers.GetHandover(ctx, &batonv1.GetHandoverRequest{HandoverId: moved.GetActiveHandoverId()}))(t).GetHandover()
	if ho.GetRoutingRuleId() != rule.GetId() || ho.GetPriority() != 2 || ho.GetReason() != "tagged: agent" {
		t.Errorf("handover %v: want by the hand-off tag rule", ho)
	}
}

// TestWaitingOfferedByPriorityThenWait: with nobody online, three conversations wait; a VIP
// rule raises the last one's priority. When an agent comes online, the VIP is offered first,
// then the longest waiting.
func TestWaitingOfferedByPriorityThenWait(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "VIPs first", When: &batonv1.RuleConditions{Tags: []string{"vip"}}, Then: &batonv1.RuleAction{Priority: 10},
	}))(t)
	var convs []*batonv1.Conversation
	for i, customer := range []string{"early", "later", "vip"} {
		conv := h.ingest(w.channel.GetId(), customer, "m-"+customer, "hello").GetConversation()
		if customer == "vip" {
			need(w.botAPI.Conversations.UpdateConversation(ctx, &batonv1.UpdateConversationRequest{ConversationId: conv.GetId(), AddTags: []string{"vip"}}))(t)
		}
		h.clock.Advance(time.Duration(i+1) * time.Minute)
		need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "wants a human", QueueAnyway: true}))(t)
		convs = append(convs, conv)
	}
	ag := need(h.admin.Routing.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "Solo", QueueIds: []string{"default"}, Capacity: 2}))(t).GetAgent()
	solo := h.key(batonv1.Role_ROLE_AGENT, ag.GetId())
	need(solo.Routing.SetPresence(ctx, &batonv1.SetPresenceRequest{Presence: batonv1.Presence_PRESENCE_ONLINE}))(t)
	if err := h.srv.App().RunTimers(ctx); err != nil {
		t.Fatal(err)
	}
	// One pass offers them in turn: the order of the offer events is the order of the line.
	events := need(h.admin.Events.ListEvents(ctx, &batonv1.ListEventsRequest{Filter: &batonv1.EventFilter{
		Types: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_HANDOVER_OFFERED},
	}}))(t).GetEvents()
	var got []string
	for _, e := range events {
		got = append(got, e.GetConversation().GetId())
	}
	if want := []string{convs[2].GetId(), convs[0].GetId(), convs[1].GetId()}; !slices.Equal(got, want) {
		t.Errorf("offered in the order %q, want the VIP, then the longest waiting: %q", got, want)
	}
}

// TestWebChatPageRoutes: the page a visitor writes from is the conversation's entry point, and a
// rule on the page's address routes the bot's handoff. A page address that is not a URL is
// refused, naming the field.
func TestWebChatPageRoutes(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.chatWorld()
	chat := batonv1connect.NewWebChatServiceClient(http.DefaultClient, h.url)
	sales := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Sales"}))(t).GetQueue()
	rule := need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Pricing page", ChannelId: w.channel.GetId(),
		When: &batonv1.RuleConditions{EntryPoints: []string{"https://shop.example/pricing*"}},
		Then: &batonv1.RuleAction{Target: queueTarget(sales.GetId()), Priority: 3},
	}))(t).GetRoutingRule()
	token := need(chat.StartChat(ctx, &batonv1.StartChatRequest{ChannelId: w.channel.GetId(), DisplayName: "Ada"}))(t).GetToken()

	_, err := chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-0", Content: text_("Hi"), PageUrl: "pricing page"})
	if got := violations(t, err); !slices.Contains(got, "page_url") {
		t.Errorf("a page that is not a URL: violations %q", got)
	}
	page := "https://shop.example/pricing?plan=pro"
	msg := need(chat.SendChatMessage(ctx, &batonv1.SendChatMessageRequest{Token: token, ClientMessageId: "c-1", Content: text_("How much is Pro?"), PageUrl: page}))(t).GetMessage()
	conv := need(h.admin.Conversations.GetConversation(ctx, &batonv1.GetConversationRequest{ConversationId: msg.GetConversationId()}))(t).GetConversation()
	if conv.GetEntryPoint() != page {
		t.Fatalf("entry point %q, want %q", conv.GetEntryPoint(), page)
	}
	ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "pricing question", QueueAnyway: true}))(t).GetHandover()
	if ho.GetQueueId() != sales.GetId() || ho.GetRoutingRuleId() != rule.GetId() || !strings.Contains(ho.GetRoutingReason(), page) {
		t.Errorf("handover %v: want in sales by the pricing page rule", ho)
	}
}

// TestMessengerReferralUpdatesEntryPoint: a customer coming back to their thread through an
// m.me link (a messaging_referrals event, no message) changes the conversation's entry point.
func TestMessengerReferralUpdatesEntryPoint(t *testing.T) {
	h := start(t)
	const appSecret = "messenger-app-secret"
	w := h.channelWorld(batonv1.ChannelKind_CHANNEL_KIND_MESSENGER, "1122334455", &batonv1.ChannelCredentials{
		AppSecret: appSecret, VerifyToken: "verify-me", AccessToken: "page-token-1",
	})
	ch := w.channel.GetId()
	inbound := `{"object":"page","entry":[{"id":"1122334455","time":1795251600000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251600000,
		"message":{"mid":"m_customer_1","text":"Hello"}}]}]}`
	referral := `{"object":"page","entry":[{"id":"1122334455","time":1795251700000,"messaging":[{
		"sender":{"id":"6789"},"recipient":{"id":"1122334455"},"timestamp":1795251700000,
		"referral":{"ref":"winter-sale","source":"SHORTLINK","type":"OPEN_THREAD"}}]}]}`
	for _, body := range []string{inbound, referral} {
		if status, out := h.post("/webhooks/messenger/"+ch, metaSigned(appSecret, body), body); status != http.StatusOK {
			t.Fatalf("webhook: %d %s", status, out)
		}
	}
	if got := w.conversation().GetEntryPoint(); got != "winter-sale" {
		t.Errorf("entry point %q, want winter-sale", got)
	}
}

// TestExplainStoredConversation: a dry run on a stored conversation reads its recent messages and
// entry point; inputs given in the request replace the conversation's.
func TestExplainStoredConversation(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(0)
	billing := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	words := need(h.admin.Routing.CreateRoutingRule(ctx, billingRule(billing.GetId())))(t).GetRoutingRule()
	ad := need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Spring ad", When: &batonv1.RuleConditions{EntryPoints: []string{"ad:120210000000"}}, Then: &batonv1.RuleAction{Priority: 4},
	}))(t).GetRoutingRule()
	conv := need(h.admin.Conversations.IngestMessage(ctx, &batonv1.IngestMessageRequest{
		ChannelId: w.channel.GetId(), Contact: &batonv1.ContactProfile{ExternalId: "c1"}, ChannelMessageId: "m1",
		Content: text_("I want a refund"), EntryPoint: "ad:120210000000",
	}))(t).GetConversation()
	if conv.GetEntryPoint() != "ad:120210000000" {
		t.Fatalf("entry point %q", conv.GetEntryPoint())
	}
	h.ingest(w.channel.GetId(), "c1", "m2", "thanks") // the refund stays among the last ten

	got := need(h.admin.Routing.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{ConversationId: conv.GetId()}))(t)
	if got.GetRoutingRule().GetId() != words.GetId() || !slices.Contains(got.GetReasons(), `the customer wrote "refund"`) {
		t.Errorf("explained %v: want the billing words rule", got)
	}
	other := need(h.admin.Routing.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{ConversationId: conv.GetId(), Messages: []string{"hello"}}))(t)
	if other.GetRoutingRule().GetId() != ad.GetId() || !slices.Contains(other.GetReasons(), `entered from "ad:120210000000"`) {
		t.Errorf("explained with other messages %v: want the ad rule", other)
	}
	if _, err := w.botAPI.Routing.ExplainRoute(ctx, &batonv1.ExplainRouteRequest{ConversationId: conv.GetId()}); code(err) != connect.CodePermissionDenied {
		t.Errorf("a bot's dry run: %v", err)
	}
}

// TestRuleTargetsCannotBeDeleted: a queue or an agent a routing rule sends conversations to is
// not deleted from under it.
func TestRuleTargetsCannotBeDeleted(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	rt := h.admin.Routing
	q := need(rt.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	ag := need(rt.CreateAgent(ctx, &batonv1.CreateAgentRequest{DisplayName: "Ann"}))(t).GetAgent()
	toQueue := need(rt.CreateRoutingRule(ctx, billingRule(q.GetId())))(t).GetRoutingRule()
	toAgent := need(rt.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{DisplayName: "Ann's customers",
		When: &batonv1.RuleConditions{Attributes: map[string]string{"account_manager": "ann"}},
		Then: &batonv1.RuleAction{Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_AgentId{AgentId: ag.GetId()}}}}))(t).GetRoutingRule()
	if _, err := rt.DeleteQueue(ctx, &batonv1.DeleteQueueRequest{QueueId: q.GetId()}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("deleting the rule's queue: %v", err)
	}
	if _, err := rt.DeleteAgent(ctx, &batonv1.DeleteAgentRequest{AgentId: ag.GetId()}); code(err) != connect.CodeFailedPrecondition {
		t.Errorf("deleting the rule's agent: %v", err)
	}
	need(rt.DeleteRoutingRule(ctx, &batonv1.DeleteRoutingRuleRequest{RoutingRuleId: toQueue.GetId()}))(t)
	need(rt.DeleteRoutingRule(ctx, &batonv1.DeleteRoutingRuleRequest{RoutingRuleId: toAgent.GetId()}))(t)
	need(rt.DeleteQueue(ctx, &batonv1.DeleteQueueRequest{QueueId: q.GetId()}))(t)
	need(rt.DeleteAgent(ctx, &batonv1.DeleteAgentRequest{AgentId: ag.GetId()}))(t)
}

// TestTransferRoutedByRule: at a transfer the agent's target is the one asked for; a rule for
// transfers that overrides it sends the conversation where the rule says.
func TestTransferRoutedByRule(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	w := h.world(1)
	billing := need(h.admin.Routing.CreateQueue(ctx, &batonv1.CreateQueueRequest{DisplayName: "Billing"}))(t).GetQueue()
	rule := need(h.admin.Routing.CreateRoutingRule(ctx, &batonv1.CreateRoutingRuleRequest{
		DisplayName: "Invoices go to billing",
		When:        &batonv1.RuleConditions{Triggers: []batonv1.RouteTrigger{batonv1.RouteTrigger_ROUTE_TRIGGER_TRANSFER}, Words: []string{"invoice"}},
		Then:        &batonv1.RuleAction{Target: queueTarget(billing.GetId()), Priority: 7, OverrideRequestedTarget: true},
	}))(t).GetRoutingRule()
	conv := h.ingest(w.channel.GetId(), "c1", "m1", "My invoice is wrong").GetConversation()
	ho := need(w.botAPI.Handovers.Handoff(ctx, &batonv1.HandoffRequest{ConversationId: conv.GetId(), Reason: "wants a human"}))(t).GetHandover()
	if ho.GetQueueId() != "default" || ho.GetRoutingRuleId() != "" {
		t.Fatalf("handoff %v: a rule for transfers routed it", ho)
	}
	agent := w.agentAPI[0]
	need(agent.Handovers.AcceptHandover(ctx, &batonv1.AcceptHandoverRequest{HandoverId: ho.GetId()}))(t)
	moved := need(agent.Handovers.Transfer(ctx, &batonv1.TransferRequest{ConversationId: conv.GetId(),
		Target: &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Skill{Skill: "sales"}}}))(t).GetHandover()
	if moved.GetQueueId() != billing.GetId() || moved.GetTarget().GetQueueId() != billing.GetId() || moved.GetRoutingRuleId() != rule.GetId() || moved.GetPriority() != 7 {
		t.Errorf("transfer %v: want to billing by rule %s at priority 7", moved, rule.GetId())
	}
}
