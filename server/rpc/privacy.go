package rpc

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/server/app"
	"github.com/batonhq/baton/server/channel"
	"github.com/batonhq/baton/server/domain"
)

// EraseContact implements ConversationServiceHandler.
func (h Handlers) EraseContact(ctx context.Context, req *batonv1.EraseContactRequest) (*batonv1.EraseContactResponse, error) {
	er, err := h.App.EraseContact(ctx, principal(ctx), req.GetContactId())
	if err != nil {
		return nil, toConnect(ctx, err)
	}
	return &batonv1.EraseContactResponse{Erasure: erasureToProto(er)}, nil
}

func erasureToProto(er domain.Erasure) *batonv1.Erasure {
	p := &batonv1.Erasure{
		ContactId: er.ContactID, ChannelId: er.ChannelID, ConversationId: er.ConversationID,
		RequestedBy: actorToProto(er.Actor), CreateTime: timestamp(er.CreateTime),
	}
	if er.Complete() {
		p.CompleteTime = timestamp(er.CompleteTime)
	}
	return p
}

// ExportContact implements ConversationServiceHandler: one JSON object, sent a page at a time.
func (h Handlers) ExportContact(ctx context.Context, req *batonv1.ExportContactRequest, stream *connect.ServerStream[batonv1.ExportContactResponse]) error {
	x, err := h.App.ExportContact(ctx, principal(ctx), req.GetContactId(), int(req.GetPageSize()))
	if err != nil {
		return toConnect(ctx, err)
	}
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&batonv1.ExportContactResponse{Data: b}) }}
	w.raw(`{"contact":`)
	w.value(contactToProto(x.Contact))
	if x.Erasure != nil {
		w.raw(`,"erasure":`)
		w.value(erasureToProto(*x.Erasure))
	}
	if x.Conversation != nil {
		w.raw(`,"conversation":`)
		w.value(conversationToProto(*x.Conversation))
	}
	list(w, "messages", x.Messages(ctx), fallible(messageToProto))
	list(w, "handovers", x.Handovers(ctx), ok(handoverToProto))
	list(w, "events", x.Events(ctx), fallible(eventToProto))
	list(w, "deliveries", x.Deliveries(ctx), ok(deliveryToProto))
	w.raw("}\n")
	return toConnect(ctx, w.flush())
}

// ExportTranscript implements ConversationServiceHandler.
func (h Handlers) ExportTranscript(ctx context.Context, req *batonv1.ExportTranscriptRequest, stream *connect.ServerStream[batonv1.ExportTranscriptResponse]) error {
	x, err := h.App.ExportTranscript(ctx, principal(ctx), req.GetConversationId(), int(req.GetPageSize()))
	if err != nil {
		return toConnect(ctx, err)
	}
	w := &chunkWriter{send: func(b []byte) error { return stream.Send(&batonv1.ExportTranscriptResponse{Data: b}) }}
	if req.GetFormat() == batonv1.TranscriptFormat_TRANSCRIPT_FORMAT_TEXT {
		err = transcriptText(ctx, w, x)
	} else {
		w.raw(`{"conversation":`)
		w.value(conversationToProto(x.Conversation))
		list(w, "messages", x.Messages(ctx), fallible(messageToProto))
		w.raw("}\n")
	}
	if err == nil {
		err = w.flush()
	}
	return toConnect(ctx, err)
}

// transcriptText writes one line per message: its time, its sender and its content as a line
// of text ("[erased]" for a tombstone).
func transcriptText(ctx context.Context, w *chunkWriter, x *app.TranscriptExport) error {
	for page, err := range x.Messages(ctx) {
		if err != nil {
			return err
		}
		for _, m := range page {
			line := channel.Line(m.Content)
			if m.Erased {
				line = "[erased]"
			}
			sender := string(m.Sender.Kind)
			if m.Sender.ID != "" {
				sender += " " + m.Sender.ID
			}
			if m.Direction == domain.Internal {
				sender += " (note)"
			}
			w.raw(fmt.Sprintf("%s %s: %s\n", m.CreateTime.UTC().Format(time.RFC3339), sender, line))
		}
		if err := w.flush(); err != nil {
			return err
		}
	}
	return nil
}

// chunkWriter builds a document in a buffer and sends it as chunks: after each page of a list
// and whenever the buffer grows past chunkSize, so that no more than about a page is held.
type chunkWriter struct {
	buf  bytes.Buffer
	send func([]byte) error
	err  error
}

// chunkSize is the size past which a chunk is sent without waiting for the page's end.
const chunkSize = 64 << 10

func (w *chunkWriter) raw(s string) { w.buf.WriteString(s) }

var exportJSON = protojson.MarshalOptions{}

func (w *chunkWriter) value(m proto.Message) {
	if w.err != nil {
		return
	}
	b, err := exportJSON.Marshal(m)
	if err != nil {
		w.err = err
		return
	}
	w.buf.Write(b)
	if w.buf.Len() >= chunkSize {
		w.err = w.flush()
	}
}

// flush sends what is buffered.
func (w *chunkWriter) flush() error {
	if w.err != nil || w.buf.Len() == 0 {
		return w.err
	}
	// The stream may keep the bytes: each chunk gets its own copy.
	if err := w.send(bytes.Clone(w.buf.Bytes())); err != nil {
		w.err = err
		return err
	}
	w.buf.Reset()
	return nil
}

// list writes `,"name":[...]` from the pages of seq, flushing after each page. Once the writer
// failed it does nothing: flush returns the error.
func list[T any](w *chunkWriter, name string, seq iter.Seq2[[]T, error], conv func(T) (proto.Message, error)) {
	if w.err != nil {
		return
	}
	w.raw(`,"` + name + `":[`)
	first := true
	for page, err := range seq {
		if err != nil {
			w.err = err
			return
		}
		for _, v := range page {
			m, err := conv(v)
			if err != nil {
				w.err = err
				return
			}
			if !first {
				w.raw(",")
			}
			first = false
			w.value(m)
		}
		if w.flush() != nil {
			return
		}
	}
	w.raw("]")
}

// ok adapts a conversion that cannot fail.
func ok[T any, P proto.Message](f func(T) P) func(T) (proto.Message, error) {
	return func(v T) (proto.Message, error) { return f(v), nil }
}

// fallible adapts a conversion that can fail.
func fallible[T any, P proto.Message](f func(T) (P, error)) func(T) (proto.Message, error) {
	return func(v T) (proto.Message, error) { return f(v) }
}
