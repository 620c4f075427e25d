// The TypeScript client for Baton: typed clients for every service (createBaton), resumable
// streams (subscribe, streamChat), readers of Baton's error details (ownershipOf, eventsGoneOf,
// fieldViolations) and message content builders (text, quickReplies, buttons).
export { createBaton, clientsOn, bearer, type Baton, type BatonOptions } from "./clients.js";
export { subscribe, streamChat, type SubscribeOptions, type StreamChatOptions, type ResumeOptions, type Reconnect } from "./stream.js";
export { backoffDelay, type Backoff } from "./backoff.js";
export { ownershipOf, eventsGoneOf, fieldViolations, type FieldViolation } from "./errors.js";
export { text, quickReplies, buttons, type QuickReplyInit, type ButtonInit } from "./content.js";
export * from "./generated.js";
export { Code, ConnectError } from "@connectrpc/connect";
export { create } from "@bufbuild/protobuf";
