import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Code, ConnectError } from "@connectrpc/connect";

import { ViolationsSchema, type FieldPath } from "../../../gen/ts/buf/validate/validate_pb.js";
import { EventsGoneInfoSchema, OwnershipInfoSchema, type EventsGoneInfo, type OwnershipInfo } from "./generated.js";

/**
 * Who owns a conversation now and at which epoch, when a send or an ownership call was refused
 * because the caller does not own it (any more) or believed in another epoch
 * (FAILED_PRECONDITION with an OwnershipInfo detail). undefined for any other error.
 */
export function ownershipOf(err: unknown): OwnershipInfo | undefined {
  const ce = ConnectError.from(err);
  if (ce.code !== Code.FailedPrecondition) return undefined;
  return ce.findDetails(OwnershipInfoSchema)[0];
}

/**
 * Where to resume when the events a stream or ListEvents asked for were deleted by retention
 * (OUT_OF_RANGE with an EventsGoneInfo detail): earliestSequence is the lowest sequence still
 * readable without a gap, so resume with afterSequence = earliestSequence - 1n, knowing that what
 * came before is gone. undefined for any other error. subscribe ends with this error rather than
 * reconnect: skipping events is the caller's decision.
 */
export function eventsGoneOf(err: unknown): EventsGoneInfo | undefined {
  const ce = ConnectError.from(err);
  if (ce.code !== Code.OutOfRange) return undefined;
  return ce.findDetails(EventsGoneInfoSchema)[0];
}

/** One field of a request that was refused, and why. */
export interface FieldViolation {
  /** The field's path, e.g. "content.text.text" or "target.queue_id". */
  field: string;
  description: string;
}

/**
 * The fields an INVALID_ARGUMENT names, from either kind of detail Baton sends: protovalidate's
 * (a rule in the proto) or google.rpc.BadRequest (a request that makes no sense for the data).
 * Empty for any other error.
 */
export function fieldViolations(err: unknown): FieldViolation[] {
  const ce = ConnectError.from(err);
  if (ce.code !== Code.InvalidArgument) return [];
  const out: FieldViolation[] = [];
  for (const v of ce.findDetails(ViolationsSchema)) {
    for (const violation of v.violations) {
      out.push({ field: pathString(violation.field), description: violation.message });
    }
  }
  for (const d of ce.details) {
    if ("type" in d && d.type === badRequestType) out.push(...decodeBadRequest(d.value));
  }
  return out;
}

function pathString(path: FieldPath | undefined): string {
  let s = "";
  for (const e of path?.elements ?? []) {
    s += (s ? "." : "") + e.fieldName;
    if (e.subscript.case !== undefined) s += `[${String(e.subscript.value)}]`;
  }
  return s;
}

const badRequestType = "google.rpc.BadRequest";

/**
 * Decodes google.rpc.BadRequest's field violations from the wire: field_violations (1), each
 * with field (1) and description (2). Read by hand since the googleapis protos are not part of
 * Baton's API.
 */
function decodeBadRequest(bytes: Uint8Array): FieldViolation[] {
  const out: FieldViolation[] = [];
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no !== 1 || wt !== WireType.LengthDelimited) {
      r.skip(wt);
      continue;
    }
    const v = new BinaryReader(r.bytes());
    const violation: FieldViolation = { field: "", description: "" };
    while (v.pos < v.len) {
      const [fno, fwt] = v.tag();
      if (fno === 1 && fwt === WireType.LengthDelimited) violation.field = v.string();
      else if (fno === 2 && fwt === WireType.LengthDelimited) violation.description = v.string();
      else v.skip(fwt);
    }
    out.push(violation);
  }
  return out;
}
