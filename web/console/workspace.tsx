// The signed-in console: availability, the live inbox (offers, mine, waiting in my queues, and
// for supervisors and admins every conversation), and the open conversation. Everything that
// changes comes from one event stream: each batch of events refreshes what it touches.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";

import { subscribe, type Baton, type Event, type InboxItem, type Conversation, type QueueStatus } from "../../client/ts/src/index.js";
import { AgentRole, OwnerKind, Presence, type Agent } from "../../client/ts/src/index.js";
import { ConversationView } from "./conversation.js";
import { explain, ownerName, since } from "./format.js";

export interface Session {
  api: Baton;
  agent?: Agent;
}

type Tab = "offers" | "owned" | "waiting" | "all" | "queues";
type Link = "connecting" | "live" | "reconnecting";

/** Listeners of the event stream (the open conversation). */
export type EventListener = (events: Event[]) => void;

export function Workspace({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { api, agent } = session;
  const supervises = !agent || agent.role === AgentRole.SUPERVISOR;
  const [tab, setTab] = useState<Tab>(agent ? "offers" : "all");
  const [inbox, setInbox] = useState<{ offers: InboxItem[]; owned: InboxItem[]; waiting: InboxItem[] }>();
  const [all, setAll] = useState<Conversation[]>([]);
  const [queues, setQueues] = useState<QueueStatus[]>([]);
  const [open, setOpen] = useState(() => location.hash.slice(1));
  const [link, setLink] = useState<Link>("connecting");
  const [error, setError] = useState("");
  const [version, setVersion] = useState(0);
  const listeners = useRef(new Set<EventListener>());

  useEffect(() => {
    const onHash = () => setOpen(location.hash.slice(1));
    addEventListener("hashchange", onHash);
    return () => removeEventListener("hashchange", onHash);
  }, []);

  // The inbox gives the cursor to follow it from; the stream then says when it changed.
  useEffect(() => {
    const stop = new AbortController();
    (async () => {
      let cursor: bigint | undefined;
      if (agent) {
        const res = await api.handovers.getInbox({});
        setInbox(res);
        cursor = res.cursor;
      }
      let pending = false;
      for await (const se of subscribe(api.events, {
        afterSequence: cursor,
        signal: stop.signal,
        onOpen: () => {
          setLink("live");
          setVersion((v) => v + 1); // catch up on what changed while away
        },
        onReconnect: () => setLink("reconnecting"),
      })) {
        const e = se.event!;
        for (const l of listeners.current) l([e]);
        if (!pending) {
          pending = true;
          queueMicrotask(() => {
            pending = false;
            setVersion((v) => v + 1);
          });
        }
      }
    })().catch((err) => !stop.signal.aborted && setError(explain(err)));
    return () => stop.abort();
  }, []);

  // Reads overlap when events come quickly: only the latest read's answers are shown, so that a
  // slow older answer never replaces a newer one.
  const latest = useRef(0);
  useEffect(() => {
    if (version === 0) return;
    const read = ++latest.current;
    const fresh = <T,>(show: (v: T) => void) => (v: T) => {
      if (read === latest.current) show(v);
    };
    const failed = (err: unknown) => setError(explain(err));
    if (agent) void api.handovers.getInbox({}).then(fresh(setInbox), failed);
    if (supervises) {
      void api.conversations.listConversations({ pageSize: 200 }).then(fresh((r) => setAll(r.conversations)), failed);
      void api.routing.listQueueStatuses({}).then(fresh((r) => setQueues(r.queueStatuses)), failed);
    }
  }, [version]);

  const tabs: [Tab, string, number | undefined][] = [];
  if (agent) {
    tabs.push(["offers", "Offered to me", inbox?.offers.length], ["owned", "Mine", inbox?.owned.length], ["waiting", "Waiting", inbox?.waiting.length]);
  }
  if (supervises) tabs.push(["all", "All conversations", undefined], ["queues", "Queues", undefined]);

  // Keyboard shortcuts (outside text fields): j/k next/previous conversation in the list,
  // a accept the first offer, r reply, h hand back.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName)) return;
      const links = [...document.querySelectorAll<HTMLAnchorElement>(".list .row a")];
      const i = links.findIndex((a) => a.getAttribute("href") === `#${open}`);
      if (e.key === "j" || e.key === "k") {
        const next = links[e.key === "j" ? Math.min(links.length - 1, i + 1) : Math.max(0, i - 1)];
        if (next) location.hash = next.getAttribute("href")!;
      } else if (e.key === "a") {
        document.querySelector<HTMLButtonElement>(".list .row .accept")?.click();
      } else if (e.key === "r") {
        document.querySelector<HTMLTextAreaElement>("textarea[aria-label=Reply]")?.focus();
      } else if (e.key === "h") {
        document.querySelector<HTMLSelectElement>(".handback select")?.focus();
      } else return;
      e.preventDefault();
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [open]);

  return (
    <div class="workspace">
      <header class="topbar">
        <strong>Baton</strong>
        <span>{agent ? agent.displayName : "Admin"}</span>
        {agent && supervises && <span class="badge">supervisor</span>}
        {agent && <Availability api={api} agent={agent} />}
        {link === "reconnecting" && (
          <span class="link reconnecting" role="status">
            Reconnecting…
          </span>
        )}
        {link === "live" && <span class="link live">Live</span>}
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      {error && (
        <p class="error banner" role="alert">
          {error}
        </p>
      )}
      <nav class="list" aria-label="Conversations">
        <div role="tablist">
          {tabs.map(([t, label, n]) => (
            <button type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
              {label}
              {n !== undefined && <span class="count" aria-label={`${n} items`}>{n}</span>}
            </button>
          ))}
        </div>
        <div role="tabpanel">
          {tab === "queues" ? (
            <Queues queues={queues} />
          ) : tab === "all" ? (
            <AllList conversations={all} current={open} />
          ) : (
            <InboxList tab={tab} items={inbox?.[tab] ?? []} api={api} current={open} onError={setError} />
          )}
        </div>
      </nav>
      <main class="detail">
        {open ? (
          <ConversationView key={open} id={open} session={session} listeners={listeners.current} version={version} />
        ) : (
          <p class="empty">Pick a conversation.</p>
        )}
      </main>
    </div>
  );
}

function Availability({ api, agent }: { api: Baton; agent: Agent }) {
  const [presence, setPresence] = useState(agent.presence);
  // Heartbeats while the tab is open, as often as Baton asks.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout>;
    const beat = async () => {
      let wait = 30_000;
      try {
        const res = await api.routing.heartbeat({});
        if (res.nextHeartbeatWithin) wait = Math.max(5_000, Number(res.nextHeartbeatWithin.seconds) * 1000 * 0.5);
      } catch {
        // the stream shows the connection's state; try again later
      }
      timer = setTimeout(beat, wait);
    };
    timer = setTimeout(beat, 15_000);
    return () => clearTimeout(timer);
  }, []);
  return (
    <label class="availability">
      Availability{" "}
      <select
        value={String(presence)}
        onChange={async (e) => {
          const p = Number((e.target as HTMLSelectElement).value) as Presence;
          const res = await api.routing.setPresence({ presence: p });
          setPresence(res.agent?.presence ?? p);
        }}
      >
        <option value={String(Presence.ONLINE)}>Online</option>
        <option value={String(Presence.AWAY)}>Away</option>
        <option value={String(Presence.OFFLINE)}>Offline</option>
        {presence === Presence.UNSPECIFIED && <option value={String(Presence.UNSPECIFIED)}>—</option>}
      </select>
    </label>
  );
}

function InboxList({ tab, items, api, current, onError }: { tab: Tab; items: InboxItem[]; api: Baton; current: string; onError: (s: string) => void }) {
  const [now, setNow] = useState(Date.now());
  // The offers' countdown ticks each second while offers are shown (a display clock, not polling).
  useEffect(() => {
    if (tab !== "offers" || items.length === 0) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [tab, items.length]);
  const sorted = useMemo(
    () => (tab === "waiting" ? [...items].sort((a, b) => Number(b.waitTime?.seconds ?? 0n) - Number(a.waitTime?.seconds ?? 0n)) : items),
    [tab, items],
  );
  if (sorted.length === 0) return <p class="empty">Nothing here.</p>;
  return (
    <ul class="rows">
      {sorted.map((it) => {
        const c = it.conversation!;
        const h = it.handover;
        const expires = h?.offerExpireTime ? Number(h.offerExpireTime.seconds) * 1000 - now : undefined;
        return (
          <li class={`row ${current === c.id ? "current" : ""}`} data-conversation={c.id}>
            <a href={`#${c.id}`} aria-current={current === c.id ? "page" : undefined}>
              <strong>{it.contactDisplayName || c.contactId}</strong>
              <span class="preview">{it.lastMessagePreview}</span>
              {h?.reason && <span class="reason">{h.reason}</span>}
            </a>
            {tab === "waiting" && it.waitTime && <span class="wait">waiting {since(Number(it.waitTime.seconds))}</span>}
            {tab === "offers" && expires !== undefined && (
              <span class="countdown" role="timer">
                {Math.max(0, Math.ceil(expires / 1000))}s left
              </span>
            )}
            {h && (tab === "offers" || tab === "waiting") && (
              <span class="actions">
                <button
                  type="button"
                  class="accept"
                  onClick={async () => {
                    try {
                      await api.handovers.acceptHandover({ handoverId: h.id });
                      location.hash = c.id;
                    } catch (err) {
                      onError(await refusal(api, err));
                    }
                  }}
                >
                  Accept
                </button>
                {tab === "offers" && (
                  <button type="button" onClick={() => api.handovers.declineHandover({ handoverId: h.id }).catch(async (err) => onError(await refusal(api, err)))}>
                    Decline
                  </button>
                )}
              </span>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Says why an ownership call was refused, naming who has the conversation when Baton says. */
export async function refusal(api: Baton, err: unknown): Promise<string> {
  const { ownershipOf } = await import("../../client/ts/src/index.js");
  const info = ownershipOf(err);
  if (!info?.owner) return explain(err);
  return `${await ownerName(api, info.owner)} has this conversation now.`;
}

function AllList({ conversations, current }: { conversations: Conversation[]; current: string }) {
  const [owner, setOwner] = useState<string>("");
  const [q, setQ] = useState("");
  const shown = conversations.filter(
    (c) => (owner === "" || String(c.owner?.kind) === owner) && (q === "" || [c.id, c.contactId, c.channelId, ...c.tags].some((s) => s.includes(q))),
  );
  return (
    <div>
      <div class="filters">
        <label>
          Owner{" "}
          <select value={owner} onChange={(e) => setOwner((e.target as HTMLSelectElement).value)}>
            <option value="">Any</option>
            <option value={String(OwnerKind.BOT)}>Bot</option>
            <option value={String(OwnerKind.QUEUE)}>Queue</option>
            <option value={String(OwnerKind.AGENT)}>Agent</option>
            <option value={String(OwnerKind.NOBODY)}>Closed</option>
          </select>
        </label>
        <input type="search" aria-label="Search conversations" placeholder="Search" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </div>
      <ul class="rows">
        {shown.map((c) => (
          <li class={`row ${current === c.id ? "current" : ""}`} data-conversation={c.id}>
            <a href={`#${c.id}`}>
              <strong>{c.contactId}</strong>
              <span class="preview">{(OwnerKind[c.owner?.kind ?? 0] ?? "").toLowerCase()}</span>
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** The supervisors' overview: per queue, who waits and for how long, and the agents' load. */
function Queues({ queues }: { queues: QueueStatus[] }) {
  return (
    <table class="queues">
      <caption>Queues</caption>
      <thead>
        <tr>
          <th scope="col">Queue</th>
          <th scope="col">Waiting</th>
          <th scope="col">Oldest wait</th>
          <th scope="col">Agents online</th>
          <th scope="col">Load</th>
        </tr>
      </thead>
      <tbody>
        {queues.map((q) => (
          <tr data-queue={q.queueId}>
            <th scope="row">{q.displayName || q.queueId}</th>
            <td>{q.waiting}</td>
            <td>{q.oldestWait ? since(Number(q.oldestWait.seconds)) : "—"}</td>
            <td>{q.agentsOnline}</td>
            <td>
              {q.agents.map((a) => (
                <span class="load">
                  {a.displayName} {a.activeConversations}/{a.capacity}
                </span>
              ))}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
