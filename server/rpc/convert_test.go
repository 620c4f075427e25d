package rpc

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

var (
	t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)
	t1 = t0.Add(1 * time.Minute)
	t2 = t0.Add(2 * time.Minute)
	t3 = t0.Add(3 * time.Minute)
	t4 = t0.Add(4 * time.Minute)
	t5 = t0.Add(5 * time.Minute)
)

func ts(t time.Time) *timestamppb.Timestamp { return timestamppb.New(t) }

// diff compares protos and checks that got sets every field, so that a field added to the API
// without a conversion fails the test.
func diff(t *testing.T, want, got proto.Message) {
	t.Helper()
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
	r := got.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if o := fd.ContainingOneof(); o != nil {
			if r.WhichOneof(o) == nil {
				t.Errorf("%s: oneof %s unset", r.Descriptor().FullName(), o.Name())
			}
			continue
		}
		if !r.Has(fd) {
			t.Errorf("%s unset", fd.FullName())
		}
	}
}

// noTimes fails for every timestamp or duration field of m that is set.
func noTimes(t *testing.T, m proto.Message) {
	t.Helper()
	r := m.ProtoReflect()
	fields := r.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.MessageKind {
			continue
		}
		switch fd.Message().FullName() {
		case "google.protobuf.Timestamp", "google.protobuf.Duration":
			if r.Has(fd) {
				t.Errorf("%s set, want unset", fd.FullName())
			}
		}
	}
}

func mustContent(t *testing.T, c *batonv1.MessageContent) json.RawMessage {
	t.Helper()
	raw, err := channel.EncodeContent(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// Enums.

// enumCase checks that every defined proto value maps to the domain value its name spells and
// back, and that anything else maps to the zero value.
func enumCase[P ~int32, D ~string](names map[int32]string, prefix string, spell func(string) string,
	toDomain func(P) D, toProto func(D) P) func(*testing.T) {
	return func(t *testing.T) {
		for n, name := range names {
			d := toDomain(P(n))
			if n == 0 {
				if d != "" {
					t.Errorf("%s → %q, want \"\"", name, d)
				}
				continue
			}
			if want := spell(strings.TrimPrefix(name, prefix)); string(d) != want {
				t.Errorf("%s → %q, want %q", name, d, want)
			}
			if back := toProto(d); back != P(n) {
				t.Errorf("%s → %q → %v", name, d, back)
			}
		}
		if got := toDomain(P(len(names) + 1000)); got != "" {
			t.Errorf("undefined value → %q, want \"\"", got)
		}
		for _, d := range []D{"", "no_such_value"} {
			if got := toProto(d); got != 0 {
				t.Errorf("%q → %v, want unspecified", d, got)
			}
		}
	}
}

// spellEventType spells EVENT_TYPE_X as the domain does: "area.what_happened".
func spellEventType(s string) string {
	if s == "OWNER_CHANGED" {
		return "conversation.owner_changed"
	}
	return strings.Replace(strings.ToLower(s), "_", ".", 1)
}

func TestEnumRoundTrip(t *testing.T) {
	lower := strings.ToLower
	cases := map[string]func(*testing.T){
		"ChannelKind": enumCase(batonv1.ChannelKind_name, "CHANNEL_KIND_", lower,
			channelKindToDomain, channelKindToProto),
		"OwnerKind": enumCase(batonv1.OwnerKind_name, "OWNER_KIND_", lower,
			ownerKindToDomain, ownerKindToProto),
		"ActorKind": enumCase(batonv1.ActorKind_name, "ACTOR_KIND_", lower,
			actorKindToDomain, actorKindToProto),
		"AgentRole": enumCase(batonv1.AgentRole_name, "AGENT_ROLE_", lower,
			agentRoleToDomain, agentRoleToProto),
		"Presence": enumCase(batonv1.Presence_name, "PRESENCE_", lower,
			presenceToDomain, presenceToProto),
		"ConversationState": enumCase(batonv1.ConversationState_name, "CONVERSATION_STATE_", lower,
			conversationStateToDomain, conversationStateToProto),
		"ConversationStatus": enumCase(batonv1.ConversationStatus_name, "CONVERSATION_STATUS_", lower,
			conversationStatusToDomain, conversationStatusToProto),
		"MessageDirection": enumCase(batonv1.MessageDirection_name, "MESSAGE_DIRECTION_", lower,
			directionToDomain, directionToProto),
		"DeliveryStatus": enumCase(batonv1.DeliveryStatus_name, "DELIVERY_STATUS_", lower,
			deliveryStatusToDomain, deliveryStatusToProto),
		"HandoverState": enumCase(batonv1.HandoverState_name, "HANDOVER_STATE_", lower,
			handoverStateToDomain, handoverStateToProto),
		"FailureReason": enumCase(batonv1.FailureReason_name, "FAILURE_REASON_", lower,
			failureReasonToDomain, failureReasonToProto),
		"HandbackOutcome": enumCase(batonv1.HandbackOutcome_name, "HANDBACK_OUTCOME_", lower,
			handbackOutcomeToDomain, handbackOutcomeToProto),
		"EndReason": enumCase(batonv1.EndReason_name, "END_REASON_", lower,
			endReasonToDomain, endReasonToProto),
		"EventType": enumCase(batonv1.EventType_name, "EVENT_TYPE_", spellEventType,
			eventTypeToDomain, eventTypeToProto),
		"Role": enumCase(batonv1.Role_name, "ROLE_", lower,
			roleToDomain, roleToProto),
		"WebhookState": enumCase(batonv1.WebhookState_name, "WEBHOOK_STATE_", lower,
			webhookStateToDomain, webhookStateToProto),
		"InactivePolicy": enumCase(batonv1.InactivePolicy_name, "INACTIVE_POLICY_", lower,
			inactivePolicyToDomain, inactivePolicyToProto),
		"DeliveryState": enumCase(batonv1.DeliveryState_name, "DELIVERY_STATE_", lower,
			deliveryStateToDomain, deliveryStateToProto),
	}
	for name, run := range cases {
		t.Run(name, run)
	}
}

func TestEnumSlices(t *testing.T) {
	types := eventTypesToDomain([]batonv1.EventType{
		batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED,
		batonv1.EventType_EVENT_TYPE_HANDOVER_ACCEPTED,
	})
	if d := cmp.Diff([]domain.EventType{domain.EventMessageReceived, domain.EventHandoverAccepted}, types); d != "" {
		t.Errorf("eventTypesToDomain (-want +got):\n%s", d)
	}
	states := handoverStatesToDomain([]batonv1.HandoverState{
		batonv1.HandoverState_HANDOVER_STATE_REQUESTED,
		batonv1.HandoverState_HANDOVER_STATE_OFFERED,
	})
	if d := cmp.Diff([]domain.HandoverState{domain.HandoverRequested, domain.HandoverOffered}, states); d != "" {
		t.Errorf("handoverStatesToDomain (-want +got):\n%s", d)
	}
	if eventTypesToDomain(nil) != nil || handoverStatesToDomain(nil) != nil {
		t.Error("nil slice should stay nil")
	}
}

// Resources.

var secrets = domain.Credentials{
	AppSecret:     "app-secret-3f9a",
	VerifyToken:   "verify-token-81c2",
	AccessToken:   "access-token-77de",
	WebhookSecret: "webhook-secret-0b4e",
	SendURL:       "https://crm.example.com/baton",
	AppID:         "1517776481860111",
}

func TestConvertChannel(t *testing.T) {
	got := channelToProto(domain.Channel{
		ID:             "ch_1",
		Kind:           domain.ChannelWhatsApp,
		ExternalID:     "15550001111",
		DisplayName:    "Support line",
		BotID:          "bot_1",
		DefaultQueueID: "q_billing",
		SessionTimeout: 90 * time.Minute,
		Credentials:    secrets,
		Retention:      domain.Retention{Messages: 720 * time.Hour, Events: domain.Forever},
		AutoHandoff: domain.AutoHandoffPolicy{
			NotUnderstoodLimit: 2, HumanWordsOn: true, HumanWords: map[string][]string{"en": {"human"}, "de": {"mensch"}},
			UnansweredTimeout: 5 * time.Minute, QueueID: "q_billing", QueueAnyway: true,
		},
		CreateTime: t0,
		UpdateTime: t1,
		Revision:   7,
	})
	diff(t, &batonv1.Channel{
		Id:             "ch_1",
		Kind:           batonv1.ChannelKind_CHANNEL_KIND_WHATSAPP,
		ExternalId:     "15550001111",
		DisplayName:    "Support line",
		BotId:          "bot_1",
		DefaultQueueId: "q_billing",
		SessionTimeout: durationpb.New(90 * time.Minute),
		HasCredentials: true,
		CreateTime:     ts(t0),
		UpdateTime:     ts(t1),
		Etag:           "7",
		SendUrl:        "https://crm.example.com/baton", // not secrets: shown
		AppId:          "1517776481860111",
		// Unset follows the server's default; zero keeps forever.
		Retention: &batonv1.RetentionPolicy{Messages: durationpb.New(720 * time.Hour), Events: durationpb.New(0)},
		AutoHandoff: &batonv1.AutoHandoffPolicy{
			NotUnderstoodLimit: 2, HumanWordsEnabled: true,
			HumanWords:        []*batonv1.HumanWords{{Language: "de", Words: []string{"mensch"}}, {Language: "en", Words: []string{"human"}}},
			UnansweredTimeout: durationpb.New(5 * time.Minute), QueueId: "q_billing", QueueAnyway: true,
		},
	}, got)
}

func TestConvertRetention(t *testing.T) {
	for _, r := range []domain.Retention{
		{},
		{Messages: time.Hour, Events: domain.Forever, Deliveries: 48 * time.Hour},
		{Deliveries: domain.Forever},
	} {
		if got := retentionToDomain(retentionToProto(r)); got != r {
			t.Errorf("%+v came back as %+v", r, got)
		}
	}
	if retentionToProto(domain.Retention{}) != nil {
		t.Error("a policy left to the default should be unset")
	}
}

func TestConvertChannelHidesSecrets(t *testing.T) {
	for _, creds := range []domain.Credentials{secrets, {AccessToken: secrets.AccessToken}} {
		c := channelToProto(domain.Channel{ID: "ch_1", Credentials: creds})
		if !c.GetHasCredentials() {
			t.Errorf("HasCredentials = false for %+v", creds)
		}
		wire, err := proto.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		encodings := [][]byte{wire, []byte(protojson.Format(c)), []byte(prototext.Format(c))}
		for _, s := range []string{secrets.AppSecret, secrets.VerifyToken, secrets.AccessToken, secrets.WebhookSecret} {
			for _, enc := range encodings {
				if bytes.Contains(enc, []byte(s)) {
					t.Errorf("secret %q in output %q", s, enc)
				}
			}
		}
	}
	if channelToProto(domain.Channel{ID: "ch_1"}).GetHasCredentials() {
		t.Error("HasCredentials = true without credentials")
	}
}

func TestConvertContact(t *testing.T) {
	got := contactToProto(domain.Contact{
		ID:            "ct_1",
		ChannelID:     "ch_1",
		ExternalID:    "psid-42",
		DisplayName:   "Ada",
		Locale:        "fr-FR",
		Attributes:    map[string]string{"tier": "gold", "city": "Lyon"},
		BotMutedUntil: t2,
		CreateTime:    t0,
		UpdateTime:    t1,
		Revision:      3,
	})
	diff(t, &batonv1.Contact{
		Id:            "ct_1",
		ChannelId:     "ch_1",
		ExternalId:    "psid-42",
		DisplayName:   "Ada",
		Locale:        "fr-FR",
		Attributes:    map[string]string{"tier": "gold", "city": "Lyon"},
		BotMutedUntil: ts(t2),
		CreateTime:    ts(t0),
		UpdateTime:    ts(t1),
	}, got)
}

func TestConvertBot(t *testing.T) {
	got := botToProto(domain.Bot{
		ID:          "bot_1",
		DisplayName: "Helper",
		Active:      true,
		ChannelIDs:  []string{"ch_1", "ch_2"},
		Standby:     true,
		Unreachable: true,
		AutoHandoff: domain.AutoHandoffPolicy{NotUnderstoodLimit: 3},
		CreateTime:  t0,
		UpdateTime:  t1,
		Revision:    12,
	})
	diff(t, &batonv1.Bot{
		Id:          "bot_1",
		DisplayName: "Helper",
		Active:      true,
		ChannelIds:  []string{"ch_1", "ch_2"},
		Standby:     true,
		Unreachable: true,
		AutoHandoff: &batonv1.AutoHandoffPolicy{NotUnderstoodLimit: 3},
		CreateTime:  ts(t0),
		UpdateTime:  ts(t1),
		Etag:        "12",
	}, got)
}

func testAgent() domain.Agent {
	return domain.Agent{
		ID:           "ag_1",
		DisplayName:  "Grace",
		Email:        "grace@example.com",
		Skills:       []string{"billing", "french"},
		Role:         domain.RoleSupervisor,
		Team:         "emea",
		Capacity:     3,
		QueueIDs:     []string{"default", "q_billing"},
		Presence:     domain.PresenceAway,
		Active:       2,
		LastSeenTime: t2,
		CreateTime:   t0,
		UpdateTime:   t1,
		Revision:     5,
	}
}

func wantAgent() *batonv1.Agent {
	return &batonv1.Agent{
		Id:                  "ag_1",
		DisplayName:         "Grace",
		Email:               "grace@example.com",
		Skills:              []string{"billing", "french"},
		Role:                batonv1.AgentRole_AGENT_ROLE_SUPERVISOR,
		Team:                "emea",
		Capacity:            3,
		QueueIds:            []string{"default", "q_billing"},
		Presence:            batonv1.Presence_PRESENCE_AWAY,
		ActiveConversations: 2,
		LastSeenTime:        ts(t2),
		CreateTime:          ts(t0),
		UpdateTime:          ts(t1),
		Etag:                "5",
	}
}

func TestConvertAgent(t *testing.T) {
	diff(t, wantAgent(), agentToProto(testAgent()))
}

func TestConvertQueue(t *testing.T) {
	got := queueToProto(domain.Queue{
		ID:           "q_billing",
		DisplayName:  "Billing",
		Skills:       []string{"billing"},
		OfferTimeout: 45 * time.Second,
		Policy:       testPolicy(),
		Waiting:      4,
		SLA:          domain.QueueSLA{WaitTarget: time.Minute, FirstReplyTarget: 5 * time.Minute, RaisePriority: 2, OfferSupervisors: true},
		CreateTime:   t0,
		UpdateTime:   t1,
		Revision:     9,
	})
	diff(t, &batonv1.Queue{
		Id:           "q_billing",
		DisplayName:  "Billing",
		Skills:       []string{"billing"},
		OfferTimeout: durationpb.New(45 * time.Second),
		Waiting:      4,
		CreateTime:   ts(t0),
		UpdateTime:   ts(t1),
		Etag:         "9",
		BusinessHours: &batonv1.BusinessHours{
			TimeZone: "Europe/Paris",
			Intervals: []*batonv1.OpenInterval{
				{Weekday: batonv1.Weekday_WEEKDAY_MONDAY, Start: "09:00", End: "12:30"},
				{Weekday: batonv1.Weekday_WEEKDAY_SUNDAY, Start: "22:00", End: "24:00"},
			},
			ClosedDates:       []string{"2026-12-25"},
			OutOfHoursAction:  batonv1.OutOfHoursAction_OUT_OF_HOURS_ACTION_OTHER_QUEUE,
			OutOfHoursQueueId: "q_night",
		},
		Acknowledgements: &batonv1.CustomerAcknowledgements{
			Enabled:         true,
			DisabledKinds:   []batonv1.AcknowledgementKind{batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_SLA_APOLOGY},
			DefaultLanguage: "fr",
			Templates: []*batonv1.AcknowledgementTemplate{
				{Kind: batonv1.AcknowledgementKind_ACKNOWLEDGEMENT_KIND_AGENT_JOINED, Language: "fr", Text: "{agent} est là."},
			},
		},
		Sla: &batonv1.QueueSla{
			WaitTarget: durationpb.New(time.Minute), FirstReplyTarget: durationpb.New(5 * time.Minute), RaisePriority: 2, OfferSupervisors: true,
		},
	}, got)
}

func testPolicy() domain.QueuePolicy {
	return domain.QueuePolicy{
		Hours: &domain.BusinessHours{
			TimeZone: "Europe/Paris",
			Intervals: []domain.OpenInterval{
				{Weekday: time.Monday, Start: 9 * 60, End: 12*60 + 30},
				{Weekday: time.Sunday, Start: 22 * 60, End: domain.MinutesPerDay},
			},
			ClosedDates: []string{"2026-12-25"},
			OutOfHours:  domain.OutOfHours{Action: domain.OutOfHoursOtherQueue, QueueID: "q_night"},
		},
		Acknowledgements: domain.Acknowledgements{
			Enabled:         true,
			Disabled:        []domain.AckKind{domain.AckSLAApology},
			DefaultLanguage: "fr",
			Templates:       []domain.AckTemplate{{Kind: domain.AckAgentJoined, Language: "fr", Text: "{agent} est là."}},
		},
	}
}

// The policy reads back as it was written.
func TestConvertQueuePolicyRoundTrip(t *testing.T) {
	want := testPolicy()
	p := queueToProto(domain.Queue{Policy: want})
	got := domain.QueuePolicy{Hours: hoursToDomain(p.GetBusinessHours()), Acknowledgements: acksToDomain(p.GetAcknowledgements())}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	for _, bad := range []string{"", "9h", "25"} {
		if m := clockMinutes(bad); m != -1 {
			t.Errorf("clockMinutes(%q) = %d, want -1", bad, m)
		}
	}
	if d := weekdayToDomain(batonv1.Weekday_WEEKDAY_UNSPECIFIED); d != -1 {
		t.Errorf("an unset weekday reads as %v", d)
	}
}

func testConversation() domain.Conversation {
	return domain.Conversation{
		ID:                 "cv_1",
		ChannelID:          "ch_1",
		ContactID:          "ct_1",
		BotID:              "bot_1",
		Owner:              domain.AgentOwner("ag_1"),
		Epoch:              4,
		State:              domain.ConversationOpen,
		Status:             domain.StatusNeedHelp,
		Tags:               []string{"vip", "refund"},
		Language:           "fr",
		ActiveHandoverID:   "ho_1",
		BotEnabled:         true,
		BotMutedUntil:      t5,
		LastActivityTime:   t4,
		LastInboundTime:    t3,
		LastOutboundTime:   t4,
		CreateTime:         t0,
		UpdateTime:         t4,
		Revision:           21,
		NotUnderstoodCount: 2,
		SLABreachTime:      t3,
		EntryPoint:         "ad:120210000000",
	}
}

func wantConversation() *batonv1.Conversation {
	return &batonv1.Conversation{
		Id:                 "cv_1",
		ChannelId:          "ch_1",
		ContactId:          "ct_1",
		BotId:              "bot_1",
		Owner:              &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_AGENT, Id: "ag_1"},
		Epoch:              4,
		State:              batonv1.ConversationState_CONVERSATION_STATE_OPEN,
		Status:             batonv1.ConversationStatus_CONVERSATION_STATUS_NEED_HELP,
		Tags:               []string{"vip", "refund"},
		Language:           "fr",
		ActiveHandoverId:   "ho_1",
		BotEnabled:         true,
		BotMutedUntil:      ts(t5),
		LastActivityTime:   ts(t4),
		LastInboundTime:    ts(t3),
		LastOutboundTime:   ts(t4),
		CreateTime:         ts(t0),
		UpdateTime:         ts(t4),
		Etag:               "21",
		NotUnderstoodCount: 2,
		SlaBreachTime:      ts(t3),
		EntryPoint:         "ad:120210000000",
	}
}

func TestConvertConversation(t *testing.T) {
	diff(t, wantConversation(), conversationToProto(testConversation()))
}

func testHandover() domain.Handover {
	return domain.Handover{
		ID:               "ho_1",
		ConversationID:   "cv_1",
		From:             domain.BotOwner("bot_1"),
		Target:           domain.Target{Skill: "billing"},
		QueueID:          "q_billing",
		Reason:           "customer asked for a human",
		Metadata:         map[string]string{"order": "A-17"},
		Summary:          "Wants a refund",
		Intake:           []domain.IntakeAnswer{{Question: "Order number?", Answer: "A-17"}},
		State:            domain.HandoverReleased,
		FailureReason:    domain.NoCapacity,
		OfferedAgentID:   "ag_1",
		OfferExpireTime:  t1,
		DeclinedAgentIDs: []string{"ag_2"},
		AgentID:          "ag_1",
		Outcome:          domain.OutcomeResolved,
		HandbackSummary:  "Refunded",
		EndReason:        domain.EndHandedBack,
		RequestedBy:      domain.Actor{Kind: domain.ActorBot, ID: "bot_1"},
		RequestID:        "req-1",
		Epoch:            3,
		CreateTime:       t0,
		AcceptTime:       t0.Add(150 * time.Second),
		EndTime:          t5,
		OutOfHours:       domain.OutOfHoursQueued,
		Priority:         6,
		SLABreaches:      []domain.SLATarget{domain.SLAWait, domain.SLAFirstReply},
		Supervisors:      true,
		RuleID:           "rule_1",
		RouteReason:      `rule "Billing": the customer wrote "invoice"`,
	}
}

func wantHandover() *batonv1.Handover {
	return &batonv1.Handover{
		Id:                   "ho_1",
		ConversationId:       "cv_1",
		From:                 &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_BOT, Id: "bot_1"},
		Target:               &batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Skill{Skill: "billing"}},
		QueueId:              "q_billing",
		Reason:               "customer asked for a human",
		Metadata:             map[string]string{"order": "A-17"},
		Summary:              "Wants a refund",
		Intake:               []*batonv1.IntakeAnswer{{Question: "Order number?", Answer: "A-17"}},
		State:                batonv1.HandoverState_HANDOVER_STATE_RELEASED,
		FailureReason:        batonv1.FailureReason_FAILURE_REASON_NO_CAPACITY,
		OfferedAgentId:       "ag_1",
		OfferExpireTime:      ts(t1),
		DeclinedAgentIds:     []string{"ag_2"},
		AgentId:              "ag_1",
		Outcome:              batonv1.HandbackOutcome_HANDBACK_OUTCOME_RESOLVED,
		HandbackSummary:      "Refunded",
		EndReason:            batonv1.EndReason_END_REASON_HANDED_BACK,
		RequestedBy:          &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_BOT, Id: "bot_1"},
		Epoch:                3,
		CreateTime:           ts(t0),
		AcceptTime:           ts(t0.Add(150 * time.Second)),
		EndTime:              ts(t5),
		TimeToAccept:         durationpb.New(150 * time.Second),
		OutOfHours:           batonv1.OutOfHoursOutcome_OUT_OF_HOURS_OUTCOME_QUEUED,
		Priority:             6,
		SlaBreaches:          []batonv1.SlaTarget{batonv1.SlaTarget_SLA_TARGET_WAIT, batonv1.SlaTarget_SLA_TARGET_FIRST_REPLY},
		OfferedToSupervisors: true,
		RoutingRuleId:        "rule_1",
		RoutingReason:        `rule "Billing": the customer wrote "invoice"`,
	}
}

func TestConvertHandover(t *testing.T) {
	diff(t, wantHandover(), handoverToProto(testHandover()))
}

func TestConvertHandoverTimeToAccept(t *testing.T) {
	waiting := domain.Handover{ID: "ho_1", State: domain.HandoverOffered, CreateTime: t0}
	if got := handoverToProto(waiting).GetTimeToAccept(); got != nil {
		t.Errorf("not accepted: TimeToAccept = %v, want unset", got)
	}
	instant := domain.Handover{ID: "ho_1", State: domain.HandoverAccepted, CreateTime: t0, AcceptTime: t0}
	if got := handoverToProto(instant).GetTimeToAccept(); got == nil || got.AsDuration() != 0 {
		t.Errorf("accepted at once: TimeToAccept = %v, want 0s", got)
	}
}

func testMessage(t *testing.T) domain.Message {
	return domain.Message{
		ID:               "msg_1",
		ConversationID:   "cv_1",
		ChannelID:        "ch_1",
		Direction:        domain.Outbound,
		Sender:           domain.Actor{Kind: domain.ActorAgent, ID: "ag_1"},
		Content:          mustContent(t, textContent("Your refund is on its way.")),
		ChannelMessageID: "wamid.XYZ",
		RequestID:        "req-9",
		Status:           domain.DeliveryFailed,
		Error:            "(#10) This message is sent outside of allowed window.",
		Epoch:            4,
		CreateTime:       t3,
		Erased:           true, // every field converts, whether or not they go together
	}
}

func wantMessage() *batonv1.Message {
	return &batonv1.Message{
		Id:               "msg_1",
		ConversationId:   "cv_1",
		ChannelId:        "ch_1",
		Direction:        batonv1.MessageDirection_MESSAGE_DIRECTION_OUTBOUND,
		Sender:           &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_AGENT, Id: "ag_1"},
		Content:          textContent("Your refund is on its way."),
		ChannelMessageId: "wamid.XYZ",
		RequestId:        "req-9",
		Status:           batonv1.DeliveryStatus_DELIVERY_STATUS_FAILED,
		Error:            "(#10) This message is sent outside of allowed window.",
		Epoch:            4,
		CreateTime:       ts(t3),
		Erased:           true,
	}
}

func textContent(s string) *batonv1.MessageContent {
	return &batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: s}}}
}

func TestConvertMessage(t *testing.T) {
	got, err := messageToProto(testMessage(t))
	if err != nil {
		t.Fatal(err)
	}
	diff(t, wantMessage(), got)
}

func TestConvertMessageBadContent(t *testing.T) {
	m := domain.Message{ID: "msg_1", Content: json.RawMessage(`{"text":`)}
	if _, err := messageToProto(m); err == nil {
		t.Error("messageToProto: want error for malformed content")
	}
	if _, err := eventToProto(domain.Event{Sequence: 1, Message: &m}); err == nil {
		t.Error("eventToProto: want error for malformed message content")
	}
}

func TestConvertMessageNoContent(t *testing.T) {
	got, err := messageToProto(domain.Message{ID: "msg_1"})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetContent() != nil {
		t.Errorf("Content = %v, want unset", got.GetContent())
	}
}

func TestConvertEvent(t *testing.T) {
	conv, handover, agent, msg := testConversation(), testHandover(), testAgent(), testMessage(t)
	contact := domain.Contact{ID: "ct_1", ChannelID: "ch_1", ExternalID: "psid-42", CreateTime: t0}
	got, err := eventToProto(domain.Event{
		Sequence:       1001,
		ID:             "ev_1",
		Type:           domain.EventOwnerChanged,
		Time:           t4,
		ConversationID: "cv_1",
		ChannelID:      "ch_1",
		BotID:          "bot_1",
		AgentID:        "ag_1",
		ContactID:      "ct_1",
		Actor:          domain.Actor{Kind: domain.ActorAgent, ID: "ag_1"},
		Owner:          domain.AgentOwner("ag_1"),
		Epoch:          4,
		Conversation:   &conv,
		Message:        &msg,
		Handover:       &handover,
		OwnerChange: &domain.OwnerChange{
			From:       domain.QueueOwner("q_billing"),
			To:         domain.AgentOwner("ag_1"),
			Epoch:      4,
			Reason:     "accepted",
			HandoverID: "ho_1",
		},
		Agent:     &agent,
		Contact:   &contact,
		Webhook:   ptr(testWebhook()),
		SLABreach: &domain.SLABreach{Target: domain.SLAFirstReply, QueueID: "q_billing", Deadline: t4},
	})
	if err != nil {
		t.Fatal(err)
	}
	diff(t, &batonv1.Event{
		Sequence:       1001,
		Id:             "ev_1",
		Type:           batonv1.EventType_EVENT_TYPE_OWNER_CHANGED,
		CreateTime:     ts(t4),
		ConversationId: "cv_1",
		ChannelId:      "ch_1",
		BotId:          "bot_1",
		AgentId:        "ag_1",
		ContactId:      "ct_1",
		Actor:          &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_AGENT, Id: "ag_1"},
		Owner:          &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_AGENT, Id: "ag_1"},
		Epoch:          4,
		Conversation:   wantConversation(),
		Message:        wantMessage(),
		Handover:       wantHandover(),
		OwnerChange: &batonv1.OwnerChange{
			From:   &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_QUEUE, Id: "q_billing"},
			To:     &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_AGENT, Id: "ag_1"},
			Epoch:  4,
			Reason: "accepted",
		},
		Agent:     wantAgent(),
		Contact:   &batonv1.Contact{Id: "ct_1", ChannelId: "ch_1", ExternalId: "psid-42", CreateTime: ts(t0)},
		Webhook:   wantWebhook(),
		SlaBreach: &batonv1.SlaBreach{Target: batonv1.SlaTarget_SLA_TARGET_FIRST_REPLY, QueueId: "q_billing", Deadline: ts(t4)},
	}, got)
	diff(t, &batonv1.OwnerChange{
		From:   &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_QUEUE, Id: "q_billing"},
		To:     &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_AGENT, Id: "ag_1"},
		Epoch:  4,
		Reason: "accepted",
	}, got.GetOwnerChange())
}

func TestConvertEventWithoutPayload(t *testing.T) {
	got, err := eventToProto(domain.Event{Sequence: 7, ID: "ev_7", Type: domain.EventBotUnmuted, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := &batonv1.Event{
		Sequence:   7,
		Id:         "ev_7",
		Type:       batonv1.EventType_EVENT_TYPE_BOT_UNMUTED,
		CreateTime: ts(t0),
	}
	if d := cmp.Diff(want, got, protocmp.Transform()); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

func TestConvertAPIKey(t *testing.T) {
	got := apiKeyToProto(domain.APIKey{
		ID:          "bk_live_1",
		DisplayName: "Analytics",
		Role:        domain.PrincipalService,
		SubjectID:   "svc_1",
		SecretHash:  []byte("hash-must-not-leak"),
		CreateTime:  t0,
	})
	diff(t, &batonv1.ApiKey{
		Id:          "bk_live_1",
		DisplayName: "Analytics",
		Role:        batonv1.Role_ROLE_SERVICE,
		SubjectId:   "svc_1",
		CreateTime:  ts(t0),
	}, got)
}

func TestConvertOwnerActor(t *testing.T) {
	diff(t, &batonv1.Owner{Kind: batonv1.OwnerKind_OWNER_KIND_QUEUE, Id: "default"},
		ownerToProto(domain.QueueOwner("default")))
	diff(t, &batonv1.Actor{Kind: batonv1.ActorKind_ACTOR_KIND_EXTERNAL_HUMAN, Id: "page-inbox"},
		actorToProto(domain.Actor{Kind: domain.ActorExternalHuman, ID: "page-inbox"}))
	if got := ownerToProto(domain.Nobody); got.GetKind() != batonv1.OwnerKind_OWNER_KIND_NOBODY {
		t.Errorf("Nobody → %v", got)
	}
	if got := actorToProto(domain.System); got.GetKind() != batonv1.ActorKind_ACTOR_KIND_SYSTEM {
		t.Errorf("System → %v", got)
	}
	if got := ownerToProto(domain.Owner{}); got != nil {
		t.Errorf("zero owner → %v, want nil", got)
	}
	if got := actorToProto(domain.Actor{}); got != nil {
		t.Errorf("zero actor → %v, want nil", got)
	}
}

func TestConvertZeroTimes(t *testing.T) {
	msg, err := messageToProto(domain.Message{ID: "msg_1"})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := eventToProto(domain.Event{ID: "ev_1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []proto.Message{
		channelToProto(domain.Channel{ID: "ch_1"}),
		contactToProto(domain.Contact{ID: "ct_1"}),
		botToProto(domain.Bot{ID: "bot_1"}),
		agentToProto(domain.Agent{ID: "ag_1"}),
		queueToProto(domain.Queue{ID: "q_1"}),
		conversationToProto(domain.Conversation{ID: "cv_1"}),
		handoverToProto(domain.Handover{ID: "ho_1"}),
		apiKeyToProto(domain.APIKey{ID: "k_1"}),
		msg,
		ev,
	} {
		noTimes(t, m)
	}
}

// Requests.

func TestConvertTarget(t *testing.T) {
	cases := []struct {
		proto  *batonv1.HandoverTarget
		domain domain.Target
	}{
		{&batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_QueueId{QueueId: "q_1"}}, domain.Target{QueueID: "q_1"}},
		{&batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Skill{Skill: "billing"}}, domain.Target{Skill: "billing"}},
		{&batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_Role{Role: batonv1.AgentRole_AGENT_ROLE_SUPERVISOR}},
			domain.Target{Role: domain.RoleSupervisor}},
		{&batonv1.HandoverTarget{Target: &batonv1.HandoverTarget_AgentId{AgentId: "ag_1"}}, domain.Target{AgentID: "ag_1"}},
		{nil, domain.Target{}},
	}
	for _, c := range cases {
		if got := targetToDomain(c.proto); got != c.domain {
			t.Errorf("targetToDomain(%v) = %+v, want %+v", c.proto, got, c.domain)
		}
		if d := cmp.Diff(c.proto, targetToProto(c.domain), protocmp.Transform()); d != "" {
			t.Errorf("targetToProto(%+v) (-want +got):\n%s", c.domain, d)
		}
	}
	if got := targetToDomain(&batonv1.HandoverTarget{}); got != (domain.Target{}) {
		t.Errorf("empty target → %+v", got)
	}
}

func TestConvertIntake(t *testing.T) {
	got := intakeToDomain([]*batonv1.IntakeAnswer{
		{Question: "Order number?", Answer: "A-17"},
		{Question: "Email?", Answer: ""},
	})
	want := []domain.IntakeAnswer{{Question: "Order number?", Answer: "A-17"}, {Question: "Email?"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("intakeToDomain (-want +got):\n%s", d)
	}
	if intakeToDomain(nil) != nil {
		t.Error("nil intake should stay nil")
	}
}

func TestConvertCredentials(t *testing.T) {
	got := credentialsToDomain(&batonv1.ChannelCredentials{
		AppSecret:     secrets.AppSecret,
		VerifyToken:   secrets.VerifyToken,
		AccessToken:   secrets.AccessToken,
		WebhookSecret: secrets.WebhookSecret,
		SendUrl:       secrets.SendURL,
		AppId:         secrets.AppID,
	})
	if got != secrets {
		t.Errorf("credentialsToDomain = %+v, want %+v", got, secrets)
	}
	if got := credentialsToDomain(nil); !got.IsZero() {
		t.Errorf("credentialsToDomain(nil) = %+v, want zero", got)
	}
}

func TestConvertPageSize(t *testing.T) {
	for _, c := range []struct {
		in   int32
		def  int
		want int
	}{{0, 50, 50}, {1, 50, 1}, {1000, 100, 1000}, {-1, 50, 50}} {
		if got := pageSize(c.in, c.def); got != c.want {
			t.Errorf("pageSize(%d, %d) = %d, want %d", c.in, c.def, got, c.want)
		}
	}
}

// Content.

func contentCases() []*batonv1.MessageContent {
	payload := func(title, p string) *batonv1.Button {
		return &batonv1.Button{Title: title, Action: &batonv1.Button_Payload{Payload: p}}
	}
	link := func(title, u string) *batonv1.Button {
		return &batonv1.Button{Title: title, Action: &batonv1.Button_Url{Url: u}}
	}
	return []*batonv1.MessageContent{
		textContent("Bonjour 👋 \"quoted\" <b>&</b>\nsecond line"),
		{Kind: &batonv1.MessageContent_Attachment{Attachment: &batonv1.Attachment{
			Type:     batonv1.AttachmentType_ATTACHMENT_TYPE_IMAGE,
			Url:      "https://cdn.example.com/a.png?x=1&y=2",
			Caption:  "the receipt",
			MimeType: "image/png",
		}}},
		{Kind: &batonv1.MessageContent_Buttons{Buttons: &batonv1.ButtonsContent{
			Text:    "How can we help?",
			Buttons: []*batonv1.Button{payload("Billing", "BILLING"), link("FAQ", "https://example.com/faq")},
		}}},
		{Kind: &batonv1.MessageContent_Carousel{Carousel: &batonv1.Carousel{Cards: []*batonv1.Card{
			{
				Title:    "Plan S",
				Subtitle: "5 €/month",
				ImageUrl: "https://cdn.example.com/s.png",
				Buttons:  []*batonv1.Button{payload("Choose", "PLAN_S"), link("Details", "https://example.com/s")},
			},
			{Title: "Plan M"},
		}}}},
		{Kind: &batonv1.MessageContent_QuickReplies{QuickReplies: &batonv1.QuickReplies{
			Text:    "Was this helpful?",
			Replies: []*batonv1.QuickReply{{Title: "Yes", Payload: "YES"}, {Title: "No", Payload: "NO"}},
		}}},
		{Kind: &batonv1.MessageContent_Postback{Postback: &batonv1.Postback{Title: "Billing", Payload: "BILLING"}}},
		{Kind: &batonv1.MessageContent_Location{Location: &batonv1.Location{
			Latitude:  -33.868819700000004,
			Longitude: 1.0 / 3,
			Name:      "Opera House",
			Address:   "Bennelong Point, Sydney",
		}}},
	}
}

func TestContentRoundTrip(t *testing.T) {
	kinds := (&batonv1.MessageContent{}).ProtoReflect().Descriptor().Oneofs().ByName("kind").Fields()
	covered := map[protoreflect.Name]bool{}
	for _, c := range contentCases() {
		kind := c.ProtoReflect().WhichOneof(c.ProtoReflect().Descriptor().Oneofs().ByName("kind")).Name()
		covered[kind] = true
		t.Run(string(kind), func(t *testing.T) {
			raw := mustContent(t, c)
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatalf("not JSON: %v: %s", err, raw)
			}
			if !bytes.Equal(raw, compact.Bytes()) {
				t.Errorf("not compact: %s", raw)
			}
			m, err := messageToProto(domain.Message{ID: "msg_1", Content: raw})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(c, m.GetContent(), protocmp.Transform()); d != "" {
				t.Errorf("round trip through %s (-want +got):\n%s", raw, d)
			}
		})
	}
	for i := range kinds.Len() {
		if name := kinds.Get(i).Name(); !covered[name] {
			t.Errorf("content kind %s has no round-trip case", name)
		}
	}
}

func TestContentEncoding(t *testing.T) {
	raw := mustContent(t, textContent("hi"))
	if want := `{"text":{"text":"hi"}}`; string(raw) != want {
		t.Errorf("EncodeContent = %s, want %s", raw, want)
	}
}

func TestContentUnknownFieldsIgnored(t *testing.T) {
	m, err := messageToProto(domain.Message{ID: "msg_1", Content: json.RawMessage(`{"text":{"text":"hi","future":1}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(textContent("hi"), m.GetContent(), protocmp.Transform()); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

func ptr[T any](v T) *T { return &v }

func TestConvertWebhook(t *testing.T) {
	diff(t, wantWebhook(), webhookToProto(testWebhook()))
}

func testWebhook() domain.Webhook {
	return domain.Webhook{
		ID: "wh_1", BotID: "bot_1", URL: "https://bot.example.com/hook",
		EventTypes: []domain.EventType{domain.EventMessageReceived}, ChannelIDs: []string{"ch_1"},
		State: domain.WebhookInactive, InactiveReason: "the endpoint answered 410 Gone", InactivePolicy: domain.PolicyKeep,
		ConsecutiveFailures: 1, Secret: "whsec_c2VjcmV0", PreviousSecret: "whsec_b2xk", PreviousSecretExpireTime: t1,
		VerifyTime: t0, CreateTime: t0, UpdateTime: t1, Revision: 3,
	}
}

// wantWebhook is testWebhook on the wire: no secret leaves.
func wantWebhook() *batonv1.Webhook {
	return &batonv1.Webhook{
		Id: "wh_1", BotId: "bot_1", Url: "https://bot.example.com/hook",
		Filters: &batonv1.WebhookFilters{
			EventTypes: []batonv1.EventType{batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED}, ChannelIds: []string{"ch_1"},
		},
		State: batonv1.WebhookState_WEBHOOK_STATE_INACTIVE, InactiveReason: "the endpoint answered 410 Gone",
		InactivePolicy: batonv1.InactivePolicy_INACTIVE_POLICY_KEEP, ConsecutiveFailures: 1,
		PreviousSecretExpireTime: ts(t1), VerifyTime: ts(t0), CreateTime: ts(t0), UpdateTime: ts(t1), Etag: "3",
	}
}

func TestConvertDelivery(t *testing.T) {
	d := app.DeliveryLog{
		Delivery: domain.Delivery{
			ID: "ev_1.wh_1", WebhookID: "wh_1", EventID: "ev_1", EventType: domain.EventMessageReceived,
			ConversationID: "conv_1", State: domain.DeliveryStatePending, NextAttemptTime: t1, CreateTime: t0,
		},
		Attempts: []domain.Attempt{{DeliveryID: "ev_1.wh_1", Number: 1, Time: t0, StatusCode: 500, Error: "the endpoint answered 500", Latency: 20 * time.Millisecond}},
	}
	diff(t, &batonv1.Delivery{
		Id: "ev_1.wh_1", WebhookId: "wh_1", EventId: "ev_1", EventType: batonv1.EventType_EVENT_TYPE_MESSAGE_RECEIVED,
		ConversationId: "conv_1", State: batonv1.DeliveryState_DELIVERY_STATE_PENDING, NextAttemptTime: ts(t1), CreateTime: ts(t0),
		Attempts: []*batonv1.DeliveryAttempt{{
			Number: 1, Time: ts(t0), StatusCode: 500, Error: "the endpoint answered 500", Latency: durationpb.New(20 * time.Millisecond),
		}},
	}, deliveryToProto(d))
	// A dead (or delivered) delivery is due never.
	d.State = domain.DeliveryStateDead
	if got := deliveryToProto(d).GetNextAttemptTime(); got != nil {
		t.Errorf("dead delivery due %v", got)
	}
}
