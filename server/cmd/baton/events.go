package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/peterbourgon/ff/v4"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/batonhq/baton/client"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

// eventsCommand is "baton events": a running server's event stream, one JSON object a line,
// for a shell (the walkthrough) or a quick look; programs use a client's Subscribe.
func eventsCommand(stdout io.Writer) *ff.Command {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	url := fs.String("url", cmp.Or(os.Getenv("BATON_URL"), "http://127.0.0.1:8080"), "the server (env BATON_URL)")
	key := fs.String("key", os.Getenv("BATON_API_KEY"), "an API key; the stream holds what it may read (env BATON_API_KEY)")
	after := fs.Int64("after", -1, "replay the events after this sequence number first (0: from the start); -1 for new events only")
	var filter batonv1.EventFilter
	fs.StringVar(&filter.ConversationId, "conversation", "", "only this conversation's events")
	fs.StringVar(&filter.ChannelId, "channel", "", "only this channel's events")
	fs.StringVar(&filter.BotId, "bot", "", "only the events of this bot's conversations")
	return command(fs, false, "baton events [flags]", "print a running server's events as they happen, one JSON object a line",
		"Subscribes to EventService/Subscribe with the key and prints each event as JSON until\n"+
			"interrupted. With --after N it first replays the events after sequence N.",
		noArgs(func(ctx context.Context) error {
			if *key == "" {
				return usageError("--key (or BATON_API_KEY) is required")
			}
			req := &batonv1.SubscribeRequest{Filter: &filter}
			if *after >= 0 {
				req.AfterSequence = new(uint64(*after))
			}
			return printEvents(ctx, client.New(*url, *key), req, stdout)
		}))
}

// printEvents prints the stream's events until ctx ends (nil then) or the stream fails.
func printEvents(ctx context.Context, c *client.Client, req *batonv1.SubscribeRequest, stdout io.Writer) error {
	stream, err := c.Events.Subscribe(ctx, req)
	if err != nil {
		return err
	}
	defer stream.Close()
	for stream.Receive() {
		for _, e := range stream.Msg().GetEvents() {
			b, err := protojson.Marshal(e)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s\n", b)
		}
	}
	if ctx.Err() != nil {
		return nil // interrupted
	}
	return stream.Err()
}
