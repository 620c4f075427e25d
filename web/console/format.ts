// Words for what Baton says: errors, owners, durations.
import { Code, ConnectError, OwnerKind, type Baton, type Owner } from "../../client/ts/src/index.js";

export function explain(err: unknown): string {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.Unauthenticated:
      return "This key is not valid: it may be mistyped or revoked.";
    case Code.PermissionDenied:
      return `Not allowed: ${e.rawMessage}`;
    case Code.Unavailable:
      return "Baton cannot be reached. Check the connection and try again.";
    default:
      return e.rawMessage;
  }
}

const names = new Map<string, Promise<string>>();

/** A readable name for an owner: an agent's display name (and role) when Baton tells it. */
export function ownerName(api: Baton, o: Owner): Promise<string> {
  switch (o.kind) {
    case OwnerKind.BOT:
      return Promise.resolve("The bot");
    case OwnerKind.QUEUE:
      return Promise.resolve(`The queue ${o.id}`);
    case OwnerKind.NOBODY:
      return Promise.resolve("Nobody (closed)");
    case OwnerKind.EXTERNAL_HUMAN:
      return Promise.resolve("A human outside Baton");
    case OwnerKind.AGENT: {
      let p = names.get(o.id);
      if (!p) {
        p = api.routing.getAgent({ agentId: o.id }).then(
          ({ agent }) => (agent ? `${agent.displayName}${agent.role === 2 ? " (supervisor)" : ""}` : o.id),
          () => `Agent ${o.id}`,
        );
        names.set(o.id, p);
      }
      return p;
    }
    default:
      return Promise.resolve("Unknown");
  }
}

/** "3 min" for a number of seconds. */
export function since(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
