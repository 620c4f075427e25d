package domain

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// AutoHandoffPolicy says when Baton hands a bot's conversation to humans without the bot
// asking. It is set on a bot (for all its channels) or on a channel (which then wins). A zero
// policy does nothing.
type AutoHandoffPolicy struct {
	// NotUnderstoodLimit hands off after that many "not understood" statuses in a row from
	// the bot; 0 turns it off.
	NotUnderstoodLimit int `json:"not_understood_limit,omitempty"`
	// HumanWords hands off when a customer message holds one of the words of its language
	// (keyed by language, "en"; "*" for every language). HumanWordsOn with no words of its own
	// uses DefaultHumanWords.
	HumanWordsOn bool                `json:"human_words_on,omitempty"`
	HumanWords   map[string][]string `json:"human_words,omitempty"`
	// UnansweredTimeout hands off when a customer message has waited that long with no answer
	// from the bot; 0 turns it off.
	UnansweredTimeout time.Duration `json:"unanswered_timeout,omitempty"`
	// QueueID is where to hand off; the channel's default queue when empty.
	QueueID string `json:"queue_id,omitempty"`
	// QueueAnyway queues even when no agent can take the conversation now; otherwise the bot
	// keeps it and the handover is recorded as failed, as for a bot's own handoff.
	QueueAnyway bool `json:"queue_anyway,omitempty"`
}

// IsZero reports whether the policy does nothing.
func (p AutoHandoffPolicy) IsZero() bool {
	return p.NotUnderstoodLimit == 0 && !p.HumanWordsOn && p.UnansweredTimeout == 0
}

// Check refuses a policy that could not work.
func (p AutoHandoffPolicy) Check(field string) error {
	switch {
	case p.NotUnderstoodLimit < 0:
		return Invalid(field+".not_understood_limit", "must not be negative")
	case p.UnansweredTimeout < 0:
		return Invalid(field+".unanswered_timeout", "must not be negative")
	}
	for lang, words := range p.HumanWords {
		for _, w := range words {
			if strings.TrimSpace(w) == "" {
				return Invalid(field+".human_words", "language %q has an empty word", lang)
			}
		}
	}
	return nil
}

// DefaultHumanWords are the words that ask for a human when a policy names none.
var DefaultHumanWords = map[string][]string{
	"en": {"human", "agent", "person", "operator", "representative", "real person", "someone real"},
	"de": {"mensch", "mitarbeiter", "berater", "person"},
	"fr": {"humain", "agent", "conseiller", "personne", "opérateur"},
	"es": {"humano", "agente", "persona", "asesor", "operador"},
	"nl": {"mens", "medewerker", "persoon"},
}

// Automatic handoff reasons, on the handover and its owner change.
const (
	ReasonNotUnderstood = "auto_handoff.not_understood"
	ReasonAskedForHuman = "auto_handoff.asked_for_human"
	ReasonUnanswered    = "auto_handoff.unanswered"
)

// EffectivePolicy is the automatic handoff policy of a conversation: its channel's when set,
// otherwise its bot's.
func EffectivePolicy(s Situation) AutoHandoffPolicy {
	if !s.Channel.AutoHandoff.IsZero() || s.Bot == nil {
		return s.Channel.AutoHandoff
	}
	return s.Bot.AutoHandoff
}

// ReportStatus records the status the bot or an agent reports: the run of "not understood"
// statuses grows with each one reported, and any other status ends it.
func ReportStatus(c Conversation, st ConversationStatus) Conversation {
	c.Status = st
	if st == StatusNotUnderstood {
		c.NotUnderstoodCount++
	} else {
		c.NotUnderstoodCount = 0
	}
	return c
}

// AutoHandoffOnStatus hands off a bot-owned conversation whose bot has not understood the
// customer NotUnderstoodLimit times in a row (s.Conversation carries the run). ok is false
// when the policy does not call for it.
func AutoHandoffOnStatus(s Situation, p AutoHandoffPolicy, r Routing) (Change, bool) {
	n := p.NotUnderstoodLimit
	if n <= 0 || s.Conversation.NotUnderstoodCount < n {
		return Change{}, false
	}
	return autoHandoff(s, p, fmt.Sprintf("%s: %d in a row", ReasonNotUnderstood, s.Conversation.NotUnderstoodCount), r)
}

// AutoHandoffOnMessage hands off a bot-owned conversation whose customer asked for a human in
// text, as the policy's words for the conversation's language say.
func AutoHandoffOnMessage(s Situation, p AutoHandoffPolicy, text string, r Routing) (Change, bool) {
	if !p.HumanWordsOn {
		return Change{}, false
	}
	word, ok := AsksForHuman(p, Language(s), text)
	if !ok {
		return Change{}, false
	}
	return autoHandoff(s, p, fmt.Sprintf("%s: %q", ReasonAskedForHuman, word), r)
}

// AutoHandoffUnanswered hands off a bot-owned conversation whose customer has waited
// UnansweredTimeout for an answer from the bot. A policy that no longer calls for it clears
// the conversation's deadline, so the timer does not find it again.
func AutoHandoffUnanswered(s Situation, p AutoHandoffPolicy, r Routing) (Change, bool) {
	c := s.Conversation
	if c.UnansweredDeadline.IsZero() {
		return Change{}, false
	}
	waiting := c.UnansweredDeadline.Add(-p.UnansweredTimeout) // when the customer began to wait
	if p.UnansweredTimeout <= 0 || c.Owner.Kind != OwnerBot || c.State != ConversationOpen {
		c.UnansweredDeadline = time.Time{}
		return Change{Conversation: c}, true
	}
	if s.Now.Before(c.UnansweredDeadline) {
		return Change{}, false
	}
	return autoHandoff(s, p, fmt.Sprintf("%s: no answer for %s", ReasonUnanswered, s.Now.Sub(waiting).Round(time.Second)), r)
}

// autoHandoff hands the conversation off as its bot would, with the system as the actor. The
// run of "not understood" statuses and the unanswered deadline end with it, whether or not an
// agent could take the conversation, so that one run triggers one attempt.
func autoHandoff(s Situation, p AutoHandoffPolicy, reason string, r Routing) (Change, bool) {
	if s.Conversation.Owner.Kind != OwnerBot || s.Conversation.State != ConversationOpen {
		return Change{}, false
	}
	s.Conversation.NotUnderstoodCount = 0
	s.Conversation.UnansweredDeadline = time.Time{}
	change, err := Handoff(s, System, HandoffRequest{
		Target: Target{QueueID: r.Queue.ID}, Reason: reason, QueueAnyway: p.QueueAnyway,
	}, r)
	return change, err == nil
}

// AutoHandoffQueue is the queue an automatic handoff goes to.
func AutoHandoffQueue(s Situation, p AutoHandoffPolicy) string {
	if p.QueueID != "" {
		return p.QueueID
	}
	return s.Channel.DefaultQueueID
}

// Language is the conversation's language: as set on it, otherwise from the contact's locale
// ("pt_BR" is "pt"); "" when neither says.
func Language(s Situation) string {
	lang := s.Conversation.Language
	if lang == "" {
		lang = s.Contact.Locale
	}
	lang, _, _ = strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	return strings.ToLower(lang)
}

// AsksForHuman reports the first of the policy's words for lang that text holds as whole
// words, case-insensitively. With no language known, every language's words count.
func AsksForHuman(p AutoHandoffPolicy, lang, text string) (string, bool) {
	words := p.HumanWords
	if len(words) == 0 {
		words = DefaultHumanWords
	}
	var candidates []string
	if lang == "" {
		for _, ws := range words {
			candidates = append(candidates, ws...)
		}
	} else {
		candidates = append(slices.Clone(words[lang]), words["*"]...)
	}
	// The longest phrase first, then by spelling: a reproducible, most specific answer.
	slices.SortFunc(candidates, func(a, b string) int {
		return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b))
	})
	said := " " + strings.Join(tokens(text), " ") + " "
	for _, w := range candidates {
		if t := tokens(w); len(t) > 0 && strings.Contains(said, " "+strings.Join(t, " ")+" ") {
			return w, true
		}
	}
	return "", false
}

// tokens splits text into lower-case words, dropping punctuation.
func tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Unanswered sets the deadline of an automatic handoff for a customer message received at now
// in a bot-owned conversation: counted from the first message the bot has not answered.
func Unanswered(c Conversation, p AutoHandoffPolicy, now time.Time) Conversation {
	if p.UnansweredTimeout <= 0 || c.Owner.Kind != OwnerBot || !c.UnansweredDeadline.IsZero() {
		return c
	}
	c.UnansweredDeadline = now.Add(p.UnansweredTimeout)
	return c
}
