import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import {
  ChannelKind,
  Code,
  ConnectError,
  EventType,
  backoffDelay,
  createBaton,
  EventService,
  EventsGoneInfoSchema,
  eventsGoneOf,
  fieldViolations,
  ownershipOf,
  Presence,
  quickReplies,
  subscribe,
  text,
  type Baton,
  type Reconnect,
  type SubscribedEvent,
} from "../src/index.js";
import { createClient, createRouterTransport } from "@connectrpc/connect";

import { createNodeBaton } from "../src/node.js";
import { Server, spawnExample } from "./server.js";

/** A channel with a bound bot, and the bot's client. */
async function world(admin: Baton, server: Server, name: string) {
  const { channel } = await admin.channels.createChannel({ kind: ChannelKind.WEBCHAT, externalId: name, displayName: name });
  const { bot } = await admin.bots.createBot({ displayName: `${name} bot` });
  await admin.bots.bindChannel({ botId: bot!.id, channelId: channel!.id });
  const botApi = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("bot", bot!.id) });
  return { channel: channel!, bot: bot!, botApi };
}

function ingest(admin: Baton, channelId: string, customer: string, id: string, words: string) {
  return admin.conversations.ingestMessage({
    channelId,
    contact: { externalId: customer, displayName: `Customer ${customer}` },
    channelMessageId: id,
    content: text(words),
  });
}

/** Reads n events from it, failing after a generous bound (a guard, not a synchronisation). */
async function take(it: AsyncIterator<SubscribedEvent>, n: number): Promise<SubscribedEvent[]> {
  const out: SubscribedEvent[] = [];
  const guard = setTimeout(() => assert.fail(`got ${out.length} of ${n} events`), 20_000);
  try {
    while (out.length < n) {
      const r = await it.next();
      if (r.done) assert.fail(`stream ended after ${out.length} of ${n} events`);
      out.push(r.value);
    }
  } finally {
    clearTimeout(guard);
  }
  return out;
}

describe("the TypeScript client against a real Baton", () => {
  let server: Server;
  let admin: Baton;

  before(async () => {
    server = await Server.start();
    admin = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
  });
  after(() => server.stop());

  it("makes unary calls over Connect-web and over connect-node", async () => {
    const { channel } = await world(admin, server, "unary");
    const { conversation, message } = await ingest(admin, channel.id, "c1", "m1", "hello");
    assert.equal(message?.content?.kind.case, "text");
    const viaNode = createNodeBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
    const got = await viaNode.conversations.getConversation({ conversationId: conversation!.id });
    assert.equal(got.conversation?.id, conversation!.id);
  });

  it("refuses a call without a key, and a stream with a bad key ends at once instead of retrying", async () => {
    const anonymous = createBaton({ baseUrl: server.baseUrl });
    await assert.rejects(anonymous.channels.listChannels({}), (err) => ConnectError.from(err).code === Code.Unauthenticated);
    const reconnects: Reconnect[] = [];
    const bad = createBaton({ baseUrl: server.baseUrl, apiKey: "key_nope.nope" });
    const stream = subscribe(bad.events, { onReconnect: (r) => reconnects.push(r) });
    await assert.rejects(stream.next(), (err) => ConnectError.from(err).code === Code.Unauthenticated);
    assert.equal(reconnects.length, 0);
  });

  it("reads the owner and epoch from a stale-epoch refusal, and field violations from a bad request", async () => {
    const { channel, botApi } = await world(admin, server, "stale");
    const { conversation } = await ingest(admin, channel.id, "c1", "m1", "hi");
    const stale = conversation!.epoch - 1n;
    const err = await botApi.conversations
      .sendMessage({ conversationId: conversation!.id, expectedEpoch: stale, content: quickReplies("Pick one", ["Yes", "No"]) })
      .then(() => assert.fail("a stale epoch was accepted"), (e: unknown) => e);
    const info = ownershipOf(err);
    assert.ok(info, `no ownership detail on ${String(err)}`);
    assert.equal(info.conversationId, conversation!.id);
    assert.equal(info.epoch, conversation!.epoch);
    assert.equal(info.owner?.id, conversation!.owner?.id);
    assert.equal(ownershipOf(new Error("unrelated")), undefined);

    const invalid = await admin.conversations
      .sendMessage({ conversationId: "", content: text("x") })
      .then(() => assert.fail("an empty conversation id was accepted"), (e: unknown) => e);
    assert.deepEqual(fieldViolations(invalid).map((v) => v.field), ["conversation_id"]);
  });

  it("resumes a stream across a server restart with no event skipped or repeated", async () => {
    const { channel } = await world(admin, server, "restart");
    const controller = new AbortController();
    const reconnects: Reconnect[] = [];
    const head = await admin.events.listEvents({ pageSize: 1000 });
    const start = head.events.at(-1)?.sequence ?? 0n;
    const stream = subscribe(admin.events, {
      afterSequence: start,
      filter: { channelId: channel.id, types: [EventType.MESSAGE_RECEIVED] },
      signal: controller.signal,
      backoff: { initialMs: 50, maxMs: 400 },
      onReconnect: (r) => reconnects.push(r),
    });
    for (let i = 1; i <= 3; i++) await ingest(admin, channel.id, `c${i}`, `before-${i}`, "before");
    const first = await take(stream, 3);

    await server.stop();
    const down = Date.now();
    // While the server is down, the stream keeps trying: let at least one reconnect fail.
    const pending = stream.next();
    while (reconnects.length < 2) await new Promise((ok) => setTimeout(ok, 20));
    await server.resume();
    const downMs = Date.now() - down;
    for (let i = 1; i <= 3; i++) await ingest(admin, channel.id, `c${i}`, `after-${i}`, "after");
    const r = await pending;
    assert.ok(!r.done);
    const rest = [r.value, ...(await take(stream, 2))];
    controller.abort();
    assert.equal((await stream.next()).done, true, "the stream ends when its signal aborts");

    const seqs = [...first, ...rest].map((e) => e.event!.sequence);
    assert.equal(new Set(seqs).size, 6, `repeated events: ${seqs}`);
    assert.deepEqual([...seqs].sort((a, b) => (a < b ? -1 : 1)), seqs, "out of order");
    const ids = [...first, ...rest].map((e) => e.event!.message!.channelMessageId);
    assert.deepEqual(ids, ["before-1", "before-2", "before-3", "after-1", "after-2", "after-3"]);
    // No hot loop: each wait is at least half the backoff's ceiling for its attempt, so the
    // attempts made while the server was down are bounded by the backoff schedule.
    const bound = 1 + Math.ceil(Math.log2(Math.max(downMs, 1) / 25 + 1)) + Math.ceil(downMs / 200);
    assert.ok(reconnects.length <= bound, `${reconnects.length} reconnects in ${downMs} ms (bound ${bound})`);
    for (const rc of reconnects) assert.ok(rc.delayMs >= Math.min(400, 50 * 2 ** rc.attempt) / 2);
  });
});

describe("a stream's connections", () => {
  let server: Server;
  let admin: Baton;

  before(async () => {
    server = await Server.start();
    admin = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
  });
  after(() => server.stop());

  /** Resolves on the next call of the returned callback, failing after a generous bound (a guard, not a synchronisation). */
  function signal() {
    let fire!: () => void;
    const fired = new Promise<void>((ok, fail) => {
      const guard = setTimeout(() => fail(new Error("not called")), 20_000);
      fire = () => {
        clearTimeout(guard);
        ok();
      };
    });
    return { fire, fired };
  }

  it("says when each connection opens, before any data: at the start and after a restart", async () => {
    const { channel } = await world(admin, server, "opens");
    const controller = new AbortController();
    const log: string[] = [];
    let open = signal();
    const stream = subscribe(admin.events, {
      filter: { channelId: channel.id, types: [EventType.MESSAGE_RECEIVED] },
      signal: controller.signal,
      backoff: { initialMs: 50, maxMs: 400 },
      onOpen: () => {
        log.push("open");
        open.fire();
      },
    });
    try {
      await opensTwice();
    } finally {
      controller.abort(); // a failed check must not leave the stream reconnecting
    }
    assert.deepEqual(log, ["open", "event", "open", "event"]);

    async function opensTwice() {
      const first = stream.next();
      await open.fired; // open with nothing to deliver yet: a UI can say "live" at once
      await ingest(admin, channel.id, "c1", "m1", "one");
      assert.equal((await first).value?.event?.message?.channelMessageId, "m1");
      log.push("event");

      open = signal();
      await server.stop();
      const second = stream.next();
      await server.resume();
      await open.fired;
      await ingest(admin, channel.id, "c1", "m2", "two");
      assert.equal((await second).value?.event?.message?.channelMessageId, "m2");
      log.push("event");
    }
  });
});

describe("an agent's stream", () => {
  let server: Server;
  let admin: Baton;

  before(async () => {
    server = await Server.start();
    admin = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
  });
  after(() => server.stop());

  it("receives the offer made to the agent and never an event of a conversation it may not read", async () => {
    const { queue: elsewhere } = await admin.routing.createQueue({ displayName: "Elsewhere" });
    const agentIn = async (name: string, queueId: string) => {
      const { agent } = await admin.routing.createAgent({ displayName: name, queueIds: [queueId], capacity: 2 });
      const api = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("agent", agent!.id) });
      await api.routing.setPresence({ presence: Presence.ONLINE });
      return { agent: agent!, api };
    };
    const bob = await agentIn("Bob", "default");
    await agentIn("Eve", elsewhere!.id);
    const theirs = await world(admin, server, "theirs");
    await admin.channels.updateChannel({ channelId: theirs.channel.id, defaultQueueId: elsewhere!.id });
    const mine = await world(admin, server, "mine");

    const controller = new AbortController();
    const head = (await admin.events.listEvents({ pageSize: 1000 })).events.at(-1)?.sequence ?? 0n;
    const stream = subscribe(bob.api.events, { afterSequence: head, signal: controller.signal });

    const hidden = (await ingest(admin, theirs.channel.id, "c1", "t1", "help")).conversation!;
    await theirs.botApi.handovers.handoff({ conversationId: hidden.id, reason: "human", queueAnyway: true });
    const visible = (await ingest(admin, mine.channel.id, "c2", "m1", "help")).conversation!;
    const { handover } = await mine.botApi.handovers.handoff({ conversationId: visible.id, reason: "billing", summary: "wants a refund" });

    const seen: SubscribedEvent[] = [];
    for await (const e of stream) {
      seen.push(e);
      if (e.event?.type === EventType.HANDOVER_OFFERED && e.event.handover?.id === handover!.id) break;
    }
    controller.abort();
    const offer = seen.at(-1)!.event!;
    assert.equal(offer.agentId, bob.agent.id);
    assert.equal(offer.handover?.summary, "wants a refund");
    assert.ok(offer.handover?.offerExpireTime, "the offer says when it expires");
    assert.deepEqual(seen.filter((e) => e.event?.conversationId === hidden.id), [], "events of a conversation the agent may not read");
  });
});

describe("a stream whose events were swept by retention", () => {
  it("ends with OUT_OF_RANGE naming the earliest sequence, without reconnecting", async () => {
    const asked: (bigint | undefined)[] = [];
    // Baton's answer as the Go tests check it (server/serve/retention_test.go), served from memory.
    const transport = createRouterTransport(({ service }) => {
      service(EventService, {
        async *subscribe(req) {
          asked.push(req.afterSequence);
          throw new ConnectError(
            "events after sequence 3 were deleted by retention: the earliest sequence still available is 42",
            Code.OutOfRange,
            undefined,
            [{ desc: EventsGoneInfoSchema, value: { afterSequence: 3n, earliestSequence: 42n } }],
          );
        },
      });
    });
    let reconnects = 0;
    const stream = subscribe(createClient(EventService, transport), { afterSequence: 3n, onReconnect: () => reconnects++ });
    await assert.rejects(
      async () => {
        for await (const e of stream) assert.fail(`event ${e.event?.sequence} before the error`);
      },
      (err: unknown) => {
        assert.equal(eventsGoneOf(err)?.earliestSequence, 42n);
        assert.equal(ConnectError.from(err).code, Code.OutOfRange);
        return true;
      },
    );
    assert.deepEqual(asked, [3n], "asked once, from the cursor given");
    assert.equal(reconnects, 0);
    assert.equal(eventsGoneOf(new ConnectError("gone", Code.NotFound)), undefined);
  });
});

describe("backoffDelay", () => {
  it("doubles from the initial wait, is capped, and jitters between half and all of it", () => {
    const lo = () => 0;
    const hi = () => 0.999999;
    assert.equal(backoffDelay(0, { initialMs: 100, random: lo }), 50);
    assert.ok(backoffDelay(0, { initialMs: 100, random: hi }) < 100);
    assert.equal(backoffDelay(3, { initialMs: 100, random: lo }), 400);
    assert.equal(backoffDelay(50, { initialMs: 100, maxMs: 1000, random: lo }), 500);
    assert.ok(backoffDelay(50, { initialMs: 100, maxMs: 1000, random: hi }) <= 1000);
  });
});

describe("the README's example", () => {
  it("takes the next offer made to the agent and greets the customer", async () => {
    const server = await Server.start();
    try {
      const admin = createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
      const { channel, botApi } = await world(admin, server, "example");
      const { agent } = await admin.routing.createAgent({ displayName: "Ana", queueIds: ["default"], capacity: 2 });
      const example = spawnExample("accept-next-offer.js", {
        BATON_URL: server.baseUrl,
        BATON_AGENT_ID: agent!.id,
        BATON_AGENT_KEY: await server.key("agent", agent!.id),
      });
      const { conversation } = await ingest(admin, channel.id, "c1", "m1", "my order is late");
      // Queued anyway: the agent may not be online yet; it is offered the handover once it is.
      await botApi.handovers.handoff({ conversationId: conversation!.id, reason: "human", summary: "order 42 is late", queueAnyway: true });
      assert.equal(await example.exited, 0, example.stderr());
      const { messages } = await admin.conversations.listMessages({ conversationId: conversation!.id });
      const last = messages.at(-1)?.content?.kind;
      assert.deepEqual(last?.case === "text" ? last.value.text : last, "Hi! I read: order 42 is late");
      const got = await admin.conversations.getConversation({ conversationId: conversation!.id });
      assert.equal(got.conversation?.owner?.id, agent!.id);
    } finally {
      await server.stop();
    }
  });
});
