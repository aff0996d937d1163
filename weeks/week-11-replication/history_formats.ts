/**
 * Parsers for the two history formats of the published linearizability vectors, both
 * Jepsen-style event logs: one line per event, `invoke` opening an operation of a
 * process and `ok` / `fail` / `info` closing it.
 *
 * - Jepsen's etcd register logs: `INFO  jepsen.util - 3\t:ok\t:cas\t[1 4]` (tabs or spaces);
 * - Porcupine's `kv` logs, one EDN map per line:
 *   `{:process 0, :type :ok, :f :get, :key "7", :value ""}`.
 *
 * What a closing event means (Jepsen's convention):
 *
 * | type | meaning | becomes |
 * |---|---|---|
 * | `ok` | it happened, with this result | an operation returning at that line |
 * | `fail` | it definitely did not happen | nothing: the operation is left out |
 * | `info` | it may or may not have happened | an operation of unknown outcome |
 * | none by the end of the log | the same as `info` | an operation of unknown outcome |
 *
 * Time is the 1-based line number. Parsing is strict: any line that is not an event of
 * the format, or an event that does not fit the operation it closes, is refused with
 * `E_LIN_HISTORY_MALFORMED` naming the line. Blank lines are skipped.
 * @module
 */
import { errorFactory } from '../../lib/errors.ts';
import { LIN_ERRORS } from './lin_catalog.ts';
import type { KvInput, KvOutput, Operation, RegisterInput, RegisterOutput } from './linearizability.ts';

const fail = errorFactory(LIN_ERRORS);

/** One event line, split into its fields; `V` is the format's raw value. */
interface RawEvent<V> {
  readonly process: number;
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly f: string;
  readonly value: V;
}

/** What a format must say about its lines; `undefined` means "does not fit". */
interface EventFormat<V, I, O> {
  /** The format's name, for messages. */
  readonly name: string;
  /** Splits one line into an event. */
  readonly event: (line: string) => RawEvent<V> | undefined;
  /** The input of an invoke event. */
  readonly input: (f: string, value: V) => I | undefined;
  /** The output of an `ok` event closing an operation with `input`. */
  readonly output: (input: I, value: V) => O | undefined;
}

/** An operation being built: open until its process closes it. */
interface Slot<I, O> {
  readonly client: number;
  readonly f: string;
  readonly input: I;
  readonly call: number;
  output: O | null;
  ret: number;
  dropped: boolean;
}

// #region pair-events
/** Pairs each invoke with the event that closes it, following the table in the module doc. */
function pairEvents<V, I, O>(text: string, format: EventFormat<V, I, O>): Operation<I, O>[] {
  const slots: Slot<I, O>[] = [];
  const open = new Map<number, Slot<I, O>>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    const at = i + 1;
    const bad = (why: string) => fail('E_LIN_HISTORY_MALFORMED', `Cannot parse ${format.name} history: line ${at}: ${why}: ${line.slice(0, 200)}`);
    const event = format.event(line);
    if (event === undefined) throw bad('not an event line');
    const pending = open.get(event.process);
    if (event.type === 'invoke') {
      if (pending !== undefined) throw bad(`process ${event.process} invokes while its operation from line ${pending.call} is open`);
      const input = format.input(event.f, event.value);
      if (input === undefined) throw bad(`invalid arguments for ${event.f}`);
      const slot: Slot<I, O> = { client: event.process, f: event.f, input, call: at, output: null, ret: Number.POSITIVE_INFINITY, dropped: false };
      slots.push(slot);
      open.set(event.process, slot);
      continue;
    }
    if (pending === undefined) throw bad(`process ${event.process} has no open operation`);
    if (pending.f !== event.f) throw bad(`it closes a ${pending.f} with ${event.f}`);
    open.delete(event.process);
    if (event.type === 'fail') pending.dropped = true;
    if (event.type === 'ok') {
      const output = format.output(pending.input, event.value);
      if (output === undefined) throw bad(`the result does not fit the ${pending.f} invoked on line ${pending.call}`);
      pending.output = output;
      pending.ret = at;
    }
    // 'info' leaves the slot as it was opened: output null, returning at +Infinity.
  }
  return slots.filter((s) => !s.dropped).map(({ client, input, call, output, ret }) => ({ client, input, call, output, ret }));
}
// #endregion pair-events

/** A non-negative decimal integer that is exactly representable, else undefined. */
function integer(text: string): number | undefined {
  const n = Number(text);
  return /^-?\d+$/.test(text) && Number.isSafeInteger(n) ? n : undefined;
}

/** `[FROM TO]` as two integers, else undefined. */
function pair(text: string): [number, number] | undefined {
  const m = /^\[(-?\d+) (-?\d+)\]$/.exec(text);
  if (m === null) return undefined;
  const from = integer(m[1] as string);
  const to = integer(m[2] as string);
  return from === undefined || to === undefined ? undefined : [from, to];
}

const JEPSEN_LINE = /^INFO +jepsen\.util - (\d+)[\t ]+:(invoke|ok|fail|info)[\t ]+:(read|write|cas)[\t ]+(nil|-?\d+|\[-?\d+ -?\d+\]|:timed-out)$/;

const JEPSEN_ETCD: EventFormat<string, RegisterInput, RegisterOutput> = {
  name: 'jepsen etcd',
  event(line) {
    const m = JEPSEN_LINE.exec(line);
    if (m === null) return undefined;
    const process = integer(m[1] as string);
    if (process === undefined) return undefined;
    return { process, type: m[2] as RawEvent<string>['type'], f: m[3] as string, value: m[4] as string };
  },
  input(f, value) {
    if (f === 'read') return value === 'nil' ? { f } : undefined;
    if (f === 'write') {
      const n = integer(value);
      return n === undefined ? undefined : { f, value: n };
    }
    const p = pair(value);
    return p === undefined ? undefined : { f: 'cas', from: p[0], to: p[1] };
  },
  output(input, value) {
    switch (input.f) {
      case 'read':
        if (value === 'nil') return { value: null };
        return integer(value) === undefined ? undefined : { value: integer(value) as number };
      case 'write':
        return integer(value) === input.value ? { value: null } : undefined;
      case 'cas': {
        const p = pair(value);
        return p !== undefined && p[0] === input.from && p[1] === input.to ? { value: null } : undefined;
      }
    }
  },
};

/**
 * Parses a Jepsen etcd log (a single compare-and-set register) into a history for
 * `registerModel`. A `:fail` (a cas that did not apply, a read that timed out) is left
 * out: it definitely had no effect.
 * @param text - the whole log
 * @returns the operations, in invoke order; times are line numbers
 * @throws CivicError `E_LIN_HISTORY_MALFORMED` naming the first bad line
 */
export function parseJepsenEtcdHistory(text: string): Operation<RegisterInput, RegisterOutput>[] {
  return pairEvents(text, JEPSEN_ETCD);
}

const EDN_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const KV_LINE = new RegExp(String.raw`^\{:process (\d+), :type :(invoke|ok|fail|info), :f :(get|put|append), :key (${EDN_STRING}), :value (nil|${EDN_STRING})\}$`);
const EDN_ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', n: '\n', t: '\t', r: '\r' };

/** The text of an EDN string literal (quotes included), or undefined for an unknown escape. */
function ednString(literal: string): string | undefined {
  let ok = true;
  const text = literal.slice(1, -1).replace(/\\(.)/g, (_, c: string) => {
    const out = EDN_ESCAPES[c];
    if (out === undefined) ok = false;
    return out ?? '';
  });
  return ok ? text : undefined;
}

/** A KV event's raw value: its key and its value (null for `nil`). */
interface KvFields {
  readonly key: string;
  readonly value: string | null;
}

const KV: EventFormat<KvFields, KvInput, KvOutput> = {
  name: 'kv',
  event(line) {
    const m = KV_LINE.exec(line);
    if (m === null) return undefined;
    const process = integer(m[1] as string);
    const key = ednString(m[4] as string);
    const value = m[5] === 'nil' ? null : ednString(m[5] as string);
    if (process === undefined || key === undefined || value === undefined) return undefined;
    return { process, type: m[2] as RawEvent<KvFields>['type'], f: m[3] as string, value: { key, value } };
  },
  input(f, { key, value }) {
    if (f === 'get') return value === null ? { op: 'get', key } : undefined;
    return value === null ? undefined : { op: f as 'put' | 'append', key, value };
  },
  output(input, { key, value }) {
    if (key !== input.key) return undefined;
    if (input.op === 'get') return { value };
    return value === input.value ? { value: null } : undefined;
  },
};

/**
 * Parses a Porcupine `kv` log into a history for a KV model. In these logs a
 * never-written key reads as `""`, so check them with `createKvModel({ initial: '' })`.
 * @param text - the whole log
 * @returns the operations, in invoke order; times are line numbers
 * @throws CivicError `E_LIN_HISTORY_MALFORMED` naming the first bad line
 */
export function parseKvHistory(text: string): Operation<KvInput, KvOutput>[] {
  return pairEvents(text, KV);
}
