// Package client is the Go client for Baton: the generated Connect clients of every service,
// sharing one HTTP client, one base URL and one API key.
//
//	c := client.New("http://127.0.0.1:8080", os.Getenv("BATON_API_KEY"))
//	res, err := c.Conversations.SendMessage(ctx, &batonv1.SendMessageRequest{...})
//
// Calls speak the Connect protocol by default; pass connect.WithGRPC() or
// connect.WithGRPCWeb() to speak gRPC or gRPC-Web instead.
package client

import (
	"context"
	"net/http"

	"connectrpc.com/connect"

	"github.com/batonhq/baton/gen/baton/v1/batonv1connect"
)

// Client holds a client per Baton service.
type Client struct {
	Conversations batonv1connect.ConversationServiceClient
	Handovers     batonv1connect.HandoverServiceClient
	Bots          batonv1connect.BotIntegrationServiceClient
	Events        batonv1connect.EventServiceClient
	Channels      batonv1connect.ChannelServiceClient
	Routing       batonv1connect.RoutingServiceClient
	APIKeys       batonv1connect.ApiKeyServiceClient
	// WebChat is what a site's chat widget calls; it takes the visitor's token, not the key.
	WebChat batonv1connect.WebChatServiceClient
}

// Option configures New.
type Option func(*settings)

type settings struct {
	httpClient connect.HTTPClient
	options    []connect.ClientOption
}

// WithHTTPClient sets the HTTP client (http.DefaultClient by default). gRPC needs one that
// speaks HTTP/2, such as a transport with unencrypted HTTP/2 enabled for h2c.
func WithHTTPClient(c connect.HTTPClient) Option { return func(s *settings) { s.httpClient = c } }

// WithClientOptions adds Connect client options (protocol, compression, interceptors).
func WithClientOptions(opts ...connect.ClientOption) Option {
	return func(s *settings) { s.options = append(s.options, opts...) }
}

// New returns a client for the Baton server at baseURL that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) *Client {
	s := settings{httpClient: http.DefaultClient}
	for _, o := range opts {
		o(&s)
	}
	options := append([]connect.ClientOption{connect.WithInterceptors(bearer(apiKey))}, s.options...)
	return &Client{
		Conversations: batonv1connect.NewConversationServiceClient(s.httpClient, baseURL, options...),
		Handovers:     batonv1connect.NewHandoverServiceClient(s.httpClient, baseURL, options...),
		Bots:          batonv1connect.NewBotIntegrationServiceClient(s.httpClient, baseURL, options...),
		Events:        batonv1connect.NewEventServiceClient(s.httpClient, baseURL, options...),
		Channels:      batonv1connect.NewChannelServiceClient(s.httpClient, baseURL, options...),
		Routing:       batonv1connect.NewRoutingServiceClient(s.httpClient, baseURL, options...),
		APIKeys:       batonv1connect.NewApiKeyServiceClient(s.httpClient, baseURL, options...),
		WebChat:       batonv1connect.NewWebChatServiceClient(s.httpClient, baseURL, options...),
	}
}

// bearer adds "Authorization: Bearer <key>" to every call.
type bearer string

func (b bearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			req.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, req)
	}
}

func (b bearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if b != "" {
			conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return conn
	}
}

func (b bearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
