package app

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/ids"
	"github.com/batonhq/baton/server/store"
)

// Inbound is a customer message as a channel delivers it.
type Inbound struct {
	ChannelID        string
	Contact          domain.Contact // ExternalID, DisplayName, Locale, Attributes
	ChannelMessageID string
	Content          json.RawMessage
	// EntryPoint is where the customer came from, when the channel says with this message.
	EntryPoint string
}

// Ingested is the result of ingesting a message.
type Ingested struct {
	Message      domain.Message
	Conversation domain.Conversation
	Contact      domain.Contact
	Duplicate    bool
}

// Ingest stores an inbound customer message, creating the contact and the conversation on
// first contact. A message whose channel message id was seen before stores nothing and
// returns the original.
func (a *App) Ingest(ctx context.Context, p domain.Principal, in Inbound) (Ingested, error) {
	// Two deliveries of one message (or two first messages of one contact) racing on a shared
	// database: the loser hits a unique key and, retried, finds the winner's rows.
	for attempt := 1; ; attempt++ {
		out, err := a.ingest(ctx, p, in)
		if !errors.Is(err, store.ErrDuplicate) || attempt == 3 {
			return out, err
		}
	}
}

func (a *App) ingest(ctx context.Context, p domain.Principal, in Inbound) (Ingested, error) {
	var out Ingested
	q := store.InboundQuery{ChannelID: in.ChannelID, ChannelMessageID: in.ChannelMessageID, ContactExternalID: in.Contact.ExternalID}
	err := a.writeInbound(ctx, q, func(tx store.Tx) error {
		// The hot path: one read brings everything the rules need, the conversation locked.
		state, err := tx.LoadInbound(ctx, q)
		if err != nil {
			return err
		}
		if !domain.CanIngest(p, state.Channel) {
			return ingestRefusal(p, state.Channel.ID)
		}
		if state.Message != nil {
			out, err = a.duplicate(ctx, tx, *state.Message)
			return err
		}
		out, err = a.ingestNew(ctx, tx, state, in)
		return err
	})
	return out, err
}

func (a *App) duplicate(ctx context.Context, tx store.Tx, m domain.Message) (Ingested, error) {
	conv, err := tx.GetConversation(ctx, m.ConversationID)
	if err != nil {
		return Ingested{}, err
	}
	contact, err := tx.GetContact(ctx, conv.ContactID)
	return Ingested{Message: m, Conversation: conv, Contact: contact, Duplicate: true}, err
}

func (a *App) ingestNew(ctx context.Context, tx store.Tx, state store.Inbound, in Inbound) (Ingested, error) {
	if state.Contact != nil && state.Contact.Erased() {
		return Ingested{}, domain.Invalid("contact.external_id", "names an erased contact")
	}
	now := a.Now()
	contact, err := a.upsertContact(ctx, tx, state.Channel.ID, state.Contact, in.Contact, now)
	if err != nil {
		return Ingested{}, err
	}
	s := domain.Situation{Now: now, Channel: state.Channel, Bot: state.Bot, Contact: contact, Active: state.Active, NewID: ids.New}
	if state.Conversation != nil {
		s.Conversation = *state.Conversation
	} else if s.Conversation, err = a.startConversation(ctx, tx, s); err != nil {
		return Ingested{}, err
	}
	if in.EntryPoint != "" {
		s.Conversation.EntryPoint = in.EntryPoint // the latest the channel reported
	}
	r, err := a.defaultRouting(ctx, tx, s)
	if err != nil {
		return Ingested{}, err
	}
	change := domain.Receive(s, domain.Message{
		ID:               ids.New("msg"),
		ConversationID:   s.Conversation.ID,
		ChannelID:        state.Channel.ID,
		Direction:        domain.Inbound,
		Sender:           domain.Actor{Kind: domain.ActorCustomer, ID: contact.ID},
		Content:          in.Content,
		ChannelMessageID: in.ChannelMessageID,
		Status:           domain.DeliveryDelivered,
		CreateTime:       now,
	}, r)
	// The hot path decodes content only when asked to, and loads routing only for a message
	// that asks for a human.
	if p := domain.EffectivePolicy(s); p.HumanWordsOn {
		text := inboundText(in.Content)
		if _, asks := domain.AsksForHuman(p, domain.Language(s), text); asks {
			if change, err = a.autoHandoff(ctx, tx, s, change, func(s domain.Situation, p domain.AutoHandoffPolicy, r domain.Routing) (domain.Change, bool) {
				return domain.AutoHandoffOnMessage(s, p, text, r)
			}); err != nil {
				return Ingested{}, err
			}
		}
	}
	a.recordOwnerChanges(ctx, "receive", change)
	msg := *received(change)
	if err := tx.CreateMessage(ctx, msg); err != nil {
		return Ingested{}, err
	}
	if _, err := apply(ctx, tx, change); err != nil {
		return Ingested{}, err
	}
	stored := change.Conversation
	stored.Revision++ // as UpdateConversation stored it
	return Ingested{Message: msg, Conversation: stored, Contact: contact}, nil
}

// startConversation creates the conversation of a contact's first message.
func (a *App) startConversation(ctx context.Context, tx store.Tx, s domain.Situation) (domain.Conversation, error) {
	r, err := a.defaultRouting(ctx, tx, s)
	if err != nil {
		return domain.Conversation{}, err
	}
	ch := domain.NewConversation(s, ids.New("conv"), r)
	a.recordOwnerChanges(ctx, "new_conversation", ch)
	if err := tx.CreateConversation(ctx, ch.Conversation); err != nil {
		return domain.Conversation{}, err
	}
	if err := saveHandovers(ctx, tx, ch); err != nil {
		return domain.Conversation{}, err
	}
	if err := createMessages(ctx, tx, ch); err != nil {
		return domain.Conversation{}, err
	}
	_, err = tx.AppendEvents(ctx, ch.Events)
	return ch.Conversation, err
}

// defaultRouting loads the default queue's routing when the conversation's default owner is
// that queue; a bot-owned default needs none.
func (a *App) defaultRouting(ctx context.Context, tx store.Tx, s domain.Situation) (domain.Routing, error) {
	if domain.DefaultOwner(s).Kind != domain.OwnerQueue {
		return domain.Routing{}, nil
	}
	return a.routing(ctx, tx, s.Channel.DefaultQueueID)
}

// upsertContact creates the channel's contact when it is new (known is nil), or refreshes the
// profile the channel reports.
func (a *App) upsertContact(ctx context.Context, tx store.Tx, channelID string, known *domain.Contact, in domain.Contact, now time.Time) (domain.Contact, error) {
	if known == nil {
		c := domain.Contact{
			ID: ids.New("ct"), ChannelID: channelID, ExternalID: in.ExternalID, DisplayName: in.DisplayName,
			Locale: in.Locale, Attributes: in.Attributes, CreateTime: now, UpdateTime: now,
		}
		return c, tx.CreateContact(ctx, c)
	}
	c := *known
	changed := false
	if in.DisplayName != "" && in.DisplayName != c.DisplayName {
		c.DisplayName, changed = in.DisplayName, true
	}
	if in.Locale != "" && in.Locale != c.Locale {
		c.Locale, changed = in.Locale, true
	}
	if len(in.Attributes) > 0 && !maps.Equal(in.Attributes, c.Attributes) {
		merged := maps.Clone(c.Attributes)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, in.Attributes)
		c.Attributes, changed = merged, true
	}
	if !changed {
		return c, nil
	}
	c.UpdateTime = now
	if err := tx.UpdateContact(ctx, c); err != nil {
		return c, err
	}
	c.Revision++
	return c, nil
}

// received is the customer's message a Receive change records (after any acknowledgement).
func received(ch domain.Change) *domain.Message {
	for _, e := range ch.Events {
		if e.Type == domain.EventMessageReceived {
			return e.Message
		}
	}
	return nil
}

func lastMessage(ch domain.Change) *domain.Message {
	for i := len(ch.Events) - 1; i >= 0; i-- {
		if m := ch.Events[i].Message; m != nil {
			return m
		}
	}
	return nil
}

// Outbound is a message a bot or agent sends.
type Outbound struct {
	ConversationID string
	ExpectedEpoch  *uint64
	RequestID      string
	// Render gives the content to store for the conversation's kind of channel: the content
	// as asked, a text rendering of it, or an error naming what the channel cannot show.
	Render func(domain.ChannelKind) (json.RawMessage, error)
}

// Send stores an outbound message from the calling bot or agent, which must own the
// conversation at the epoch it believes in. A retry with the same request id returns the
// message stored the first time.
func (a *App) Send(ctx context.Context, p domain.Principal, in Outbound) (domain.Message, error) {
	var out domain.Message
	err := a.write(ctx, func(tx store.Tx) error {
		s, _, err := a.authorized(ctx, tx, p, in.ConversationID)
		if err != nil {
			return err
		}
		if err := refuseErased(s); err != nil {
			return err
		}
		if in.RequestID != "" {
			if out, err = tx.GetMessageByRequestID(ctx, s.Conversation.ID, in.RequestID); !isNotFound(err) {
				return err
			}
		}
		content, err := in.Render(s.Channel.Kind)
		if err != nil {
			return err
		}
		msg := domain.Message{
			ID: ids.New("msg"), ConversationID: s.Conversation.ID, ChannelID: s.Channel.ID,
			Direction: domain.Outbound, Content: content, RequestID: in.RequestID,
			Status: domain.DeliveryPending, CreateTime: s.Now, NextAttemptTime: s.Now,
		}
		change, err := domain.Send(s, p.Actor(), in.ExpectedEpoch, msg)
		if err != nil {
			return err
		}
		out = *lastMessage(change)
		if err := tx.CreateMessage(ctx, out); err != nil {
			return err
		}
		_, err = apply(ctx, tx, change)
		return err
	})
	if err == nil {
		a.queued() // the outbox sends it
	}
	return out, err
}

// Note stores an internal note by p on a conversation p may see (see domain.Note). A retry with
// the same request id returns the note already stored.
func (a *App) Note(ctx context.Context, p domain.Principal, conversationID, requestID string, content json.RawMessage) (domain.Message, error) {
	var out domain.Message
	err := a.write(ctx, func(tx store.Tx) error {
		s, _, err := a.authorized(ctx, tx, p, conversationID)
		if err != nil {
			return err
		}
		if err := refuseErased(s); err != nil {
			return err
		}
		if requestID != "" {
			if out, err = tx.GetMessageByRequestID(ctx, s.Conversation.ID, requestID); !isNotFound(err) {
				return err
			}
		}
		msg := domain.Message{
			ID: ids.New("msg"), ConversationID: s.Conversation.ID, ChannelID: s.Channel.ID,
			Content: content, RequestID: requestID, CreateTime: s.Now,
		}
		change, err := domain.Note(s, p.Actor(), msg)
		if err != nil {
			return err
		}
		out = *lastMessage(change)
		if err := tx.CreateMessage(ctx, out); err != nil {
			return err
		}
		_, err = tx.AppendEvents(ctx, change.Events) // the conversation itself is unchanged
		return err
	})
	return out, err
}

// ref names the resource a call asked for, so that a refusal names it and nothing else.
type ref struct{ kind, id string }

func conversationRef(id string) ref { return ref{"conversation", id} }

// authorized loads a conversation's situation and checks the principal may see it. It returns
// the calling agent's record for agent principals.
func (a *App) authorized(ctx context.Context, tx store.Tx, p domain.Principal, conversationID string) (domain.Situation, *domain.Agent, error) {
	return a.authorizedAs(ctx, tx, p, conversationID, conversationRef(conversationID))
}

// authorizedAs is authorized for a call that asked for r, a resource of the conversation (a
// handover): a refusal names r. A former party to the conversation is told it lost it and who
// has it now; anyone else that r does not exist.
func (a *App) authorizedAs(ctx context.Context, tx store.Tx, p domain.Principal, conversationID string, r ref) (domain.Situation, *domain.Agent, error) {
	s, err := a.situation(ctx, tx, conversationID)
	if err != nil {
		return s, nil, err
	}
	agent, err := a.callingAgent(ctx, tx, p)
	if err != nil {
		return s, nil, err
	}
	if domain.CanSeeConversation(p, s.Conversation, s.Channel, s.Active, agent) {
		return s, agent, nil
	}
	owners, handovers, err := a.past(ctx, tx, p, conversationID)
	if err != nil {
		return s, nil, err
	}
	if domain.FormerParty(p, owners, handovers, agent) {
		return s, nil, domain.Lost(s.Conversation)
	}
	return s, nil, domain.NotFound(r.kind, r.id)
}

// maxPastHandovers bounds how many of a conversation's handovers (the newest) are read to tell
// whether an agent that may no longer see it once had a part in it.
const maxPastHandovers = 500

// past reads what domain.FormerParty needs of a conversation's history for p: the owners it had
// for a bot, the handovers for an agent.
func (a *App) past(ctx context.Context, tx store.Tx, p domain.Principal, conversationID string) ([]domain.Owner, []domain.Handover, error) {
	switch p.Role {
	case domain.PrincipalBot:
		changes, err := tx.ListOwnerChanges(ctx, conversationID)
		owners := make([]domain.Owner, 0, len(changes))
		for _, e := range changes {
			owners = append(owners, e.OwnerChange.To)
		}
		return owners, nil, err
	case domain.PrincipalAgent:
		hs, _, err := tx.ListHandovers(ctx, store.HandoverQuery{ConversationID: conversationID}, store.Page{Size: maxPastHandovers})
		return nil, hs, err
	}
	return nil, nil, nil
}

// notOwner refuses a call only the owner, a supervisor or an admin may make. A bot or agent that
// sees the conversation but does not own it (it may have just lost it) learns who owns it now;
// other kinds of key may not make the call at all.
func notOwner(p domain.Principal, c domain.Conversation, what string) error {
	if p.Role == domain.PrincipalBot || p.Role == domain.PrincipalAgent {
		return domain.NotOwner(c, "only the owner, a supervisor or an admin may %s", what)
	}
	return domain.Forbidden("only the owner, a supervisor or an admin may %s", what)
}

// callingAgent loads the agent behind an agent principal; nil for other principals.
func (a *App) callingAgent(ctx context.Context, tx store.Tx, p domain.Principal) (*domain.Agent, error) {
	if p.Role != domain.PrincipalAgent {
		return nil, nil
	}
	ag, err := tx.GetAgent(ctx, p.SubjectID)
	if isNotFound(err) {
		return nil, domain.Forbidden("the agent of this key no longer exists")
	}
	return &ag, err
}

// GetConversation returns a conversation the principal may see.
func (a *App) GetConversation(ctx context.Context, p domain.Principal, id string) (domain.Conversation, error) {
	var out domain.Conversation
	err := a.read(ctx, func(tx store.Tx) error {
		s, _, err := a.authorized(ctx, tx, p, id)
		out = s.Conversation
		return err
	})
	return out, err
}

// ListConversations lists the conversations matching q that the principal may see.
func (a *App) ListConversations(ctx context.Context, p domain.Principal, q store.ConversationQuery, page store.Page) ([]domain.Conversation, string, error) {
	var out []domain.Conversation
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		if p.Role == domain.PrincipalBot {
			bot, err := tx.GetBot(ctx, p.SubjectID)
			if err != nil {
				return err
			}
			q.ChannelIDs = append([]string{}, bot.ChannelIDs...)
		}
		convs, n, err := tx.ListConversations(ctx, q, page)
		if err != nil {
			return err
		}
		next = n
		out, err = a.visible(ctx, tx, p, convs)
		return err
	})
	return out, next, err
}

// visible keeps the conversations an agent principal may see; others see the whole page.
func (a *App) visible(ctx context.Context, tx store.Tx, p domain.Principal, convs []domain.Conversation) ([]domain.Conversation, error) {
	agent, err := a.callingAgent(ctx, tx, p)
	if err != nil || agent == nil {
		return convs, err
	}
	channels := map[string]domain.Channel{}
	var out []domain.Conversation
	for _, c := range convs {
		ch, ok := channels[c.ChannelID]
		if !ok {
			if ch, err = tx.GetChannel(ctx, c.ChannelID); err != nil {
				return nil, err
			}
			channels[c.ChannelID] = ch
		}
		var active *domain.Handover
		if c.ActiveHandoverID != "" {
			h, err := tx.GetHandover(ctx, c.ActiveHandoverID)
			if err != nil {
				return nil, err
			}
			active = &h
		}
		if domain.CanSeeConversation(p, c, ch, active, agent) {
			out = append(out, c)
		}
	}
	return out, nil
}

// ConversationUpdate sets a conversation's status, language and tags. Nil fields are kept.
type ConversationUpdate struct {
	ID         string
	Etag       string
	Status     *domain.ConversationStatus
	Language   *string
	AddTags    []string
	RemoveTags []string
}

// UpdateConversation applies u and announces it.
func (a *App) UpdateConversation(ctx context.Context, p domain.Principal, u ConversationUpdate) (domain.Conversation, error) {
	var out domain.Conversation
	err := a.write(ctx, func(tx store.Tx) error {
		if p.Role == domain.PrincipalService {
			return domain.Forbidden("service keys read and ingest; they do not change conversations")
		}
		s, _, err := a.authorized(ctx, tx, p, u.ID)
		if err != nil {
			return err
		}
		c := s.Conversation
		if err := etagMatches(u.Etag, c.Revision); err != nil {
			return err
		}
		if u.Status != nil {
			c = domain.ReportStatus(c, *u.Status)
		}
		if u.Language != nil {
			c.Language = *u.Language
		}
		added := slices.DeleteFunc(editTags(nil, u.AddTags, nil), func(t string) bool { return slices.Contains(c.Tags, t) })
		c.Tags = editTags(c.Tags, u.AddTags, u.RemoveTags)
		c.UpdateTime = s.Now
		s.Conversation = c
		change := domain.Change{Conversation: c, Events: []domain.Event{domain.ConversationUpdated(s, p.Actor())}}
		handoff, err := a.tagHandoff(ctx, tx, s, p.Actor(), added)
		if err != nil {
			return err
		}
		if handoff != nil {
			a.recordOwnerChanges(ctx, "tag_handoff", *handoff)
			handoff.Events = append(change.Events, handoff.Events...)
			change = *handoff
		} else if u.Status != nil { // a tag's handoff goes first: one handoff per update
			if change, err = a.autoHandoff(ctx, tx, s, change, func(s domain.Situation, p domain.AutoHandoffPolicy, r domain.Routing) (domain.Change, bool) {
				return domain.AutoHandoffOnStatus(s, p, r)
			}); err != nil {
				return err
			}
			a.recordOwnerChanges(ctx, "auto_handoff", change)
		}
		if _, err := apply(ctx, tx, change); err != nil {
			return err
		}
		out, err = tx.GetConversation(ctx, c.ID)
		return err
	})
	return out, err
}

// tagHandoff hands a bot-owned conversation off when a routing rule hands off on one of the
// tags just added; nil when none does.
func (a *App) tagHandoff(ctx context.Context, tx store.Tx, s domain.Situation, actor domain.Actor, added []string) (*domain.Change, error) {
	if len(added) == 0 || s.Conversation.Owner.Kind != domain.OwnerBot {
		return nil, nil
	}
	m, err := a.route(ctx, tx, s, domain.RouteInput{Trigger: domain.TriggerTagChange, AddedTags: added})
	if err != nil || m.Rule == nil {
		return nil, err
	}
	r, err := a.targetRouting(ctx, tx, s, m.Target)
	if err != nil {
		return nil, err
	}
	if r.Redirect, err = a.outOfHoursRouting(ctx, tx, r.Queue, s.Now); err != nil {
		return nil, err
	}
	ch, ok := domain.TagHandoff(s, actor, m, r)
	if !ok {
		return nil, nil
	}
	return &ch, nil
}

func editTags(tags, add, remove []string) []string {
	out := slices.Clone(tags)
	for _, t := range add {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	out = slices.DeleteFunc(out, func(t string) bool { return slices.Contains(remove, t) })
	slices.Sort(out)
	return out
}

// Close closes a conversation.
func (a *App) Close(ctx context.Context, p domain.Principal, id string, expected *uint64, reason string) (domain.Conversation, error) {
	var out domain.Conversation
	err := a.traced(ctx, "close", func(ctx context.Context) (domain.Change, error) {
		var change domain.Change
		err := a.write(ctx, func(tx store.Tx) error {
			s, agent, err := a.authorized(ctx, tx, p, id)
			if err != nil {
				return err
			}
			if !domain.CanSupervise(p, s.Conversation, agent) {
				return notOwner(p, s.Conversation, "close a conversation")
			}
			if change, err = domain.Close(s, p.Actor(), expected, reason); err != nil {
				return err
			}
			out, err = a.store1(ctx, tx, change)
			return err
		})
		return change, err
	})
	return out, err
}

// store1 applies a change and returns the stored conversation.
func (a *App) store1(ctx context.Context, tx store.Tx, change domain.Change) (domain.Conversation, error) {
	if _, err := apply(ctx, tx, change); err != nil {
		return domain.Conversation{}, err
	}
	return tx.GetConversation(ctx, change.Conversation.ID)
}

// ListMessages lists a conversation's messages.
func (a *App) ListMessages(ctx context.Context, p domain.Principal, conversationID string, page store.Page) ([]domain.Message, string, error) {
	var out []domain.Message
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		if _, _, err := a.authorized(ctx, tx, p, conversationID); err != nil {
			return err
		}
		var err error
		out, next, err = tx.ListMessages(ctx, conversationID, page)
		// A bot's page may come out shorter: it never sees internal notes.
		out = slices.DeleteFunc(out, func(m domain.Message) bool { return !m.VisibleTo(p) })
		return err
	})
	return out, next, err
}

// GetContact returns a contact. Bots see only contacts of their channels.
func (a *App) GetContact(ctx context.Context, p domain.Principal, id string) (domain.Contact, error) {
	var out domain.Contact
	err := a.read(ctx, func(tx store.Tx) error {
		var err error
		if out, err = tx.GetContact(ctx, id); err != nil {
			return err
		}
		return a.canSeeChannel(ctx, tx, p, out.ChannelID, ref{"contact", id})
	})
	return out, err
}

// ListContacts lists or searches contacts. Bots must name a channel they are bound to.
func (a *App) ListContacts(ctx context.Context, p domain.Principal, q store.ContactQuery, page store.Page) ([]domain.Contact, string, error) {
	var out []domain.Contact
	var next string
	err := a.read(ctx, func(tx store.Tx) error {
		if q.ChannelID == "" && (p.Role == domain.PrincipalBot || p.Role == domain.PrincipalAgent) {
			agent, err := a.callingAgent(ctx, tx, p)
			if err != nil {
				return err
			}
			if agent == nil || agent.Role != domain.RoleSupervisor {
				return domain.Forbidden("name a channel_id: bots and agents list the contacts of their own channels")
			}
		}
		if q.ChannelID != "" {
			if err := a.canSeeChannel(ctx, tx, p, q.ChannelID, ref{"channel", q.ChannelID}); err != nil {
				return err
			}
		}
		var err error
		out, next, err = tx.ListContacts(ctx, q, page)
		return err
	})
	return out, next, err
}

// canSeeChannel checks p may see the channel, for a call that asked for r (the channel, or one
// of its contacts): a refusal says r does not exist.
func (a *App) canSeeChannel(ctx context.Context, tx store.Tx, p domain.Principal, channelID string, r ref) error {
	ch, err := tx.GetChannel(ctx, channelID)
	if err != nil {
		return err
	}
	agent, err := a.callingAgent(ctx, tx, p)
	if err != nil {
		return err
	}
	if !domain.CanSeeChannel(p, ch, agent) {
		return domain.NotFound(r.kind, r.id)
	}
	return nil
}

// MuteConversation mutes the bot for one conversation until now+d.
func (a *App) MuteConversation(ctx context.Context, p domain.Principal, id string, d time.Duration) (domain.Conversation, error) {
	return a.superviseConversation(ctx, p, id, "mute", func(tx store.Tx, s domain.Situation) (domain.Change, error) {
		r, err := a.routing(ctx, tx, s.Channel.DefaultQueueID)
		return domain.Mute(s, p.Actor(), s.Now.Add(muteDuration(d)), r), err
	})
}

// UnmuteConversation lifts the bot's mute for one conversation.
func (a *App) UnmuteConversation(ctx context.Context, p domain.Principal, id string) (domain.Conversation, error) {
	return a.superviseConversation(ctx, p, id, "unmute", func(tx store.Tx, s domain.Situation) (domain.Change, error) {
		return domain.Unmute(s, p.Actor()), nil
	})
}

// SetBotEnabled turns the bot off or on for one conversation.
func (a *App) SetBotEnabled(ctx context.Context, p domain.Principal, id string, enabled bool) (domain.Conversation, error) {
	return a.superviseConversation(ctx, p, id, "set_bot_enabled", func(tx store.Tx, s domain.Situation) (domain.Change, error) {
		r, err := a.routing(ctx, tx, s.Channel.DefaultQueueID)
		return domain.SetBotEnabled(s, p.Actor(), enabled, r), err
	})
}

// superviseConversation runs a supervisor action on one conversation as a traced transition.
func (a *App) superviseConversation(ctx context.Context, p domain.Principal, id, name string, rule func(store.Tx, domain.Situation) (domain.Change, error)) (domain.Conversation, error) {
	var out domain.Conversation
	err := a.traced(ctx, name, func(ctx context.Context) (domain.Change, error) {
		var change domain.Change
		err := a.write(ctx, func(tx store.Tx) error {
			s, agent, err := a.authorized(ctx, tx, p, id)
			if err != nil {
				return err
			}
			if !domain.CanSupervise(p, s.Conversation, agent) {
				return notOwner(p, s.Conversation, strings.ReplaceAll(name, "_", " "))
			}
			if change, err = rule(tx, s); err != nil {
				return err
			}
			out, err = a.store1(ctx, tx, change)
			return err
		})
		return change, err
	})
	return out, err
}

func muteDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return domain.DefaultMuteDuration
	}
	return d
}

// MuteContact mutes the bot for every conversation of a contact until now+d (zero d unmutes).
func (a *App) MuteContact(ctx context.Context, p domain.Principal, contactID string, d time.Duration, mute bool) (domain.Contact, error) {
	var out domain.Contact
	err := a.write(ctx, func(tx store.Tx) error {
		c, err := tx.GetContact(ctx, contactID)
		if err != nil {
			return err
		}
		if err := a.canSuperviseContact(ctx, tx, p, c); err != nil { // locks its conversation
			return err
		}
		if c, err = forUpdate(ctx, tx, store.KindContact, contactID, tx.GetContact); err != nil {
			return err
		}
		now := a.Now()
		typ := domain.EventBotUnmuted
		c.BotMutedUntil = time.Time{}
		if mute {
			typ = domain.EventBotMuted
			c.BotMutedUntil = now.Add(muteDuration(d))
		}
		c.UpdateTime = now
		if err := tx.UpdateContact(ctx, c); err != nil {
			return err
		}
		c.Revision++
		ch, err := tx.GetChannel(ctx, c.ChannelID)
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvents(ctx, []domain.Event{domain.ContactMuteEvent(c, ch, typ, p.Actor(), now, ids.New)}); err != nil {
			return err
		}
		out = c
		return a.reconcileContact(ctx, tx, p.Actor(), c)
	})
	return out, err
}

// reconcileContact moves the contact's bot-owned conversation away from a now-muted bot.
func (a *App) reconcileContact(ctx context.Context, tx store.Tx, actor domain.Actor, c domain.Contact) error {
	conv, err := tx.GetConversationByContact(ctx, c.ID)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := a.situation(ctx, tx, conv.ID)
	if err != nil {
		return err
	}
	r, err := a.routing(ctx, tx, s.Channel.DefaultQueueID)
	if err != nil {
		return err
	}
	change, ok := domain.ContactMuted(s, actor, r)
	if !ok {
		return nil
	}
	a.recordOwnerChanges(ctx, "contact_muted", change)
	_, err = apply(ctx, tx, change)
	return err
}

// contactForUpdate reads a contact to update it, under its lock, and its conversation's first:
// contacts come after conversations in the lock order. Every Write that updates a contact holds
// its conversation (ingest, which reads the contact it may update under that lock, too), so they
// queue on the conversation.
func contactForUpdate(ctx context.Context, tx store.Tx, id string) (domain.Contact, error) {
	if _, err := tx.GetConversationByContact(ctx, id); err != nil && !isNotFound(err) {
		return domain.Contact{}, err
	}
	return forUpdate(ctx, tx, store.KindContact, id, tx.GetContact)
}

func (a *App) canSuperviseContact(ctx context.Context, tx store.Tx, p domain.Principal, c domain.Contact) error {
	conv, err := tx.GetConversationByContact(ctx, c.ID)
	if err != nil && !isNotFound(err) {
		return err
	}
	if err == nil {
		s, agent, err := a.authorized(ctx, tx, p, conv.ID)
		if err != nil {
			return err
		}
		if domain.CanSupervise(p, s.Conversation, agent) {
			return nil
		}
		return notOwner(p, s.Conversation, "mute the bot for contact "+c.ID)
	}
	if p.Role == domain.PrincipalAdmin {
		return nil
	}
	return domain.Forbidden("only the owner, a supervisor or an admin may mute the bot for contact %s", c.ID)
}
