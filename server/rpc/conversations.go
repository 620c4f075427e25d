package rpc

import (
	"context"
	"encoding/json"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/store"
)

var _ batonv1connect.ConversationServiceHandler = Handlers{}

// IngestMessage implements ConversationServiceHandler.
func (h Handlers) IngestMessage(ctx context.Context, req *batonv1.IngestMessageRequest) (*batonv1.IngestMessageResponse, error) {
	content, err := channel.EncodeContent(req.GetContent())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	c := req.GetContact()
	out, err := h.App.Ingest(ctx, principal(ctx), app.Inbound{
		ChannelID: req.GetChannelId(),
		Contact: domain.Contact{
			ExternalID: c.GetExternalId(), DisplayName: c.GetDisplayName(), Locale: c.GetLocale(), Attributes: c.GetAttributes(),
		},
		ChannelMessageID: req.GetChannelMessageId(),
		Content:          content,
		EntryPoint:       req.GetEntryPoint(),
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	msg, err := messageToProto(out.Message)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.IngestMessageResponse{
		Message:      msg,
		Conversation: conversationToProto(out.Conversation),
		Contact:      contactToProto(out.Contact),
		Duplicate:    out.Duplicate,
	}, nil
}

// SendMessage implements ConversationServiceHandler.
func (h Handlers) SendMessage(ctx context.Context, req *batonv1.SendMessageRequest) (*batonv1.SendMessageResponse, error) {
	out, err := h.App.Send(ctx, principal(ctx), app.Outbound{
		ConversationID: req.GetConversationId(),
		ExpectedEpoch:  req.ExpectedEpoch,
		RequestID:      req.GetRequestId(),
		Render: func(kind domain.ChannelKind) (json.RawMessage, error) {
			c, err := channel.Render(kind, req.GetContent(), req.GetTextFallback())
			if err != nil {
				return nil, err
			}
			return channel.EncodeContent(c)
		},
	})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	msg, err := messageToProto(out)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.SendMessageResponse{Message: msg}, nil
}

// CreateNote implements ConversationServiceHandler.
func (h Handlers) CreateNote(ctx context.Context, req *batonv1.CreateNoteRequest) (*batonv1.CreateNoteResponse, error) {
	content, err := channel.EncodeContent(&batonv1.MessageContent{Kind: &batonv1.MessageContent_Text{Text: &batonv1.TextContent{Text: req.GetText()}}})
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out, err := h.App.Note(ctx, principal(ctx), req.GetConversationId(), req.GetRequestId(), content)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	note, err := messageToProto(out)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CreateNoteResponse{Note: note}, nil
}

// GetConversation implements ConversationServiceHandler.
func (h Handlers) GetConversation(ctx context.Context, req *batonv1.GetConversationRequest) (*batonv1.GetConversationResponse, error) {
	c, err := h.App.GetConversation(ctx, principal(ctx), req.GetConversationId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetConversationResponse{Conversation: conversationToProto(c)}, nil
}

// ListConversations implements ConversationServiceHandler.
func (h Handlers) ListConversations(ctx context.Context, req *batonv1.ListConversationsRequest) (*batonv1.ListConversationsResponse, error) {
	convs, next, err := h.App.ListConversations(ctx, principal(ctx), conversationQuery(h.App, req.GetFilter()), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ListConversationsResponse{NextPageToken: next}
	for _, c := range convs {
		out.Conversations = append(out.Conversations, conversationToProto(c))
	}
	return out, nil
}

func conversationQuery(a *app.App, f *batonv1.ConversationFilter) store.ConversationQuery {
	q := store.ConversationQuery{
		OwnerKind: ownerKindToDomain(f.GetOwnerKind()),
		OwnerID:   f.GetOwnerId(),
		Status:    conversationStatusToDomain(f.GetStatus()),
		State:     conversationStateToDomain(f.GetState()),
		ChannelID: f.GetChannelId(),
		ContactID: f.GetContactId(),
		Language:  f.GetLanguage(),
		Tag:       f.GetTag(),
	}
	if f.GetActiveAfter() != nil {
		q.ActiveAfter = f.GetActiveAfter().AsTime()
	}
	if f.GetActiveBefore() != nil {
		q.ActiveBefore = f.GetActiveBefore().AsTime()
	}
	if f.GetUnansweredFor() != nil {
		q.UnansweredSince = a.Now().Add(-f.GetUnansweredFor().AsDuration())
	}
	if f != nil && f.SlaBreached != nil {
		q.SLABreached = new(f.GetSlaBreached())
	}
	return q
}

// UpdateConversation implements ConversationServiceHandler.
func (h Handlers) UpdateConversation(ctx context.Context, req *batonv1.UpdateConversationRequest) (*batonv1.UpdateConversationResponse, error) {
	u := app.ConversationUpdate{
		ID: req.GetConversationId(), Etag: req.GetEtag(), Language: req.Language,
		AddTags: req.GetAddTags(), RemoveTags: req.GetRemoveTags(),
	}
	if req.Status != nil {
		s := conversationStatusToDomain(req.GetStatus())
		u.Status = &s
	}
	c, err := h.App.UpdateConversation(ctx, principal(ctx), u)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UpdateConversationResponse{Conversation: conversationToProto(c)}, nil
}

// CloseConversation implements ConversationServiceHandler.
func (h Handlers) CloseConversation(ctx context.Context, req *batonv1.CloseConversationRequest) (*batonv1.CloseConversationResponse, error) {
	c, err := h.App.Close(ctx, principal(ctx), req.GetConversationId(), req.ExpectedEpoch, req.GetReason())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.CloseConversationResponse{Conversation: conversationToProto(c)}, nil
}

// ListMessages implements ConversationServiceHandler.
func (h Handlers) ListMessages(ctx context.Context, req *batonv1.ListMessagesRequest) (*batonv1.ListMessagesResponse, error) {
	msgs, next, err := h.App.ListMessages(ctx, principal(ctx), req.GetConversationId(), page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ListMessagesResponse{NextPageToken: next}
	for _, m := range msgs {
		pm, err := messageToProto(m)
		if err != nil {
			return nil, toConnect(ctx, err)
		}
		out.Messages = append(out.Messages, pm)
	}
	return out, nil
}

// GetContact implements ConversationServiceHandler.
func (h Handlers) GetContact(ctx context.Context, req *batonv1.GetContactRequest) (*batonv1.GetContactResponse, error) {
	c, err := h.App.GetContact(ctx, principal(ctx), req.GetContactId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.GetContactResponse{Contact: contactToProto(c)}, nil
}

// ListContacts implements ConversationServiceHandler.
func (h Handlers) ListContacts(ctx context.Context, req *batonv1.ListContactsRequest) (*batonv1.ListContactsResponse, error) {
	q := store.ContactQuery{ChannelID: req.GetChannelId(), Query: req.GetQuery()}
	contacts, next, err := h.App.ListContacts(ctx, principal(ctx), q, page(req.GetPageSize(), req.GetPageToken()))
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	out := &batonv1.ListContactsResponse{NextPageToken: next}
	for _, c := range contacts {
		out.Contacts = append(out.Contacts, contactToProto(c))
	}
	return out, nil
}

// MuteBot implements ConversationServiceHandler.
func (h Handlers) MuteBot(ctx context.Context, req *batonv1.MuteBotRequest) (*batonv1.MuteBotResponse, error) {
	d := req.GetDuration().AsDuration()
	if req.GetContactId() != "" {
		c, err := h.App.MuteContact(ctx, principal(ctx), req.GetContactId(), d, true)
		if err != nil {
			return nil, toConnect(ctx, err)
		}
		return &batonv1.MuteBotResponse{Contact: contactToProto(c)}, nil
	}
	c, err := h.App.MuteConversation(ctx, principal(ctx), req.GetConversationId(), d)
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.MuteBotResponse{Conversation: conversationToProto(c)}, nil
}

// UnmuteBot implements ConversationServiceHandler.
func (h Handlers) UnmuteBot(ctx context.Context, req *batonv1.UnmuteBotRequest) (*batonv1.UnmuteBotResponse, error) {
	if req.GetContactId() != "" {
		c, err := h.App.MuteContact(ctx, principal(ctx), req.GetContactId(), 0, false)
		if err != nil {
			return nil, toConnect(ctx, err)
		}
		return &batonv1.UnmuteBotResponse{Contact: contactToProto(c)}, nil
	}
	c, err := h.App.UnmuteConversation(ctx, principal(ctx), req.GetConversationId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.UnmuteBotResponse{Conversation: conversationToProto(c)}, nil
}

// SetBotEnabled implements ConversationServiceHandler.
func (h Handlers) SetBotEnabled(ctx context.Context, req *batonv1.SetBotEnabledRequest) (*batonv1.SetBotEnabledResponse, error) {
	c, err := h.App.SetBotEnabled(ctx, principal(ctx), req.GetConversationId(), req.GetEnabled())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.SetBotEnabledResponse{Conversation: conversationToProto(c)}, nil
}
