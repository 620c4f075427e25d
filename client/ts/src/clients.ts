import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";

import {
  ApiKeyService,
  BotIntegrationService,
  ChannelService,
  ConversationService,
  EventService,
  HandoverService,
  RoutingService,
  WebChatService,
} from "./generated.js";

/** A client per Baton service, sharing one transport. */
export interface Baton {
  readonly conversations: Client<typeof ConversationService>;
  readonly handovers: Client<typeof HandoverService>;
  readonly bots: Client<typeof BotIntegrationService>;
  readonly events: Client<typeof EventService>;
  readonly channels: Client<typeof ChannelService>;
  readonly routing: Client<typeof RoutingService>;
  readonly apiKeys: Client<typeof ApiKeyService>;
  /** The web chat service; it authenticates visitors by the token in each request. */
  readonly webChat: Client<typeof WebChatService>;
}

/** How to reach Baton and who is calling. */
export interface BatonOptions {
  /** Baton's base URL, e.g. "http://127.0.0.1:8080". */
  baseUrl: string;
  /** An API key (admin, bot, agent or service), sent as "Authorization: Bearer <key>". Omit it for the web chat only. */
  apiKey?: string;
  /** A transport of one's own (gRPC-Web, connect-node, ...). Its base URL and interceptors are its own: baseUrl and apiKey are then only used to build the default. */
  transport?: Transport;
  /** Interceptors added after the API key's. */
  interceptors?: Interceptor[];
}

/** Returns an interceptor that authenticates every call with an API key. */
export function bearer(apiKey: string): Interceptor {
  return (next) => (req) => {
    req.header.set("Authorization", `Bearer ${apiKey}`);
    return next(req);
  };
}

/** The interceptors BatonOptions ask for: the API key's, then the caller's. */
export function interceptorsFor(opts: BatonOptions): Interceptor[] {
  return [...(opts.apiKey ? [bearer(opts.apiKey)] : []), ...(opts.interceptors ?? [])];
}

/**
 * Returns typed clients for every Baton service over the Connect protocol, with fetch: in
 * browsers and in Node 18 or later alike.
 */
export function createBaton(opts: BatonOptions): Baton {
  const transport =
    opts.transport ?? createConnectTransport({ baseUrl: opts.baseUrl, interceptors: interceptorsFor(opts) });
  return clientsOn(transport);
}

/** Returns typed clients for every Baton service over a transport. */
export function clientsOn(transport: Transport): Baton {
  return {
    conversations: createClient(ConversationService, transport),
    handovers: createClient(HandoverService, transport),
    bots: createClient(BotIntegrationService, transport),
    events: createClient(EventService, transport),
    channels: createClient(ChannelService, transport),
    routing: createClient(RoutingService, transport),
    apiKeys: createClient(ApiKeyService, transport),
    webChat: createClient(WebChatService, transport),
  };
}
