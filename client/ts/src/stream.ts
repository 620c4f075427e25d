import { Code, ConnectError, type Client } from "@connectrpc/connect";
import type { MessageInitShape } from "@bufbuild/protobuf";

import { backoffDelay, sleep, type Backoff } from "./backoff.js";
import {
  EventFilterSchema,
  type EventService,
  type Message,
  type SubscribedEvent,
  type WebChatService,
} from "./generated.js";

/** What a resumable stream is told about a connection it lost, before it waits and reconnects. */
export interface Reconnect {
  /** 0 for the first reconnect after data last arrived. */
  attempt: number;
  /** How long it waits first, in milliseconds. */
  delayMs: number;
  /** Why the connection ended; undefined when the server closed the stream cleanly. */
  error?: ConnectError;
}

/** Options every resumable stream takes. */
export interface ResumeOptions {
  /** Stops the stream: the iteration ends without an error. */
  signal?: AbortSignal;
  /** The reconnect waits. */
  backoff?: Backoff;
  /** Told of every reconnect, before its wait. */
  onReconnect?: (r: Reconnect) => void;
  /** Told when a connection is open (the server answered with its headers), before any data: a UI shows "live" then. */
  onOpen?: () => void;
}

/**
 * Codes after which reconnecting cannot help: the request or the key is wrong, or what was asked
 * for is gone. The stream ends with the error instead.
 */
const permanent = new Set<Code>([
  Code.InvalidArgument,
  Code.NotFound,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.Unimplemented,
]);

/**
 * Runs open(cursor) again and again, yielding what each connection delivers and resuming from
 * the cursor after the last item yielded, until signal aborts. A lost connection is reopened
 * after a backoff that grows with each attempt that delivered nothing, so a server that is down
 * is never called in a hot loop; a permanent error (see `permanent`) ends the iteration by
 * throwing it.
 */
async function* resuming<C, T>(
  start: C,
  open: (cursor: C, signal: AbortSignal) => AsyncIterable<T[]>,
  advance: (cursor: C, item: T) => C,
  opts: ResumeOptions,
): AsyncGenerator<T, void, undefined> {
  let cursor = start;
  let attempt = 0;
  const outer = opts.signal;
  while (!outer?.aborted) {
    // Each connection gets its own controller, so that leaving the loop (a consumer that stops
    // iterating) closes the connection without aborting the caller's signal.
    const conn = new AbortController();
    const stop = () => conn.abort(outer?.reason);
    outer?.addEventListener("abort", stop, { once: true });
    let error: ConnectError | undefined;
    try {
      for await (const batch of open(cursor, conn.signal)) {
        attempt = 0;
        for (const item of batch) {
          cursor = advance(cursor, item);
          yield item;
        }
      }
    } catch (err) {
      if (outer?.aborted) return;
      error = ConnectError.from(err);
      if (permanent.has(error.code)) throw error;
    } finally {
      outer?.removeEventListener("abort", stop);
      conn.abort();
    }
    const delayMs = backoffDelay(attempt, opts.backoff);
    opts.onReconnect?.({ attempt, delayMs, error });
    attempt++;
    try {
      await sleep(delayMs, outer);
    } catch {
      return; // aborted while waiting
    }
  }
}

/** Options of subscribe. */
export interface SubscribeOptions extends ResumeOptions {
  /** Which events. */
  filter?: MessageInitShape<typeof EventFilterSchema>;
  /** Start after this sequence; from now when omitted. */
  afterSequence?: bigint;
}

/**
 * Streams events from EventService/Subscribe as an async iterable, one SubscribedEvent at a
 * time and in sequence order. When the connection drops it resumes after the last sequence it
 * delivered, so nothing is skipped or repeated, with capped exponential backoff and jitter
 * between attempts. It ends when opts.signal aborts (or the consumer stops iterating) and throws
 * a permanent error such as an unauthenticated key.
 */
export function subscribe(
  events: Client<typeof EventService>,
  opts: SubscribeOptions = {},
): AsyncGenerator<SubscribedEvent, void, undefined> {
  return resuming<bigint | undefined, SubscribedEvent>(
    opts.afterSequence,
    async function* (after, signal) {
      const stream = events.subscribe({ filter: opts.filter, afterSequence: after }, { signal, onHeader: () => opts.onOpen?.() });
      for await (const res of stream) yield res.events;
    },
    (cursor, e) => e.event?.sequence ?? cursor,
    opts,
  );
}

/** Options of streamChat. */
export interface StreamChatOptions extends ResumeOptions {
  /** Start after this message; from the start of the conversation when omitted. */
  afterMessageId?: string;
}

/**
 * Streams a web chat visitor's conversation from WebChatService/StreamChat, one message at a
 * time, resuming after the last message it delivered when the connection drops, as subscribe
 * does.
 */
export function streamChat(
  webChat: Client<typeof WebChatService>,
  token: string,
  opts: StreamChatOptions = {},
): AsyncGenerator<Message, void, undefined> {
  return resuming<string, Message>(
    opts.afterMessageId ?? "",
    async function* (after, signal) {
      const stream = webChat.streamChat({ token, afterMessageId: after }, { signal, onHeader: () => opts.onOpen?.() });
      for await (const res of stream) yield res.messages;
    },
    (_, m) => m.id,
    opts,
  );
}
