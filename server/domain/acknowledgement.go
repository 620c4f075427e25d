package domain

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AckKind is a kind of customer acknowledgement: what Baton tells the customer on the way.
type AckKind string

// Acknowledgement kinds.
const (
	AckQueued          AckKind = "queued"           // waiting for an agent: position and estimated wait
	AckNobodyAvailable AckKind = "nobody_available" // no agent could take it; the bot keeps it
	AckOutOfHours      AckKind = "out_of_hours"     // the queue is closed
	AckAgentJoined     AckKind = "agent_joined"     // an agent owns it now
	AckTransferred     AckKind = "transferred"      // an agent passed it to another queue or agent
	AckBackWithBot     AckKind = "back_with_bot"    // the humans are done; the bot owns it again
	AckSLAApology      AckKind = "sla_apology"      // it waited past the queue's target
)

// DefaultAckTexts are the English texts used when a queue sends a kind it has no template for.
var DefaultAckTexts = map[AckKind]string{
	AckQueued:          "Thanks for your patience: you are number {position} in line. The estimated wait is {wait}.",
	AckNobodyAvailable: "Sorry, nobody from our team is available right now. You can keep chatting here.",
	AckOutOfHours:      "Our team is outside its opening hours right now.",
	AckAgentJoined:     "{agent} has joined the conversation.",
	AckTransferred:     "You are being transferred to a colleague who can help. Please hold on.",
	AckBackWithBot:     "You are back with our virtual assistant.",
	AckSLAApology:      "Sorry for the wait. Someone will be with you as soon as possible.",
}

// Acknowledgements configure the messages a queue's customers receive. They are off unless
// Enabled: a queue sends nothing new until its owner turns them on.
type Acknowledgements struct {
	Enabled bool `json:"enabled,omitempty"`
	// Disabled kinds are never sent.
	Disabled []AckKind `json:"disabled,omitempty"`
	// DefaultLanguage is the templates' language when the customer's has none; "en" when empty.
	DefaultLanguage string        `json:"default_language,omitempty"`
	Templates       []AckTemplate `json:"templates,omitempty"`
}

// AckTemplate is the text of one kind in one language. Placeholders: {position}, {wait},
// {agent}, {queue}.
type AckTemplate struct {
	Kind     AckKind `json:"kind"`
	Language string  `json:"language"`
	Text     string  `json:"text"`
}

// Sends reports whether the queue sends kind.
func (a Acknowledgements) Sends(kind AckKind) bool {
	return a.Enabled && !slices.Contains(a.Disabled, kind)
}

// Template picks kind's text for a customer: the first of the conversation's language, the
// contact's locale and the default language for which a template exists (an exact tag first,
// then its base language: "pt-BR", then "pt"), otherwise the English default text.
func (a Acknowledgements) Template(kind AckKind, languages ...string) string {
	candidates := append(slices.Clone(languages), cmp.Or(a.DefaultLanguage, "en"))
	for _, lang := range candidates {
		tag := normalizeLanguage(lang)
		if tag == "" {
			continue
		}
		base, _, _ := strings.Cut(tag, "-")
		for _, want := range []string{tag, base} {
			for _, t := range a.Templates {
				if t.Kind == kind && normalizeLanguage(t.Language) == want {
					return t.Text
				}
			}
		}
	}
	return DefaultAckTexts[kind]
}

// normalizeLanguage writes a language tag one way: "en_US" and "EN-us" are "en-us".
func normalizeLanguage(tag string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
}

// Check validates the acknowledgements; field names are relative to them.
func (a Acknowledgements) Check() error {
	for i, k := range a.Disabled {
		if _, ok := DefaultAckTexts[k]; !ok {
			return Invalid(fmt.Sprintf("disabled_kinds[%d]", i), "unknown acknowledgement kind %q", k)
		}
	}
	seen := map[string]bool{}
	for i, t := range a.Templates {
		field := fmt.Sprintf("templates[%d]", i)
		if _, ok := DefaultAckTexts[t.Kind]; !ok {
			return Invalid(field+".kind", "unknown acknowledgement kind %q", t.Kind)
		}
		key := string(t.Kind) + "\x00" + normalizeLanguage(t.Language)
		if seen[key] {
			return Invalid(field, "a second %s template in %q", t.Kind, t.Language)
		}
		seen[key] = true
	}
	return nil
}

// AckValues fill a template's placeholders.
type AckValues struct {
	Position int           // {position}: 1 for the next in line
	Wait     time.Duration // {wait}: 0 when nothing is known
	Agent    string        // {agent}: the agent's display name
	Queue    string        // {queue}: the queue's display name
}

// Render fills text's placeholders.
func (v AckValues) Render(text string) string {
	return strings.NewReplacer(
		"{position}", strconv.Itoa(v.Position),
		"{wait}", waitText(v.Wait),
		"{agent}", cmp.Or(v.Agent, "An agent"),
		"{queue}", v.Queue,
	).Replace(text)
}

// waitText says a wait in words, rounded up to the minute.
func waitText(d time.Duration) string {
	minutes := int((d + time.Minute - 1) / time.Minute)
	switch {
	case d <= 0:
		return "a few minutes"
	case minutes == 1:
		return "about 1 minute"
	case minutes < 120:
		return fmt.Sprintf("about %d minutes", minutes)
	default:
		return fmt.Sprintf("about %d hours", (minutes+59)/60)
	}
}

// BatonSender is the sender of the messages Baton itself sends the customer.
var BatonSender = Actor{Kind: ActorSystem, ID: "baton"}

// textContent is plain text in the API's content encoding (a MessageContent with text).
func textContent(s string) json.RawMessage {
	b, _ := json.Marshal(map[string]map[string]string{"text": {"text": s}})
	return b
}

// acknowledge sends the customer kind's message from q, when q sends it: an outbound message
// from Baton, pending in the outbox like any send, announced like any message sent.
func (t *transition) acknowledge(kind AckKind, q Queue, v AckValues) {
	acks := q.Policy.Acknowledgements
	if !acks.Sends(kind) {
		return
	}
	v.Queue = cmp.Or(v.Queue, q.DisplayName)
	text := v.Render(acks.Template(kind, t.conv.Language, t.s.Contact.Locale))
	m := Message{
		ID:              t.s.NewID("msg"),
		ConversationID:  t.conv.ID,
		ChannelID:       t.conv.ChannelID,
		Direction:       Outbound,
		Sender:          BatonSender,
		Content:         textContent(text),
		Status:          DeliveryPending,
		Epoch:           t.conv.Epoch,
		CreateTime:      t.s.Now,
		NextAttemptTime: t.s.Now,
	}
	t.messages = append(t.messages, m)
	t.emit(EventMessageSent, func(e *Event) { e.Message = &m; e.Actor = BatonSender })
}
