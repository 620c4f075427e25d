// Command echo is a Baton bot in stream mode: it answers every customer message with what the
// customer said, and resumes after the last event it handled when it is started again.
//
//	BATON_URL=http://127.0.0.1:8080 BATON_API_KEY=<bot key> go run ./client/examples/echo
package main

import (
	"cmp"
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	b := &bot.Bot{
		Client: client.New(cmp.Or(os.Getenv("BATON_URL"), "http://127.0.0.1:8080"), os.Getenv("BATON_API_KEY")),
		Handlers: bot.Handlers{
			Message: func(ctx context.Context, c *bot.Conversation, m *batonv1.Message) error {
				_, err := c.Reply(ctx, "You said: "+bot.TextOf(m))
				return err
			},
		},
	}
	cursor := bot.FileCursor(cmp.Or(os.Getenv("CURSOR_FILE"), "echo.cursor"))
	log.Print("echo bot: streaming events (Ctrl-C to stop)")
	if err := b.Stream(ctx, bot.StreamOptions{Cursor: cursor}); err != nil {
		log.Fatal(err)
	}
}
