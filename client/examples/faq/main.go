// Command faq is a Baton bot in webhook mode: it registers its webhook with its own key, serves
// it, and answers a few questions (see faq.go).
//
//	BATON_URL=http://127.0.0.1:8080 BATON_API_KEY=<bot key> BATON_BOT_ID=<bot id> go run ./client/examples/faq
package main

import (
	"cmp"
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	listen := cmp.Or(os.Getenv("LISTEN"), "127.0.0.1:8081")
	url := cmp.Or(os.Getenv("PUBLIC_URL"), "http://"+listen+"/baton")
	c := client.New(cmp.Or(os.Getenv("BATON_URL"), "http://127.0.0.1:8080"), os.Getenv("BATON_API_KEY"))
	l, err := net.Listen("tcp", listen)
	if err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, c, os.Getenv("BATON_BOT_ID"), l, url); err != nil {
		log.Fatal(err)
	}
}

// run registers the webhook at url, serves it on l and verifies it, until ctx ends.
func run(ctx context.Context, c *client.Client, botID string, l net.Listener, url string) error {
	hook, secret, err := register(ctx, c, botID, url)
	if err != nil {
		return err
	}
	b := &bot.Bot{Client: c, Handlers: newFAQ().handlers()}
	handler, err := b.Webhook(bot.WebhookOptions{Secrets: []string{secret}})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /baton", handler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	// Baton posts a challenge to the URL, which the handler answers: the webhook turns active.
	if _, err := c.Bots.VerifyWebhook(ctx, &batonv1.VerifyWebhookRequest{WebhookId: hook}); err != nil {
		srv.Close()
		return err
	}
	log.Printf("faq bot: webhook %s verified, serving %s", hook, url)
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// register returns the bot's webhook and a secret to check its deliveries with: a new webhook,
// or, when the bot has one already (its secret is shown only once), that one with a new secret.
func register(ctx context.Context, c *client.Client, botID, url string) (id, secret string, err error) {
	list, err := c.Bots.ListWebhooks(ctx, &batonv1.ListWebhooksRequest{BotId: botID})
	if err != nil {
		return "", "", err
	}
	if hooks := list.GetWebhooks(); len(hooks) > 0 {
		if hooks[0].GetUrl() != url {
			return "", "", errors.New("the bot already has a webhook at " + hooks[0].GetUrl() + ": delete it first")
		}
		res, err := c.Bots.RotateWebhookSecret(ctx, &batonv1.RotateWebhookSecretRequest{WebhookId: hooks[0].GetId()})
		return hooks[0].GetId(), res.GetSecret(), err
	}
	res, err := c.Bots.CreateWebhook(ctx, &batonv1.CreateWebhookRequest{BotId: botID, Url: url})
	return res.GetWebhook().GetId(), res.GetSecret(), err
}
