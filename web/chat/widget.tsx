// The web-chat widget. A site adds one tag naming its web chat channel:
//   <script src="https://baton.example.com/chat/widget.js" data-channel="ch_..." defer></script>
// and a chat window opens on its pages, talking to that Baton over Connect-web (WebChatService)
// with no other backend. The visitor's token is kept in local storage, so a reload, or another
// page of the site, continues the same conversation. It renders in a shadow root so the site's
// styles and the widget's do not meet.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { create } from "@bufbuild/protobuf";

import { WebChatService } from "../../gen/ts/baton/v1/webchat_pb.js";
import { ActorKind } from "../../gen/ts/baton/v1/common_pb.js";
import { MessageContentSchema, type Message, type MessageContent } from "../../gen/ts/baton/v1/message_pb.js";
import { streamChat } from "../../client/ts/src/stream.js";
import { Content } from "../shared/content.js";
import styles from "./widget.widget.css";

type Chat = Client<typeof WebChatService>;

/** A message the visitor sent that the server has not stored yet (or refused). */
interface Pending {
  clientId: string;
  content: MessageContent;
  failed: boolean;
}

type Link = "idle" | "connecting" | "live" | "reconnecting";

function boot() {
  const script = document.currentScript as HTMLScriptElement | null;
  const channel = script?.dataset.channel;
  if (!script || !channel) {
    console.error("baton widget: add data-channel=\"<web chat channel id>\" to the script tag");
    return;
  }
  const baseUrl = new URL(script.src, location.href).origin;
  const chat = createClient(WebChatService, createConnectTransport({ baseUrl }));
  const host = document.createElement("div");
  host.setAttribute("data-baton-chat", "");
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(styles);
  root.adoptedStyleSheets = [sheet];
  const mount = () => {
    document.body.appendChild(host);
    render(<Widget chat={chat} channel={channel} title={script.dataset.title || "Chat with us"} />, root);
  };
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount, { once: true });
}

/** Local storage, which a browser may refuse (privacy modes): the chat then lasts one page. */
const store = {
  get(k: string): string | null {
    try {
      return localStorage.getItem(k);
    } catch {
      return null;
    }
  },
  set(k: string, v: string | null) {
    try {
      if (v === null) localStorage.removeItem(k);
      else localStorage.setItem(k, v);
    } catch {
      // not kept
    }
  },
};

function randomId(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

function Widget({ chat, channel, title }: { chat: Chat; channel: string; title: string }) {
  const tokenKey = `baton.chat.${channel}.token`;
  const openKey = `baton.chat.${channel}.open`;
  const [open, setOpen] = useState(store.get(openKey) === "1");
  const [token, setToken] = useState(store.get(tokenKey));
  const [messages, setMessages] = useState<Message[]>([]);
  const [pending, setPending] = useState<Pending[]>([]);
  const [link, setLink] = useState<Link>("idle");
  const [problem, setProblem] = useState("");
  const logRef = useRef<HTMLDivElement>(null);

  const add = (m: Message) =>
    setMessages((list) => (list.some((x) => x.id === m.id) ? list : [...list, m]));

  useEffect(() => store.set(openKey, open ? "1" : null), [open]);

  // Starts the chat when the visitor first opens the window.
  useEffect(() => {
    if (!open || token) return;
    let live = true;
    chat
      .startChat({ channelId: channel, locale: navigator.language })
      .then(({ token }) => {
        if (!live) return;
        store.set(tokenKey, token);
        setToken(token);
      })
      .catch((err) => live && setProblem(`The chat is unavailable: ${ConnectError.from(err).rawMessage}`));
    return () => {
      live = false;
    };
  }, [open, token]);

  // Streams the conversation from its start (a reload shows it whole), resuming after the last
  // message on reconnects, so nothing is lost or repeated.
  useEffect(() => {
    if (!token) return;
    const stop = new AbortController();
    setMessages([]);
    setLink("connecting");
    (async () => {
      try {
        for await (const m of streamChat(chat, token, {
          signal: stop.signal,
          onOpen: () => setLink("live"),
          onReconnect: () => setLink("reconnecting"),
        })) {
          add(m);
        }
      } catch (err) {
        // A token that no longer verifies (a new channel secret, a deleted chat): start afresh.
        const e = ConnectError.from(err);
        store.set(tokenKey, null);
        setToken(null);
        setProblem(e.code === Code.Unauthenticated || e.code === Code.NotFound ? "Your previous chat has ended." : e.rawMessage);
      }
    })();
    return () => stop.abort();
  }, [token]);

  // Keeps the latest message in view.
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [messages.length, pending.length, open]);

  // The page the visitor writes from, the conversation's entry point for routing rules; none
  // when it is not a web page Baton would accept (a local file, a URL past 2048 characters).
  const pageUrl = () => (/^https?:/.test(location.href) && location.href.length <= 2048 ? location.href : "");

  const send = async (p: Pending) => {
    if (!token) return;
    setPending((list) => [...list.filter((x) => x.clientId !== p.clientId), { ...p, failed: false }]);
    try {
      const { message } = await chat.sendChatMessage({ token, clientMessageId: p.clientId, content: p.content, pageUrl: pageUrl() });
      if (message) add(message);
      setPending((list) => list.filter((x) => x.clientId !== p.clientId));
    } catch {
      setPending((list) => list.map((x) => (x.clientId === p.clientId ? { ...x, failed: true } : x)));
    }
  };
  const sendContent = (content: MessageContent) => send({ clientId: randomId(), content, failed: false });
  const postback = (title: string, payload: string) =>
    sendContent(create(MessageContentSchema, { kind: { case: "postback", value: { title, payload } } }));

  if (!open) {
    return (
      <button type="button" class="launcher" aria-label={`Open chat: ${title}`} aria-expanded="false" onClick={() => setOpen(true)}>
        💬
      </button>
    );
  }
  const last = messages[messages.length - 1];
  return (
    <section class="panel" role="dialog" aria-label={title}>
      <header>
        <h2>{title}</h2>
        <button type="button" class="close" aria-label="Close chat" onClick={() => setOpen(false)}>
          ×
        </button>
      </header>
      {link === "reconnecting" && (
        <p class="banner" role="status">
          Reconnecting…
        </p>
      )}
      {problem && (
        <p class="banner problem" role="alert">
          {problem}
        </p>
      )}
      <div class="log" role="log" aria-live="polite" aria-label="Conversation" ref={logRef}>
        {transcript(messages).map((item) =>
          item.kind === "notice" ? (
            <p class="notice" key={item.key}>
              {item.text}
            </p>
          ) : (
            <div key={item.m.id} class={`bubble ${item.m.sender?.kind === ActorKind.CUSTOMER ? "mine" : "theirs"}`} data-sender={senderName(item.m)}>
              <Content content={item.m.content} onPostback={item.m === last ? postback : undefined} showQuickReplies={item.m === last} />
            </div>
          ),
        )}
        {pending.map((p) => (
          <div key={p.clientId} class="bubble mine pending">
            <Content content={p.content} showQuickReplies={false} />
            {p.failed ? (
              <button type="button" class="retry" onClick={() => send(p)}>
                Not sent. Retry
              </button>
            ) : (
              <span class="sending">Sending…</span>
            )}
          </div>
        ))}
      </div>
      <Composer disabled={!token || link === "connecting" || link === "idle"} onSend={(t) => sendContent(create(MessageContentSchema, { kind: { case: "text", value: { text: t } } }))} />
    </section>
  );
}

function Composer({ disabled, onSend }: { disabled: boolean; onSend: (text: string) => void }) {
  const [text, setText] = useState("");
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        const t = text.trim();
        if (!t || disabled) return;
        onSend(t);
        setText("");
      }}
    >
      <input
        type="text"
        aria-label="Message"
        placeholder="Write a message…"
        maxLength={8192}
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
      />
      <button type="submit" disabled={disabled}>
        Send
      </button>
    </form>
  );
}

function senderName(m: Message): string {
  switch (m.sender?.kind) {
    case ActorKind.CUSTOMER:
      return "You";
    case ActorKind.BOT:
      return "Assistant";
    case ActorKind.AGENT:
    case ActorKind.EXTERNAL_HUMAN:
      return "Agent";
    default:
      return "";
  }
}

type Item = { kind: "message"; m: Message } | { kind: "notice"; key: string; text: string };

/**
 * The messages with notices where a human joins (their first reply after the bot's) or leaves
 * (the bot answers again after them): the chat's stream carries messages, and who answers is
 * what the visitor needs to know. (Visitors are not told which agent: only the kind of sender.)
 */
function transcript(messages: Message[]): Item[] {
  const out: Item[] = [];
  let human = false;
  for (const m of messages) {
    const kind = m.sender?.kind;
    if (kind === ActorKind.AGENT || kind === ActorKind.EXTERNAL_HUMAN) {
      if (!human) out.push({ kind: "notice", key: `join-${m.id}`, text: "An agent joined the conversation." });
      human = true;
    } else if (kind === ActorKind.BOT && human) {
      out.push({ kind: "notice", key: `leave-${m.id}`, text: "The agent left the conversation." });
      human = false;
    }
    out.push({ kind: "message", m });
  }
  return out;
}

boot();
