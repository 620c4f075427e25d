package bot_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/batonhq/baton/client"
	"github.com/batonhq/baton/client/bot"
	batonv1 "github.com/batonhq/baton/gen/baton/v1"
	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// lossyProxy forwards to Baton, but for the first call of one procedure it lets Baton do the
// call and then cuts the connection before the answer: the caller cannot know it was done.
func lossyProxy(t *testing.T, target, procedure string) (string, *atomic.Int32) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/"+procedure || calls.Add(1) > 1 {
			proxy.ServeHTTP(w, r)
			return
		}
		proxy.ServeHTTP(httptest.NewRecorder(), r) // done by Baton, answer lost
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &calls
}

// TestReplyLostAnswerIsRetriedOnce: the answer to a reply is lost on the way back; the SDK sends
// it again with the same request id, and the customer gets it once.
func TestReplyLostAnswerIsRetriedOnce(t *testing.T) {
	s := startServer(t)
	w := s.world()
	proxyURL, sends := lossyProxy(t, s.url, batonv1connect.ConversationServiceSendMessageProcedure[1:])
	replied := make(chan error, 1)
	b := &bot.Bot{
		Client: client.New(proxyURL, w.botKey),
		Retry:  bot.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond},
		Handlers: bot.Handlers{Message: func(ctx context.Context, c *bot.Conversation, m *batonv1.Message) error {
			_, err := c.Reply(ctx, "You said: "+bot.TextOf(m))
			replied <- err
			return err
		}},
	}
	runStream(t, b, bot.StreamOptions{Cursor: cursorAt(0)})
	conv := s.ingest(w.channel.GetId(), "ada", "m-1", "hello").GetConversation()
	if err := receive(t, replied, "the reply"); err != nil {
		t.Fatalf("reply: %v", err)
	}
	if n := sends.Load(); n != 2 {
		t.Errorf("SendMessage reached the proxy %d times, want 2 (the lost one and its retry)", n)
	}
	if got := s.outbound(conv.GetId()); !slices.Equal(got, []string{"You said: hello"}) {
		t.Fatalf("the customer got %q, want the reply once", got)
	}
}
