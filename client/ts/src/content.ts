import { create } from "@bufbuild/protobuf";

import { MessageContentSchema, type MessageContent } from "./generated.js";

/** Plain text. */
export function text(t: string): MessageContent {
  return create(MessageContentSchema, { kind: { case: "text", value: { text: t } } });
}

/** A quick reply: its title, and the payload sent back when the customer taps it (the title when omitted). */
export interface QuickReplyInit {
  title: string;
  payload?: string;
}

/** Text with quick replies; a string is a reply whose payload is its title. */
export function quickReplies(t: string, replies: (string | QuickReplyInit)[]): MessageContent {
  return create(MessageContentSchema, {
    kind: {
      case: "quickReplies",
      value: {
        text: t,
        replies: replies.map((r) => (typeof r === "string" ? { title: r, payload: r } : { title: r.title, payload: r.payload ?? r.title })),
      },
    },
  });
}

/** A button that posts a payload back, or opens a URL. */
export type ButtonInit = { title: string; payload: string } | { title: string; url: string };

/** Text with buttons. */
export function buttons(t: string, list: ButtonInit[]): MessageContent {
  return create(MessageContentSchema, {
    kind: {
      case: "buttons",
      value: {
        text: t,
        buttons: list.map((b) =>
          "url" in b
            ? { title: b.title, action: { case: "url" as const, value: b.url } }
            : { title: b.title, action: { case: "payload" as const, value: b.payload } },
        ),
      },
    },
  });
}
