// The generated messages, enums and services of Baton's API (gen/ts), in one module.
export * from "../../../gen/ts/baton/v1/api_key_pb.js";
export * from "../../../gen/ts/baton/v1/bot_pb.js";
export * from "../../../gen/ts/baton/v1/channel_pb.js";
export * from "../../../gen/ts/baton/v1/common_pb.js";
export * from "../../../gen/ts/baton/v1/conversation_pb.js";
export * from "../../../gen/ts/baton/v1/event_pb.js";
export * from "../../../gen/ts/baton/v1/generic_pb.js";
export * from "../../../gen/ts/baton/v1/handover_pb.js";
export * from "../../../gen/ts/baton/v1/message_pb.js";
export * from "../../../gen/ts/baton/v1/retention_pb.js";
export * from "../../../gen/ts/baton/v1/routing_pb.js";
export * from "../../../gen/ts/baton/v1/webchat_pb.js";
export * from "../../../gen/ts/baton/v1/webhook_pb.js";
