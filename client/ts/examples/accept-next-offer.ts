// An agent goes online, takes the next offer made to it (one waiting already, or the next one
// its stream brings) and greets the customer with what the bot handed over.
// BATON_URL=http://127.0.0.1:8080 BATON_AGENT_ID=... BATON_AGENT_KEY=... node dist/client/ts/examples/accept-next-offer.js
import { createBaton, EventType, Presence, subscribe, text } from "../src/index.js";

const me = process.env.BATON_AGENT_ID!;
const baton = createBaton({ baseUrl: process.env.BATON_URL!, apiKey: process.env.BATON_AGENT_KEY! });
await baton.routing.setPresence({ presence: Presence.ONLINE });
const inbox = await baton.handovers.getInbox({});
let offer = inbox.offers[0]?.handover;
for await (const { event } of offer ? [] : subscribe(baton.events, { afterSequence: inbox.cursor, filter: { types: [EventType.HANDOVER_OFFERED] } })) {
  if (event?.agentId === me) offer = event.handover; // not an offer to a teammate
  if (offer) break;
}
const { conversation } = await baton.handovers.acceptHandover({ handoverId: offer!.id });
await baton.conversations.sendMessage({ conversationId: conversation!.id, expectedEpoch: conversation!.epoch, content: text(`Hi! I read: ${offer!.summary}`) });
