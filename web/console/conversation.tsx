// One conversation: the transcript (with internal notes), the reply and note boxes, and the
// context panel (the customer, the handoff's reason, summary and intake, the ownership timeline,
// and the actions). Replies carry the epoch the console believes in: when ownership changed
// meanwhile, the refusal says who has the conversation and the view turns read-only.
import { useEffect, useRef, useState } from "preact/hooks";

import {
  ActorKind,
  DeliveryStatus,
  EventType,
  HandbackOutcome,
  HandoverState,
  MessageDirection,
  OwnerKind,
  ownershipOf,
  text,
  type Contact,
  type Conversation,
  type Event,
  type Handover,
  type Message,
  type OwnershipPeriod,
} from "../../client/ts/src/index.js";
import { Content } from "../shared/content.js";
import { explain, ownerName } from "./format.js";
import type { EventListener, Session } from "./workspace.js";

interface Loaded {
  conversation: Conversation;
  contact?: Contact;
  handover?: Handover;
  periods: OwnershipPeriod[];
}

export function ConversationView({ id, session, listeners, version }: { id: string; session: Session; listeners: Set<EventListener>; version: number }) {
  const { api, agent } = session;
  const [data, setData] = useState<Loaded>();
  const [messages, setMessages] = useState<Message[]>([]);
  const [refused, setRefused] = useState("");
  const [error, setError] = useState("");
  const [owners, setOwners] = useState<string[]>([]);
  const wasMine = useRef(false);

  const upsert = (m: Message) =>
    setMessages((list) => {
      const i = list.findIndex((x) => x.id === m.id);
      if (i < 0) return [...list, m];
      const copy = [...list];
      copy[i] = m;
      return copy;
    });

  const load = async () => {
    try {
      const [{ conversation }, { messages }, { periods }, { handovers }] = await Promise.all([
        api.conversations.getConversation({ conversationId: id }),
        api.conversations.listMessages({ conversationId: id, pageSize: 1000 }),
        api.handovers.getOwnershipTimeline({ conversationId: id }),
        api.handovers.listHandovers({ conversationId: id, pageSize: 50 }),
      ]);
      const contact = await api.conversations.getContact({ contactId: conversation!.contactId }).then((r) => r.contact, () => undefined);
      const handover = [...handovers].sort((a, b) => Number((b.createTime?.seconds ?? 0n) - (a.createTime?.seconds ?? 0n)))[0];
      const names = await Promise.all(periods.map((p) => ownerName(api, p.owner!)));
      // Ownership moved away from this agent while the conversation was open: say who has it.
      const was = wasMine.current;
      wasMine.current = !!agent && conversation!.owner?.kind === OwnerKind.AGENT && conversation!.owner.id === agent.id;
      if (was && !wasMine.current) setRefused(`${names[names.length - 1] ?? "Someone else"} took this conversation over; it is read-only here.`);
      setData({ conversation: conversation!, contact, handover, periods });
      setMessages(messages);
      setOwners(names);
    } catch (err) {
      // Taken away from this agent, who may no longer read it: keep what was shown, read-only.
      const info = ownershipOf(err);
      if (info?.owner) {
        wasMine.current = false;
        setRefused(`${await ownerName(api, info.owner)} took this conversation over; it is read-only here.`);
      } else setError(explain(err));
    }
  };

  useEffect(() => {
    void load();
  }, [id, version]);

  // Messages, statuses and notes as they happen.
  useEffect(() => {
    const l: EventListener = (events: Event[]) => {
      for (const e of events) {
        if (e.conversationId !== id || !e.message) continue;
        if ([EventType.MESSAGE_RECEIVED, EventType.MESSAGE_SENT, EventType.MESSAGE_STATUS_CHANGED, EventType.NOTE_CREATED].includes(e.type)) upsert(e.message);
      }
    };
    listeners.add(l);
    return () => listeners.delete(l);
  }, [id]);

  if (error) return <p class="error" role="alert">{error}</p>;
  if (!data)
    return refused ? (
      <p class="refusal" role="alert">
        {refused}
      </p>
    ) : (
      <p class="empty">Loading…</p>
    );
  const c = data.conversation;
  const mine = !!agent && c.owner?.kind === OwnerKind.AGENT && c.owner.id === agent.id;
  const writable = (mine || (!agent && c.owner?.kind === OwnerKind.AGENT)) && !refused;

  const ownership = async (call: () => Promise<unknown>) => {
    setRefused("");
    try {
      await call();
      await load();
    } catch (err) {
      const info = ownershipOf(err);
      if (info?.owner) {
        wasMine.current = false;
        setRefused(`Refused: ${await ownerName(api, info.owner)} has this conversation now (it changed while you were on it), so it is read-only here.`);
      }
      else setError(explain(err));
    }
  };

  return (
    <div class="conversation">
      <section class="transcript" aria-label="Transcript">
        <h2>{data.contact?.displayName || c.contactId}</h2>
        <ol class="messages" aria-live="polite" aria-label="Messages">
          {messages.map((m) => (
            <li class={`message ${kindClass(m)}`} data-message={m.id}>
              <span class="who">{who(m)}</span>
              <Content content={m.content} showQuickReplies />
              {m.direction === MessageDirection.OUTBOUND && (
                <span class={`status ${m.status === DeliveryStatus.FAILED ? "failed" : ""}`}>
                  {DeliveryStatus[m.status].toLowerCase()}
                  {m.error && `: ${m.error}`}
                </span>
              )}
            </li>
          ))}
        </ol>
        {refused && (
          <p class="refusal" role="alert">
            {refused}
          </p>
        )}
        <Composer
          label="Reply"
          disabled={!writable}
          placeholder={writable ? "Reply to the customer" : "Read-only: you do not own this conversation"}
          onSubmit={(t) => ownership(() => api.conversations.sendMessage({ conversationId: id, expectedEpoch: c.epoch, content: text(t) }))}
        />
        <Composer label="Internal note" placeholder="A note for agents (never sent to the customer)" onSubmit={(t) => api.conversations.createNote({ conversationId: id, text: t }).then(({ note }) => note && upsert(note), (err) => setError(explain(err)))} />
      </section>
      <aside class="context" aria-label="Context">
        <h3>Customer</h3>
        <dl>
          <dt>Name</dt>
          <dd>{data.contact?.displayName || "—"}</dd>
          {data.contact?.locale && (
            <>
              <dt>Locale</dt>
              <dd>{data.contact.locale}</dd>
            </>
          )}
          {Object.entries(data.contact?.attributes ?? {}).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
          <dt>Owner</dt>
          <dd class="owner">{owners[owners.length - 1] ?? "—"}</dd>
        </dl>
        {data.handover && (
          <section class="handoff" aria-label="Handoff">
            <h3>Handoff</h3>
            <p>
              <strong>Reason:</strong> {data.handover.reason}
            </p>
            {data.handover.summary && (
              <p class="summary">
                <strong>Summary:</strong> {data.handover.summary}
              </p>
            )}
            {data.handover.intake.length > 0 && (
              <dl class="intake">
                {data.handover.intake.map((a) => (
                  <>
                    <dt>{a.question}</dt>
                    <dd>{a.answer}</dd>
                  </>
                ))}
              </dl>
            )}
            <p class="state">{HandoverState[data.handover.state].toLowerCase()}</p>
          </section>
        )}
        <section aria-label="Timeline">
          <h3>Timeline</h3>
          <ol class="timeline">
            {data.periods.map((p, i) => (
              <li data-owner-kind={OwnerKind[p.owner?.kind ?? 0]}>
                <strong>{owners[i]}</strong> · epoch {String(p.epoch)}
                {p.reason && <span class="reason"> — {p.reason}</span>}
                {p.startTime && <time> {new Date(Number(p.startTime.seconds) * 1000).toLocaleTimeString()}</time>}
              </li>
            ))}
          </ol>
        </section>
        <Actions session={session} conversation={c} mine={mine} run={ownership} />
      </aside>
    </div>
  );
}

function Actions({ session, conversation: c, mine, run }: { session: Session; conversation: Conversation; mine: boolean; run: (call: () => Promise<unknown>) => Promise<void> }) {
  const { api, agent } = session;
  const [outcome, setOutcome] = useState(HandbackOutcome.RESOLVED);
  const [summary, setSummary] = useState("");
  const supervises = !agent || agent.role === 2;
  const open = c.owner?.kind !== OwnerKind.NOBODY;
  return (
    <section class="actions" aria-label="Actions">
      <h3>Actions</h3>
      {mine && (
        <form
          class="handback"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api.handovers.handback({ conversationId: c.id, expectedEpoch: c.epoch, outcome, summary }));
          }}
        >
          <label>
            Outcome{" "}
            <select value={String(outcome)} onChange={(e) => setOutcome(Number((e.target as HTMLSelectElement).value))}>
              <option value={String(HandbackOutcome.RESOLVED)}>Resolved</option>
              <option value={String(HandbackOutcome.UNRESOLVED)}>Unresolved</option>
              <option value={String(HandbackOutcome.CUSTOMER_INACTIVE)}>Customer inactive</option>
              <option value={String(HandbackOutcome.OUT_OF_SCOPE)}>Out of scope</option>
            </select>
          </label>
          <label>
            Handback summary <textarea value={summary} onInput={(e) => setSummary((e.target as HTMLTextAreaElement).value)} />
          </label>
          <button type="submit">Hand back to the bot</button>
        </form>
      )}
      {mine && <Transfer run={(target, reason) => run(() => api.handovers.transfer({ conversationId: c.id, expectedEpoch: c.epoch, target, reason }))} />}
      {supervises && open && !mine && c.owner?.kind !== OwnerKind.QUEUE && (
        <button type="button" onClick={() => run(() => api.handovers.takeover({ conversationId: c.id, expectedEpoch: c.epoch, reason: "supervisor takeover" }))}>
          Take over
        </button>
      )}
      {open && (
        <button type="button" onClick={() => run(() => api.conversations.muteBot({ scope: { case: "conversationId", value: c.id } }))}>
          Mute the bot
        </button>
      )}
      {open && (mine || supervises) && (
        <button type="button" onClick={() => run(() => api.conversations.closeConversation({ conversationId: c.id }))}>
          Close
        </button>
      )}
    </section>
  );
}

function Composer({ label, placeholder, disabled, onSubmit }: { label: string; placeholder: string; disabled?: boolean; onSubmit: (t: string) => Promise<unknown> }) {
  const [value, setValue] = useState("");
  return (
    <form
      class={`composer ${label === "Internal note" ? "note" : ""}`}
      onSubmit={async (e) => {
        e.preventDefault();
        const t = value.trim();
        if (!t || disabled) return;
        await onSubmit(t);
        setValue("");
      }}
    >
      <textarea aria-label={label} placeholder={placeholder} value={value} disabled={disabled} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
      <button type="submit" disabled={disabled}>
        {label === "Reply" ? "Send" : "Add note"}
      </button>
    </form>
  );
}

function kindClass(m: Message): string {
  if (m.direction === MessageDirection.INTERNAL) return "note";
  return (ActorKind[m.sender?.kind ?? 0] ?? "").toLowerCase();
}

function who(m: Message): string {
  if (m.direction === MessageDirection.INTERNAL) return "Internal note";
  switch (m.sender?.kind) {
    case ActorKind.CUSTOMER:
      return "Customer";
    case ActorKind.BOT:
      return "Bot";
    case ActorKind.AGENT:
      return "Agent";
    case ActorKind.SYSTEM:
      return "System";
    default:
      return (ActorKind[m.sender?.kind ?? 0] ?? "").toLowerCase();
  }
}

type Target = { case: "queueId"; value: string } | { case: "skill"; value: string } | { case: "agentId"; value: string };

/** Transfer to a queue, a skill or an agent. */
function Transfer({ run }: { run: (target: { target: Target }, reason: string) => Promise<void> }) {
  const [kind, setKind] = useState<Target["case"]>("queueId");
  const [value, setValue] = useState("");
  return (
    <form
      class="transfer"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim()) void run({ target: { case: kind, value: value.trim() } }, "transferred from the console");
      }}
    >
      <label>
        Transfer to{" "}
        <select value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as Target["case"])}>
          <option value="queueId">Queue</option>
          <option value="skill">Skill</option>
          <option value="agentId">Agent</option>
        </select>
      </label>
      <input aria-label="Transfer target" placeholder="queue, skill or agent id" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">Transfer</button>
    </form>
  );
}
