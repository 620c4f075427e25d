// The console's hard moments, against a real Baton: a race for one conversation, a supervisor's
// takeover mid-reply, reloads on both sides, a bad or revoked key, and a server that goes away.
import { expect, test } from "@playwright/test";

import {
  AttachmentType,
  ChannelKind,
  create,
  MessageContentSchema,
  text,
  type Baton,
} from "../../client/ts/src/index.js";
import { createNodeBaton } from "../../client/ts/src/node.js";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { adminOf, agentConsole, contents, onlyConversation, Server, shot, signIn, webChat, widget } from "./world.js";

let server: Server;
let admin: Baton;

test.beforeEach(async () => {
  server = await Server.start();
  admin = await adminOf(server);
});
test.afterEach(() => server.stop());

/** A customer's conversation on a fresh channel, handed off by its bot (queued even with nobody online). */
async function handedOff(name: string) {
  const { channel, botApi } = await webChat(server, admin, name);
  const { conversation } = await admin.conversations.ingestMessage({
    channelId: channel.id,
    contact: { externalId: `${name}-customer`, displayName: `${name} customer` },
    channelMessageId: `${name}-1`,
    content: text("I need a human"),
  });
  const { handover } = await botApi.handovers.handoff({
    conversationId: conversation!.id,
    reason: "asked for a human",
    summary: `${name} summary`,
    queueAnyway: true,
  });
  return { channel, botApi, conversationId: conversation!.id, handover: handover! };
}

test("two agents accept the same conversation at once: one gets it, the other is told who did", async ({ browser }, info) => {
  const ana = await agentConsole(browser, server, admin, "Ana", { presence: "Away" });
  const ben = await agentConsole(browser, server, admin, "Ben", { presence: "Away" });
  const { conversationId } = await handedOff("race");
  const rows = [ana, ben].map((a) => a.page.locator(`[data-conversation="${conversationId}"]`));
  for (const [i, a] of [ana, ben].entries()) {
    await a.page.getByRole("tab", { name: /Waiting/ }).click();
    await expect(rows[i]!.getByRole("button", { name: "Accept" })).toBeVisible();
  }
  // Both clicks leave together: each button is found first, then both are pressed at once (a
  // row may already be gone from a console that heard of the other's accept).
  const buttons = await Promise.all(rows.map((r) => r.getByRole("button", { name: "Accept" }).elementHandle()));
  await Promise.all(buttons.map((b) => b!.evaluate((el: HTMLElement) => el.click())));

  const { conversation } = await admin.conversations.getConversation({ conversationId });
  const winner = conversation!.owner!.id === ana.agent.id ? ana : ben;
  const loser = winner === ana ? ben : ana;
  await expect(loser.page.getByRole("alert")).toHaveText(`${winner.agent.displayName} has this conversation now.`);
  await expect(winner.page.getByRole("region", { name: "Handoff" })).toContainText("race summary");
  await shot(loser.page, info, "01-loser-told");
  await shot(winner.page, info, "02-winner");
});

test("a supervisor takes over while the agent types: the reply is not sent and the console says why", async ({ browser }, info) => {
  const ana = await agentConsole(browser, server, admin, "Ana");
  const sue = await agentConsole(browser, server, admin, "Sue", { presence: "Away", supervisor: true });
  const { conversationId, handover } = await handedOff("takeover");
  await ana.api.handovers.acceptHandover({ handoverId: handover.id });
  await ana.page.goto(`${server.baseUrl}/console/#${conversationId}`);
  const reply = ana.page.getByLabel("Reply", { exact: true });
  await reply.fill("Let me check that for y");

  await sue.page.goto(`${server.baseUrl}/console/#${conversationId}`);
  await sue.page.getByRole("button", { name: "Take over" }).click();
  await expect(ana.page.getByRole("alert")).toContainText("Sue (supervisor)");
  await expect(ana.page.getByRole("button", { name: "Send" })).toBeDisabled();
  await expect(reply).toBeDisabled();
  await shot(ana.page, info, "01-taken-over");
  expect((await contents(admin, conversationId)).map((c) => c.kind.value)).not.toContainEqual(expect.objectContaining({ text: "Let me check that for y" }));

  // A reply that still believes in the old epoch is refused by Baton, which names the new owner.
  const stale = await ana.api.conversations.sendMessage({ conversationId, expectedEpoch: handover.epoch + 1n, content: text("late") }).then(
    () => "sent",
    () => "refused",
  );
  expect(stale).toBe("refused");
});

test("a reload on both sides resumes the conversation with no message lost or repeated", async ({ browser }, info) => {
  const ana = await agentConsole(browser, server, admin, "Ana");
  const { channel, botApi } = await webChat(server, admin, "reload");
  const customer = await (await browser.newContext()).newPage();
  await customer.goto(`${server.baseUrl}/chat/?channel=${channel.id}`);
  const w = widget(customer);
  await w.open();
  await w.send("Hello");
  const conversationId = await onlyConversation(admin, channel.id);
  const { handover } = await botApi.handovers.handoff({ conversationId, reason: "human please" });
  const row = ana.page.locator(`[data-conversation="${conversationId}"]`);
  await row.getByRole("button", { name: "Accept" }).click();
  await ana.page.getByLabel("Reply", { exact: true }).fill("Hi, Ana here");
  await ana.page.getByRole("button", { name: "Send" }).click();
  await expect(w.bubbles).toHaveCount(2);
  expect(handover).toBeDefined();

  const messages = ana.page.getByRole("list", { name: "Messages" }).getByRole("listitem");
  await expect(messages).toHaveCount(2);
  await Promise.all([customer.reload(), ana.page.reload()]);
  await expect(w.bubbles).toHaveCount(2);
  await expect(messages).toHaveCount(2);
  await expect(ana.page.getByText("Live", { exact: true })).toBeVisible();

  await w.send("Thanks, after the reload");
  await expect(messages).toHaveCount(3);
  await ana.page.getByLabel("Reply", { exact: true }).fill("You are welcome");
  await ana.page.getByRole("button", { name: "Send" }).click();
  await expect(w.bubbles).toHaveCount(4);
  await expect(messages).toHaveCount(4);
  expect(await w.bubbles.allTextContents()).toEqual(["Hello", "Hi, Ana here", "Thanks, after the reload", "You are welcome"]);
  expect(await contents(admin, conversationId)).toHaveLength(4);
  await shot(ana.page, info, "01-console-after-reload");
  await shot(customer, info, "02-widget-after-reload");
});

test("a bad or revoked key gets a clear message", async ({ page }, info) => {
  await signIn(page, server, "key_nope.nope");
  await expect(page.getByRole("alert")).toHaveText("This key is not valid: it may be mistyped or revoked.");
  await shot(page, info, "01-bad-key");
  const { apiKey, secret } = await admin.apiKeys.createApiKey({ role: 3 /* agent */, subjectId: (await admin.routing.createAgent({ displayName: "Gone", queueIds: ["default"] })).agent!.id });
  await admin.apiKeys.deleteApiKey({ apiKeyId: apiKey!.id });
  await signIn(page, server, secret);
  await expect(page.getByRole("alert")).toHaveText("This key is not valid: it may be mistyped or revoked.");
  await expect(page.getByLabel("API key")).toBeVisible();
});

test("the console shows the server going away, and resumes with what happened meanwhile", async ({ browser }, info) => {
  const ana = await agentConsole(browser, server, admin, "Ana", { presence: "Away" });
  await ana.page.getByRole("tab", { name: /Waiting/ }).click();
  await server.stop();
  await expect(ana.page.getByRole("status")).toHaveText("Reconnecting…");
  await shot(ana.page, info, "01-reconnecting");
  await server.resume();
  await expect(ana.page.getByText("Live", { exact: true })).toBeVisible();
  const { conversationId } = await handedOff("outage");
  await expect(ana.page.locator(`[data-conversation="${conversationId}"]`)).toHaveCount(1);
  await shot(ana.page, info, "02-resumed");
});

test("a supervisor's queues overview, accepting by keyboard, and the console at phone width", async ({ browser }, info) => {
  const sue = await agentConsole(browser, server, admin, "Sue", { presence: "Away", supervisor: true });
  const { conversationId } = await handedOff("overview");
  await sue.page.getByRole("tab", { name: "Queues" }).click();
  const row = sue.page.getByRole("row").filter({ has: sue.page.getByRole("rowheader") }).first();
  await expect(row.getByRole("cell").first()).toHaveText("1"); // one waiting
  await expect(row).toContainText("Sue 0/3");
  await shot(sue.page, info, "01-queues");

  await sue.page.setViewportSize({ width: 390, height: 800 });
  await sue.page.getByRole("tab", { name: /Waiting/ }).click();
  await expect(sue.page.locator(`[data-conversation="${conversationId}"]`)).toBeVisible();
  await sue.page.keyboard.press("a"); // accept the first in the list
  await expect(sue.page.getByRole("region", { name: "Handoff" })).toContainText("overview summary");
  await sue.page.keyboard.press("r");
  await expect(sue.page.getByLabel("Reply", { exact: true })).toBeFocused();
  await shot(sue.page, info, "02-phone-width");
});

test("the console renders rich content, and a send the channel refused with the channel's error", async ({ browser }, info) => {
  // A generic channel whose send API is on loopback, which Baton's SSRF guard refuses: every
  // send to it fails for good, with the reason on the message.
  const { channel } = await admin.channels.createChannel({
    kind: ChannelKind.GENERIC,
    externalId: "rich",
    displayName: "rich",
    credentials: { webhookSecret: "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3", sendUrl: "http://127.0.0.1:9/send" },
  });
  const { bot } = await admin.bots.createBot({ displayName: "rich bot" });
  await admin.bots.bindChannel({ botId: bot!.id, channelId: channel!.id });
  const botApi = createNodeBaton({ baseUrl: server.baseUrl, apiKey: await server.key("bot", bot!.id) });
  const { conversation } = await admin.conversations.ingestMessage({
    channelId: channel!.id,
    contact: { externalId: "rich-customer", displayName: "Rita" },
    channelMessageId: "rich-1",
    content: text("Show me"),
  });
  const conversationId = conversation!.id;
  const send = (kind: MessageInitShape<typeof MessageContentSchema>["kind"]) =>
    botApi.conversations.sendMessage({ conversationId, content: create(MessageContentSchema, { kind }) });
  await send({ case: "carousel", value: { cards: [{ title: "Blue shoes", subtitle: "€80", buttons: [{ title: "Buy", action: { case: "payload", value: "BUY_BLUE" } }] }, { title: "Red shoes" }] } });
  await send({ case: "attachment", value: { type: AttachmentType.IMAGE, url: "https://example.com/shoe.png", caption: "The blue pair" } });
  await send({ case: "location", value: { latitude: 48.8584, longitude: 2.2945, name: "Our shop" } });

  const sue = await agentConsole(browser, server, admin, "Sue", { presence: "Away", supervisor: true });
  await sue.page.goto(`${server.baseUrl}/console/#${conversationId}`);
  const messages = sue.page.getByRole("list", { name: "Messages" });
  await expect(messages.getByRole("list", { name: "Carousel" }).getByRole("listitem")).toHaveCount(2);
  await expect(messages.getByText("Blue shoes")).toBeVisible();
  await expect(messages.getByRole("img", { name: "The blue pair" })).toHaveAttribute("src", "https://example.com/shoe.png");
  await expect(messages.getByRole("link", { name: /Our shop/ })).toHaveAttribute("href", /mlat=48.8584/);
  // The sends fail, and the console shows it with the reason, live.
  await expect(messages.locator(".status.failed")).toHaveCount(3);
  await expect(messages.locator(".status.failed").first()).toContainText(/failed: .+/);
  await shot(sue.page, info, "01-rich-and-failed");
});
