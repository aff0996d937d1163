/**
 * The replica's wire shapes (pure): the node-to-node Raft message codec, and the replies a
 * replica's client port sends.
 *
 * **Node to node.** A {@link Message} travels as the RFC 8785 canonical JSON of the message
 * with every `Uint8Array` (entry data, snapshot data) written as unpadded base64url and a
 * no-op's `data` as `null`. That payload is signed as a week 8 envelope (`msg_type`
 * `raft`) by the transport. {@link decodeRaftMessage} is strict: exactly the fields of the
 * message's type, each of the right type, every count a safe non-negative integer, every
 * byte string in its one canonical spelling; anything else is `E_RAFT_MESSAGE_MALFORMED`.
 *
 * **Client replies.** Week 9's {@link KvReply}, plus on every reply `term` (the node's term)
 * and `node` (its id):
 *
 * ```text
 *  applied        { ok: true, op, request_id, key, value?, version, term, value_hash?, lsn, node }
 *  not leader     { ok: false, request_id, code: E_RAFT_NOT_LEADER, message, leader, leader_addr, term, node }
 *  uncertain      { ok: false, request_id, code: E_RAFT_UNCERTAIN, message, term, node }
 *  status         { ok: true, node, role, term, leader, commit_index, applied_index, state_hash }
 * ```
 *
 * On an applied write the `term` field is the KV entry's term, which is the leader's term
 * the write was appended in; a replica answers only writes it appended itself in its
 * current term, so the two agree.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { canonicalBytes, parseStrictJson } from '../../lib/hashing.ts';
import type { KvReply } from '../../lib/kv.ts';
import { decodeBase64url, encodeBase64url } from '../../lib/signing.ts';
import type { Entry, Message, NodeId, Role, Snapshot } from './raft_types.ts';
import { REPLICA_ERRORS } from './replica_catalog.ts';

const fail = errorFactory(REPLICA_ERRORS);

/** The envelope `msg_type` of a node-to-node Raft message. */
export const RAFT_MSG_TYPE = 'raft';

// ---------------------------------------------------------------------------------------
// The Raft message codec.

/** The fields of each message type besides `type`, `from`, `to`, `term`. */
const FIELDS: Readonly<Record<Message['type'], readonly string[]>> = {
  append: ['prevIndex', 'prevTerm', 'entries', 'commit'],
  append_reply: ['success', 'prevIndex', 'matchIndex', 'conflictIndex', 'conflictTerm'],
  vote: ['lastIndex', 'lastTerm'],
  vote_reply: ['granted'],
  snapshot: ['snapshot'],
  snapshot_reply: ['matchIndex'],
};

function entryJson(entry: Entry): Record<string, unknown> {
  return { index: entry.index, term: entry.term, data: entry.data === null ? null : encodeBase64url(entry.data) };
}

// #region raft-codec
/** The canonical bytes of a Raft message (byte strings as base64url). */
export function encodeRaftMessage(message: Message): Uint8Array {
  const json: Record<string, unknown> = { ...message };
  if (message.type === 'append') json['entries'] = message.entries.map(entryJson);
  if (message.type === 'snapshot') {
    const { index, term, data } = message.snapshot;
    json['snapshot'] = { index, term, data: encodeBase64url(data) };
  }
  return canonicalBytes(json);
}

/**
 * Reads a Raft message from its canonical bytes, refusing anything that is not exactly one.
 * @throws CivicError `E_RAFT_MESSAGE_MALFORMED` naming the first problem
 */
export function decodeRaftMessage(bytes: Uint8Array): Message {
  let value: unknown;
  try {
    value = parseStrictJson(bytes);
  } catch (error) {
    throw malformed(`not strict JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const m = object(value, 'message');
  const type = m['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) throw malformed(`type ${JSON.stringify(type)} is not a Raft message type`);
  const fields = FIELDS[type as Message['type']];
  exactFields(m, ['type', 'from', 'to', 'term', ...fields], type);
  const base = { from: nodeId(m['from'], 'from'), to: nodeId(m['to'], 'to'), term: count(m['term'], 'term') };
  switch (type as Message['type']) {
    case 'append':
      return {
        ...base, type: 'append', prevIndex: count(m['prevIndex'], 'prevIndex'), prevTerm: count(m['prevTerm'], 'prevTerm'),
        entries: array(m['entries'], 'entries').map(decodeEntry), commit: count(m['commit'], 'commit'),
      };
    case 'append_reply':
      return {
        ...base, type: 'append_reply', success: boolean(m['success'], 'success'), prevIndex: count(m['prevIndex'], 'prevIndex'),
        matchIndex: count(m['matchIndex'], 'matchIndex'), conflictIndex: count(m['conflictIndex'], 'conflictIndex'), conflictTerm: count(m['conflictTerm'], 'conflictTerm'),
      };
    case 'vote':
      return { ...base, type: 'vote', lastIndex: count(m['lastIndex'], 'lastIndex'), lastTerm: count(m['lastTerm'], 'lastTerm') };
    case 'vote_reply':
      return { ...base, type: 'vote_reply', granted: boolean(m['granted'], 'granted') };
    case 'snapshot':
      return { ...base, type: 'snapshot', snapshot: decodeSnapshot(m['snapshot']) };
    case 'snapshot_reply':
      return { ...base, type: 'snapshot_reply', matchIndex: count(m['matchIndex'], 'matchIndex') };
  }
}
// #endregion raft-codec

function decodeEntry(value: unknown): Entry {
  const e = object(value, 'entry');
  exactFields(e, ['index', 'term', 'data'], 'entry');
  const data = e['data'] === null ? null : bytesOf(e['data'], 'entry data');
  return { index: count(e['index'], 'entry index'), term: count(e['term'], 'entry term'), data };
}

function decodeSnapshot(value: unknown): Snapshot {
  const s = object(value, 'snapshot');
  exactFields(s, ['index', 'term', 'data'], 'snapshot');
  return { index: count(s['index'], 'snapshot index'), term: count(s['term'], 'snapshot term'), data: bytesOf(s['data'], 'snapshot data') };
}

function malformed(why: string): Error {
  return fail('E_RAFT_MESSAGE_MALFORMED', `Cannot decode Raft message: ${why}`);
}
function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}
function exactFields(record: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const name of Object.keys(record)) if (!allowed.includes(name)) throw malformed(`field ${JSON.stringify(name)} is not part of ${what}`);
  for (const name of allowed) if (!Object.hasOwn(record, name)) throw malformed(`${what} has no ${name}`);
}
function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw malformed(`${what} is not a non-negative safe integer`);
  return value;
}
function boolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw malformed(`${what} is not a boolean`);
  return value;
}
function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(`${what} is not an array`);
  return value;
}
function nodeId(value: unknown, what: string): NodeId {
  if (typeof value !== 'string' || !isNodeId(value)) throw malformed(`${what} is not a node id`);
  return value;
}
function bytesOf(value: unknown, what: string): Uint8Array {
  const bytes = typeof value === 'string' ? decodeBase64url(value) : undefined;
  if (bytes === undefined) throw malformed(`${what} is not canonical base64url`);
  return bytes;
}

/**
 * True for a valid node id: 1-32 of `a-z 0-9 -`, starting with a letter, not ending in
 * `-v<digits>` (a node id is also the name of its week 8 signing key).
 */
export function isNodeId(id: string): boolean {
  return /^[a-z][a-z0-9-]{0,31}$/.test(id) && !/-v[0-9]+$/.test(id);
}

// ---------------------------------------------------------------------------------------
// Client replies.

/** A redirect: this node does not lead. Definite: nothing was appended. */
export interface NotLeaderReply {
  /** False: refused. */
  readonly ok: false;
  /** The request id the client sent, or null. */
  readonly request_id: string | null;
  /** Always `E_RAFT_NOT_LEADER`. */
  readonly code: 'E_RAFT_NOT_LEADER';
  /** What happened. */
  readonly message: string;
  /** The leader this node knows for its term, or null. */
  readonly leader: NodeId | null;
  /** The leader's client address `host:port`, or null when no leader is known. */
  readonly leader_addr: string | null;
}

/** A refusal the replica adds to week 9's (`E_RAFT_UNCERTAIN`, `E_RAFT_SHUTTING_DOWN`). */
export interface ReplicaRefusal {
  /** False: refused. */
  readonly ok: false;
  /** The request id the client sent, or null. */
  readonly request_id: string | null;
  /** `E_RAFT_UNCERTAIN` (indefinite: retry with the same id) or `E_RAFT_SHUTTING_DOWN` (definite). */
  readonly code: 'E_RAFT_UNCERTAIN' | 'E_RAFT_SHUTTING_DOWN';
  /** What happened. */
  readonly message: string;
}

/** The answer to `{"op":"status"}`: what the drills compare across nodes. */
export interface StatusReply {
  /** True. */
  readonly ok: true;
  /** The node's id. */
  readonly node: NodeId;
  /** Its role now. */
  readonly role: Role;
  /** Its current term. */
  readonly term: number;
  /** The leader it knows for that term, or null. */
  readonly leader: NodeId | null;
  /** The highest index it knows committed. */
  readonly commit_index: number;
  /** The highest index it has applied. */
  readonly applied_index: number;
  /** The application's state hash (equal on replicas that applied the same entries). */
  readonly state_hash: string;
}

/** The fields every reply from a replica carries. */
export interface ReplicaStamp {
  /** The node's current term (for an applied write: the term it was appended in). */
  readonly term: number;
  /** The node's id. */
  readonly node: NodeId;
  /**
   * The node's current term when it answered, always (`term` keeps week 9's meaning on an
   * applied write). A client fences on this: an answer from a term older than one it has
   * already seen comes from a deposed leader.
   */
  readonly node_term: number;
}

/** Every answer a replica's client port sends. */
export type ReplicaReply = ((KvReply | NotLeaderReply | ReplicaRefusal) & ReplicaStamp) | StatusReply;

/** The exact request frame of a status query. */
const STATUS_REQUEST = '{"op":"status"}';

/** True when `frame` is the status query `{"op":"status"}` (unsigned, canonical). */
export function isStatusRequest(frame: Uint8Array): boolean {
  if (frame.length !== STATUS_REQUEST.length) return false;
  for (let i = 0; i < frame.length; i++) if (frame[i] !== STATUS_REQUEST.charCodeAt(i)) return false;
  return true;
}

/** The bytes of a status query, for clients and drills. */
export function statusRequest(): Uint8Array {
  return new TextEncoder().encode(STATUS_REQUEST);
}

/**
 * Adds the replica's `term`, `node` and `node_term` to a reply. An applied write keeps its
 * own `term` (the term it was appended in).
 */
export function stampReply(reply: KvReply | NotLeaderReply | ReplicaRefusal, stamp: Omit<ReplicaStamp, 'node_term'>): ReplicaReply {
  const own = (reply as { term?: unknown }).term;
  return { ...reply, term: typeof own === 'number' ? own : stamp.term, node: stamp.node, node_term: stamp.term } as ReplicaReply;
}

/** The canonical bytes of a reply, as sent. */
export function encodeReply(reply: ReplicaReply): Uint8Array {
  return canonicalBytes(reply);
}
