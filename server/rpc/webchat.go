package rpc

import (
	"cmp"
	"context"
	"errors"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
	"github.com/batonhq/baton/server/events"
)

// The web chat service is called from visitors' browsers without an API key: the token
// StartChat returns is what names and authenticates the visitor (see app.StartChat).

var _ batonv1connect.WebChatServiceHandler = Handlers{}

// StartChat implements WebChatServiceHandler.
func (h Handlers) StartChat(ctx context.Context, req *batonv1.StartChatRequest) (*batonv1.StartChatResponse, error) {
	token, err := h.App.StartChat(ctx, req.GetChannelId(), req.GetDisplayName(), req.GetLocale())
	if err != nil {
		return nil, chatError(ctx, err)
	}
	return &batonv1.StartChatResponse{Token: token}, nil
}

// SendChatMessage implements WebChatServiceHandler.
func (h Handlers) SendChatMessage(ctx context.Context, req *batonv1.SendChatMessageRequest) (*batonv1.SendChatMessageResponse, error) {
	if err := visitorContent(req.GetContent()); err != nil {
		return nil, chatError(ctx, err)
	}
	content, err := channel.EncodeContent(req.GetContent())
	if err != nil {
		return nil, chatError(ctx, err)
	}
	out, err := h.App.SendChatMessage(ctx, req.GetToken(), req.GetClientMessageId(), content, req.GetPageUrl())
	if err != nil {
		return nil, chatError(ctx, err)
	}
	msg, err := visitorMessage(out.Message)
	if err != nil {
		return nil, chatError(ctx, err)
	}
	return &batonv1.SendChatMessageResponse{Message: msg}, nil
}

// visitorContent refuses content only a bot or an agent sends: a visitor writes text, sends a
// file or a location, or taps a button or a quick reply.
func visitorContent(c *batonv1.MessageContent) error {
	switch c.GetKind().(type) {
	case *batonv1.MessageContent_Text, *batonv1.MessageContent_Attachment,
		*batonv1.MessageContent_Postback, *batonv1.MessageContent_Location:
		return nil
	}
	return domain.Invalid("content", "a visitor sends text, an attachment, a postback or a location")
}

// StreamChat implements WebChatServiceHandler. It sends the visitor's conversation from after
// the given message, then every new message (the visitor's, and replies whatever their delivery
// status) until the client goes away, the server shuts down, or the token stops verifying. It
// reads the store only to catch up; then the hub hands it the chat's messages from memory.
func (h Handlers) StreamChat(ctx context.Context, req *batonv1.StreamChatRequest, stream *connect.ServerStream[batonv1.StreamChatResponse]) error {
	// StreamChat stays small: its frame sits on the stack of every idle visitor's stream.
	s, err := h.chatStream(ctx, req, stream)
	if err == nil {
		err = h.Hub.Follow(ctx, s)
	}
	if ctx.Err() != nil {
		return nil // the client went away
	}
	return chatError(ctx, err)
}

// chatStream is the stream of the chat whose token req carries.
func (h Handlers) chatStream(ctx context.Context, req *batonv1.StreamChatRequest, stream *connect.ServerStream[batonv1.StreamChatResponse]) (events.Stream, error) {
	channelID, visitorID, err := h.App.ChatVisitor(ctx, req.GetToken())
	if err != nil {
		return events.Stream{}, err
	}
	feed := app.NewChatFeed(channelID, visitorID)
	cur := app.ChatCursor{AfterMessageID: req.GetAfterMessageId()}
	subscribed := false
	catchUp := func(ctx context.Context, _ uint64) (uint64, bool, error) {
		msgs, next, err := h.App.ChatMessages(ctx, req.GetToken(), cur, events.Batch)
		if err != nil {
			return 0, false, err
		}
		cur = next
		feed.Follow(cur)
		// The first read happens before the headers are sent, so a bad token or cursor is
		// refused as a plain error; once subscribed, the client hears of the messages as they come.
		if !subscribed {
			if err := stream.Send(nil); err != nil {
				return 0, false, err
			}
			subscribed = true
		}
		if len(msgs) == 0 {
			return cur.Sequence, false, nil
		}
		res := &batonv1.StreamChatResponse{}
		for _, m := range msgs {
			pm, err := visitorMessage(m)
			if err != nil {
				return 0, false, err
			}
			res.Messages = append(res.Messages, pm)
		}
		return cur.Sequence, len(msgs) == events.Batch, stream.Send(res)
	}
	// The stream opens with the chat so far, read here; from there it may join the live feed
	// without another read.
	after, more := uint64(0), true
	for more {
		if after, more, err = catchUp(ctx, after); err != nil {
			return events.Stream{}, err
		}
	}
	return events.Stream{
		After:   after,
		CatchUp: catchUp,
		Selects: feed.Selects,
		Send: func(items []*events.Item) error {
			res := &batonv1.StreamChatResponse{}
			for _, it := range items {
				pm, err := it.Rendered(visitorForm)
				if err != nil {
					return err
				}
				res.Messages = append(res.Messages, pm.(*batonv1.Message))
			}
			cur.AfterMessageID = items[len(items)-1].Message.ID // where a catch-up resumes
			return stream.Send(res)
		},
		Check: func(ctx context.Context) error {
			_, _, err := h.App.ChatVisitor(ctx, req.GetToken())
			return err
		},
		CheckEvery: cmp.Or(h.KeyCheckInterval, defaultKeyCheckInterval),
		Recheck:    h.ChannelsChanged, // a new channel secret ends its visitors' streams at once
		Stop:       h.Stop,
	}, nil
}

// visitorForm renders a live event for web chat streams.
var visitorForm = events.NewRenderer(func(e domain.Event) (any, error) { return visitorMessage(*e.Message) })

// chatError maps a web chat error: a token that does not verify is UNAUTHENTICATED (the
// visitor should start a new chat); the rest as every other service's.
func chatError(ctx context.Context, err error) error {
	if errors.Is(err, app.ErrChatToken) {
		return withDetails(connect.CodeUnauthenticated, err, &errdetails.ErrorInfo{Reason: "BAD_CHAT_TOKEN", Domain: "baton"})
	}
	return toConnect(ctx, err)
}

// visitorMessage is a message as a web chat visitor may see it: what was said, by which kind of
// party, and when, without Baton's inner workings (who exactly answered, epochs, ids of other
// systems, a channel's errors).
func visitorMessage(m domain.Message) (*batonv1.Message, error) {
	pm, err := messageToProto(m)
	if err != nil {
		return nil, err
	}
	return &batonv1.Message{
		Id:             pm.GetId(),
		ConversationId: pm.GetConversationId(),
		ChannelId:      pm.GetChannelId(),
		Direction:      pm.GetDirection(),
		Sender:         &batonv1.Actor{Kind: pm.GetSender().GetKind()},
		Content:        pm.GetContent(),
		Status:         pm.GetStatus(),
		CreateTime:     pm.GetCreateTime(),
	}, nil
}
