// The whole handover story in two browser contexts: a customer on the demo page, a bot program
// on the TypeScript client, and an agent in the console.
import { expect, test } from "@playwright/test";

import { Code, ConnectError, OwnerKind, quickReplies, text, type Baton } from "../../client/ts/src/index.js";
import { adminOf, agentConsole, onlyConversation, Server, shot, webChat, widget } from "./world.js";

let server: Server;
let admin: Baton;

test.beforeAll(async () => {
  server = await Server.start();
  admin = await adminOf(server);
});
test.afterAll(() => server.stop());

test("the whole story: customer, bot, agent, and back to the bot", async ({ browser }, info) => {
  const { channel, botApi } = await webChat(server, admin, "story");
  const { page: desk } = await agentConsole(browser, server, admin, "Ana");
  await shot(desk, info, "01-console-empty");

  const customer = await (await browser.newContext()).newPage();
  await customer.goto(`${server.baseUrl}/chat/?channel=${channel.id}`);
  const w = widget(customer);
  await w.open();
  await w.send("My parcel never arrived");
  const conversationId = await onlyConversation(admin, channel.id);

  await botApi.conversations.sendMessage({ conversationId, content: quickReplies("Sorry! What would you like?", ["Track it", "Talk to a human"]) });
  await w.log.getByRole("button", { name: "Talk to a human" }).click();
  await expect(w.bubbles).toHaveCount(3);
  await botApi.handovers.handoff({
    conversationId,
    reason: "customer asked for a human",
    summary: "Parcel 4711 lost in transit; customer wants a refund",
    intake: [{ question: "Order number", answer: "4711" }],
  });

  // The offer appears in the console without a reload.
  const row = desk.locator(`[data-conversation="${conversationId}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByRole("timer")).toContainText("s left");
  await shot(desk, info, "02-offer");
  await row.getByRole("button", { name: "Accept" }).click();
  await expect(desk.getByText("Parcel 4711 lost in transit; customer wants a refund")).toBeVisible();
  await expect(desk.getByRole("region", { name: "Handoff" })).toContainText("4711");
  await expect(desk.getByRole("list", { name: "Messages" }).getByText("Talk to a human")).toHaveCount(2);

  await desk.getByLabel("Reply", { exact: true }).fill("Hi, I am Ana. Refunding it now.");
  await desk.getByRole("button", { name: "Send" }).click();
  await expect(w.log.getByText("An agent joined the conversation.")).toBeVisible();
  await expect(w.bubbles.last()).toContainText("Refunding it now.");
  await shot(customer, info, "03-widget-agent-joined");
  await shot(desk, info, "04-console-conversation");

  // An internal note: in the console's transcript, never in the customer's.
  await desk.getByLabel("Internal note").fill("Refund approved by finance");
  await desk.getByRole("button", { name: "Add note" }).click();
  await expect(desk.locator(".message.note")).toContainText("Refund approved by finance");

  // The bot no longer owns the conversation: its send is refused.
  const refused = await botApi.conversations.sendMessage({ conversationId, content: text("Anything else?") }).then(
    () => undefined,
    (err) => ConnectError.from(err),
  );
  expect(refused?.code).toBe(Code.FailedPrecondition);

  await desk.getByLabel("Outcome").selectOption({ label: "Resolved" });
  await desk.getByLabel("Handback summary").fill("Refund issued");
  await desk.getByRole("button", { name: "Hand back to the bot" }).click();
  const timeline = desk.getByRole("region", { name: "Timeline" }).getByRole("listitem");
  await expect(timeline.last()).toHaveAttribute("data-owner-kind", "BOT");
  expect(await timeline.evaluateAll((items) => items.map((i) => i.getAttribute("data-owner-kind")))).toEqual(["BOT", "QUEUE", "AGENT", "BOT"]);
  const { conversation } = await admin.conversations.getConversation({ conversationId });
  expect(conversation?.owner?.kind).toBe(OwnerKind.BOT);
  await botApi.conversations.sendMessage({ conversationId, content: text("Glad that is sorted!") });
  await expect(w.log.getByText("The agent left the conversation.")).toBeVisible();
  await expect(w.log.getByText("Refund approved by finance")).toHaveCount(0);
  await shot(desk, info, "05-timeline");
  await shot(customer, info, "06-widget-back-to-bot");
});
