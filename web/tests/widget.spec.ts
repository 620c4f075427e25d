// The web-chat widget on its demo page, against a real Baton: a visitor writes, the bot (a
// program on the TypeScript client) answers with rich content, taps send postbacks, a reload
// continues the same conversation, and a server that goes away and comes back loses nothing.
import { expect, test } from "@playwright/test";

import { buttons, quickReplies, text, type Baton } from "../../client/ts/src/index.js";
import { adminOf, contents, onlyConversation, Server, shot, webChat, widget } from "./world.js";

let server: Server;
let admin: Baton;

test.beforeAll(async () => {
  server = await Server.start();
  admin = await adminOf(server);
});
test.afterAll(() => server.stop());

test("a visitor writes, taps the bot's quick reply and button, and a reload continues the same chat", async ({ page }, info) => {
  const { channel, botApi } = await webChat(server, admin, "widget-story");
  await page.goto(`${server.baseUrl}/chat/?channel=${channel.id}`);
  const w = widget(page);
  await w.open();
  await w.send("Hello, my invoice is wrong");
  await expect(w.bubbles).toHaveCount(1);
  await expect(w.bubbles.first()).toContainText("Hello, my invoice is wrong");

  const conversationId = await onlyConversation(admin, channel.id);
  await botApi.conversations.sendMessage({ conversationId, content: quickReplies("Which topic?", ["Billing", "Shipping"]) });
  await expect(w.log.getByRole("button", { name: "Billing" })).toBeVisible();
  await shot(page, info, "01-quick-replies");
  await w.log.getByRole("button", { name: "Billing" }).click();
  await expect(w.bubbles).toHaveCount(3);
  // Quick replies are an offer of the latest message only: once answered, they are gone.
  await expect(w.log.getByRole("button", { name: "Billing" })).toHaveCount(0);

  await botApi.conversations.sendMessage({
    conversationId,
    content: buttons("Shall I look it up?", [
      { title: "Yes please", payload: "LOOKUP" },
      { title: "Read the FAQ", url: "https://example.com/faq" },
    ]),
  });
  await expect(w.log.getByRole("link", { name: "Read the FAQ" })).toHaveAttribute("href", "https://example.com/faq");
  await w.log.getByRole("button", { name: "Yes please" }).click();
  await expect(w.bubbles).toHaveCount(5);
  await shot(page, info, "02-buttons-answered");

  const kinds = (await contents(admin, conversationId)).map((c) => c.kind);
  expect(kinds.map((k) => k.case)).toEqual(["text", "quickReplies", "postback", "buttons", "postback"]);
  expect(kinds[2]).toMatchObject({ value: { title: "Billing", payload: "Billing" } });
  expect(kinds[4]).toMatchObject({ value: { title: "Yes please", payload: "LOOKUP" } });

  // A reload opens the same chat, whole and once.
  const before = await w.bubbles.allTextContents();
  await page.reload();
  await expect(w.bubbles).toHaveCount(5);
  expect(await w.bubbles.allTextContents()).toEqual(before);
  await w.send("Thanks!");
  await expect(w.bubbles).toHaveCount(6);
  expect(await onlyConversation(admin, channel.id)).toBe(conversationId);
  expect(await contents(admin, conversationId)).toHaveLength(6);
  await shot(page, info, "03-after-reload");
});

test("the widget says it is reconnecting while the server is away, and resumes with nothing lost or repeated", async ({ page }, info) => {
  const { channel, botApi } = await webChat(server, admin, "widget-outage");
  await page.goto(`${server.baseUrl}/chat/?channel=${channel.id}`);
  const w = widget(page);
  await w.open();
  await w.send("Are you there?");
  const conversationId = await onlyConversation(admin, channel.id);
  await botApi.conversations.sendMessage({ conversationId, content: text("Yes, one moment.") });
  await expect(w.bubbles).toHaveCount(2);

  await server.stop();
  await expect(w.panel.getByRole("status")).toHaveText("Reconnecting…");
  await shot(page, info, "01-reconnecting");
  await server.resume();
  // Written while the visitor was away from the stream: it arrives once the stream is back.
  await botApi.conversations.sendMessage({ conversationId, content: text("Here is your answer.") });
  await expect(w.bubbles).toHaveCount(3);
  await expect(w.bubbles.last()).toContainText("Here is your answer.");
  await expect(w.panel.getByRole("status")).toHaveCount(0);
  expect(await w.bubbles.allTextContents()).toEqual(["Are you there?", "Yes, one moment.", "Here is your answer."]);
  await shot(page, info, "02-resumed");
});
