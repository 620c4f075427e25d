// Renders a message's typed content, for the console and the widget alike: text, quick
// replies, buttons, carousel, attachments, location and postbacks.
import type { MessageContent, Button } from "../../gen/ts/baton/v1/message_pb.js";
import { AttachmentType } from "../../gen/ts/baton/v1/message_pb.js";

/** What a tap on a quick reply or a payload button sends back. */
export type Postback = (title: string, payload: string) => void;

interface Props {
  content: MessageContent | undefined;
  /** Makes quick replies and payload buttons clickable; they are shown inert without it. */
  onPostback?: Postback;
  /** Shows quick replies (only the latest message's are still an offer). */
  showQuickReplies?: boolean;
}

export function Content({ content, onPostback, showQuickReplies = true }: Props) {
  const k = content?.kind;
  switch (k?.case) {
    case "text":
      return <p class="text">{k.value.text}</p>;
    case "quickReplies":
      return (
        <div>
          <p class="text">{k.value.text}</p>
          {showQuickReplies && (
            <div class="quick-replies" role="group" aria-label="Quick replies">
              {k.value.replies.map((r) => (
                <button type="button" class="chip" disabled={!onPostback} onClick={() => onPostback?.(r.title, r.payload || r.title)}>
                  {r.title}
                </button>
              ))}
            </div>
          )}
        </div>
      );
    case "buttons":
      return (
        <div>
          <p class="text">{k.value.text}</p>
          <Buttons buttons={k.value.buttons} onPostback={onPostback} />
        </div>
      );
    case "carousel":
      return (
        <ul class="carousel" aria-label="Carousel">
          {k.value.cards.map((c) => (
            <li class="card">
              {c.imageUrl && <img src={c.imageUrl} alt="" loading="lazy" />}
              <strong>{c.title}</strong>
              {c.subtitle && <span class="subtitle">{c.subtitle}</span>}
              <Buttons buttons={c.buttons} onPostback={onPostback} />
            </li>
          ))}
        </ul>
      );
    case "attachment": {
      const a = k.value;
      const caption = a.caption && <span class="caption">{a.caption}</span>;
      if (a.type === AttachmentType.IMAGE)
        return (
          <figure class="attachment">
            <img src={a.url} alt={a.caption || "image"} loading="lazy" />
            {caption}
          </figure>
        );
      if (a.type === AttachmentType.VIDEO) return <figure class="attachment"><video src={a.url} controls />{caption}</figure>;
      if (a.type === AttachmentType.AUDIO) return <figure class="attachment"><audio src={a.url} controls />{caption}</figure>;
      return (
        <a class="attachment file" href={a.url} target="_blank" rel="noopener noreferrer">
          {a.caption || fileName(a.url)}
        </a>
      );
    }
    case "location": {
      const l = k.value;
      const href = `https://www.openstreetmap.org/?mlat=${l.latitude}&mlon=${l.longitude}`;
      return (
        <a class="location" href={href} target="_blank" rel="noopener noreferrer">
          📍 {l.name || `${l.latitude.toFixed(5)}, ${l.longitude.toFixed(5)}`}
          {l.address && <span class="address"> — {l.address}</span>}
        </a>
      );
    }
    case "postback":
      return <p class="text postback">{k.value.title || k.value.payload}</p>;
    default:
      return <p class="text unknown">(unsupported content)</p>;
  }
}

function Buttons({ buttons, onPostback }: { buttons: Button[]; onPostback?: Postback }) {
  return (
    <div class="buttons" role="group">
      {buttons.map((b) =>
        b.action.case === "url" ? (
          <a class="button" href={b.action.value} target="_blank" rel="noopener noreferrer">
            {b.title}
          </a>
        ) : (
          <button type="button" class="button" disabled={!onPostback} onClick={() => onPostback?.(b.title, b.action.value ?? "")}>
            {b.title}
          </button>
        ),
      )}
    </div>
  );
}

function fileName(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split("/").pop() || url);
  } catch {
    return url;
  }
}

/** A short plain-text preview of content, for lists. */
export function preview(content: MessageContent | undefined): string {
  const k = content?.kind;
  switch (k?.case) {
    case "text":
    case "quickReplies":
    case "buttons":
      return k.value.text;
    case "carousel":
      return `Carousel: ${k.value.cards.map((c) => c.title).join(", ")}`;
    case "attachment":
      return k.value.caption || "Attachment";
    case "location":
      return k.value.name || "Location";
    case "postback":
      return k.value.title || k.value.payload;
    default:
      return "";
  }
}
