// What the browser tests share: a real Baton, an admin client, a web chat channel with its bot,
// agents with their keys, and a bot program on the TypeScript client.
import { expect, type Browser, type Page, type TestInfo } from "@playwright/test";

import { AgentRole, ChannelKind, createBaton, type Baton, type MessageContent } from "../../client/ts/src/index.js";
import { createNodeBaton } from "../../client/ts/src/node.js";
import { Server } from "../../client/ts/test/server.js";

export { Server };

/** A web chat channel with a bound bot, and the bot's client. */
export async function webChat(server: Server, admin: Baton, name: string) {
  const { channel } = await admin.channels.createChannel({ kind: ChannelKind.WEBCHAT, externalId: name, displayName: name, credentials: { webhookSecret: `secret-${name}-0123456789abcdef` } });
  const { bot } = await admin.bots.createBot({ displayName: `${name} bot` });
  await admin.bots.bindChannel({ botId: bot!.id, channelId: channel!.id });
  const botApi = createNodeBaton({ baseUrl: server.baseUrl, apiKey: await server.key("bot", bot!.id) });
  return { channel: channel!, bot: bot!, botApi };
}

export async function adminOf(server: Server): Promise<Baton> {
  return createBaton({ baseUrl: server.baseUrl, apiKey: await server.key("admin") });
}

/** Saves a screenshot of a key step as a test artifact. */
export async function shot(page: Page, info: TestInfo, name: string) {
  await page.screenshot({ path: info.outputPath(`${name}.png`) });
}

/** The widget's panel on a page (it renders in an open shadow root, which locators pierce). */
export function widget(page: Page) {
  const panel = page.getByRole("dialog", { name: "Demo support" });
  return {
    panel,
    open: () => page.getByRole("button", { name: /Open chat/ }).click(),
    log: panel.getByRole("log", { name: "Conversation" }),
    input: panel.getByRole("textbox", { name: "Message" }),
    send: async (text: string) => {
      await panel.getByRole("textbox", { name: "Message" }).fill(text);
      await panel.getByRole("button", { name: "Send" }).click();
    },
    bubbles: panel.locator(".bubble:not(.pending)"),
  };
}

/** The one conversation on a channel (the tests have one customer per channel). */
export async function onlyConversation(admin: Baton, channelId: string) {
  let id = "";
  await expect
    .poll(async () => {
      const { conversations } = await admin.conversations.listConversations({ filter: { channelId } });
      id = conversations[0]?.id ?? "";
      return conversations.length;
    })
    .toBe(1);
  return id;
}

/** The contents of a conversation's messages, oldest first. */
export async function contents(api: Baton, conversationId: string): Promise<MessageContent[]> {
  const { messages } = await api.conversations.listMessages({ conversationId, pageSize: 1000 });
  return messages.map((m) => m.content!);
}

/** Signs in to the console on page with key and waits for the workspace. */
export async function signIn(page: Page, server: Server, key: string) {
  await page.goto(`${server.baseUrl}/console/`);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** An agent in the default queue, signed in to the console in a browser context of its own, with the presence asked for. */
export async function agentConsole(
  browser: Browser,
  server: Server,
  admin: Baton,
  name: string,
  opts: { presence?: "Online" | "Away"; supervisor?: boolean } = {},
) {
  const { agent } = await admin.routing.createAgent({
    displayName: name,
    queueIds: ["default"],
    capacity: 3,
    role: opts.supervisor ? AgentRole.SUPERVISOR : AgentRole.AGENT,
  });
  const key = await server.key("agent", agent!.id);
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, server, key);
  await expect(page.getByText(name, { exact: true })).toBeVisible();
  await page.getByLabel("Availability").selectOption({ label: opts.presence ?? "Online" });
  await expect(page.getByText("Live", { exact: true })).toBeVisible();
  return { agent: agent!, key, page, context, api: createNodeBaton({ baseUrl: server.baseUrl, apiKey: key }) };
}
