/**
 * A linearizability checker for histories of concurrent operations, generic over a
 * sequential model of the object under test.
 *
 * A history is linearizable when every operation can be given one instant between its
 * call and its return such that, taken in that order, the operations are a legal run of
 * the model. The search is Wing & Gong's, with Lowe's memo cache (the algorithm behind
 * Porcupine), written for this course:
 *
 * ```text
 *   events, sorted by time (a call before a return at the same instant):
 *
 *   head ─▶ call a ─▶ call b ─▶ ret a ─▶ call c ─▶ ret b ─▶ ret c ─▶ null
 *
 *   walk the list from head:
 *   - at a call whose op is legal in the current state, and whose (linearized set, new
 *     state) pair was never seen: push it, unlink its call and return, restart at head;
 *   - at a call that is illegal or already explored: move on to the next event;
 *   - at a return: that op's linearization point is overdue, so pop the last choice,
 *     relink it, and try the event after it.
 *   The list empties: every op is linearized (ok). The stack empties at a return: no
 *   order works (illegal).
 * ```
 *
 * Operations whose outcome is unknown (a timed-out client) may take effect at any time
 * after their call, or never: they return "after every other event", where a late
 * effect is invisible to every other operation. Keys of a map are independent, so a
 * model may split a history into parts that are checked one by one — this and the
 * memo cache are what keep the search fast on real histories.
 *
 * The module is pure: no clock, so a budget is counted in search steps.
 * @module
 */

/** One operation of a history: who called it, with what, and when it was called and returned. */
export interface Operation<I, O> {
  /** The client (process) that issued the operation; informational only. */
  readonly client: number;
  /** What the client asked for. */
  readonly input: I;
  /** The time of the call, in any unit that orders the events of one history. */
  readonly call: number;
  /** What the operation returned; null when the outcome is unknown. */
  readonly output: O | null;
  /** The time of the return; `Number.POSITIVE_INFINITY` when the outcome is unknown. */
  readonly ret: number;
}

/** A sequential specification of the object under test. */
export interface Model<S, I, O> {
  /** The state before any operation. */
  readonly init: () => S;
  /** The next state when `input` returning `output` is legal in `state`, else undefined. output null = unknown outcome */
  readonly step: (state: S, input: I, output: O | null) => S | undefined;
  /**
   * Splits a history into independent parts (per key); default: one part. Parts must
   * hold the history's own operation objects (not copies), so results can name them; a
   * part may leave out operations that cannot change the verdict (reads of unknown outcome).
   */
  readonly partition?: (history: readonly Operation<I, O>[]) => Operation<I, O>[][];
  /** A string that identifies a state, for the memo cache. */
  readonly key: (state: S) => string;
}

/** What the checker found out, with the evidence needed to debug an `illegal` verdict. */
export interface CheckResult {
  /** `ok`: linearizable; `illegal`: no order works; `unknown`: the step budget ran out first. */
  readonly verdict: 'ok' | 'illegal' | 'unknown';
  /** How many independent parts the model split the history into. */
  readonly partitions: number;
  /** Search steps taken (events visited), over every part checked. */
  readonly explored: number;
  /** For `illegal`: the index of the first part with no linearization. */
  readonly partition?: number;
  /**
   * For `illegal`: the longest linearizable prefix found in that part, as indexes into
   * the history, in linearization order. The operation that could not follow it is
   * where to look.
   */
  readonly prefix?: readonly number[];
}

/** Options for {@link checkOperations}. */
export interface CheckOptions {
  /** Give up with verdict `unknown` after this many search steps over all parts (default: no limit). */
  readonly maxSteps?: number;
}

/**
 * The doubly-linked list of call and return events the search walks. Node 0 is the
 * head sentinel; nodes are unlinked in pairs (a call and its return) and relinked in the
 * reverse order, so each keeps the neighbours it had ("dancing links").
 */
interface EventList {
  readonly next: Int32Array;
  readonly prev: Int32Array;
  /** The operation of each node (index into the part). */
  readonly op: Int32Array;
  /** For a call node, its return node; -1 for a return node. */
  readonly match: Int32Array;
}

/**
 * Builds the event list of a part. Calls sort before returns at the same instant, so
 * operations that touch are treated as concurrent (the permissive reading). An unknown
 * outcome returns after every other event, whatever `ret` says.
 */
function buildEvents<I, O>(ops: readonly Operation<I, O>[]): EventList {
  const events: { time: number; isReturn: number; op: number }[] = [];
  ops.forEach((o, i) => {
    if (Number.isNaN(o.call) || Number.isNaN(o.ret) || o.call === Number.POSITIVE_INFINITY) {
      throw new RangeError(`operation ${i} has an invalid call time ${o.call} or return time ${o.ret}`);
    }
    const ret = o.output === null ? Number.POSITIVE_INFINITY : o.ret;
    if (ret < o.call) throw new RangeError(`operation ${i} returns at ${o.ret}, before its call at ${o.call}`);
    events.push({ time: o.call, isReturn: 0, op: i }, { time: ret, isReturn: 1, op: i });
  });
  events.sort((a, b) => (a.time === b.time ? a.isReturn - b.isReturn || a.op - b.op : a.time < b.time ? -1 : 1));
  const size = events.length + 1;
  const list: EventList = { next: new Int32Array(size), prev: new Int32Array(size), op: new Int32Array(size), match: new Int32Array(size).fill(-1) };
  const callNode = new Int32Array(ops.length);
  for (let n = 1; n < size; n++) {
    const e = events[n - 1] as (typeof events)[number];
    list.op[n] = e.op;
    list.prev[n] = n - 1;
    list.next[n - 1] = n;
    if (e.isReturn === 0) callNode[e.op] = n;
    else list.match[callNode[e.op] as number] = n;
  }
  list.next[size - 1] = -1;
  list.prev[0] = -1;
  return list;
}

/** Unlinks node `n`; it keeps its own links, so `relink` can put it back. */
function unlink(list: EventList, n: number): void {
  const p = list.prev[n] as number;
  const q = list.next[n] as number;
  list.next[p] = q;
  if (q !== -1) list.prev[q] = p;
}

/** Puts back a node `unlink` took out, while its neighbours are as they were then. */
function relink(list: EventList, n: number): void {
  const p = list.prev[n] as number;
  const q = list.next[n] as number;
  list.next[p] = n;
  if (q !== -1) list.prev[q] = n;
}

/** Unlinks a call node and its return node. */
function lift(list: EventList, call: number): void {
  unlink(list, call);
  unlink(list, list.match[call] as number);
}

/** Relinks what `lift` unlinked, in the reverse order. */
function unlift(list: EventList, call: number): void {
  relink(list, list.match[call] as number);
  relink(list, call);
}

/** A set of operation indexes as bits, with a compact string form for the memo cache. */
class OpSet {
  readonly #words: Uint16Array;

  /** @param size - the number of operations */
  constructor(size: number) {
    this.#words = new Uint16Array(Math.ceil(size / 16));
  }

  /** Adds or removes operation `i`. */
  flip(i: number): void {
    this.#words[i >>> 4] = (this.#words[i >>> 4] as number) ^ (1 << (i & 15));
  }

  /** The set as a string, one character per 16 operations. */
  key(): string {
    let s = '';
    // Chunked: String.fromCharCode takes its arguments on the stack.
    for (let i = 0; i < this.#words.length; i += 4096) s += String.fromCharCode(...this.#words.subarray(i, i + 4096));
    return s;
  }
}

/**
 * The memo cache: (linearized set, state) pairs already explored. States are interned to
 * small ids so an entry is a short string however large the state. A Set holds at most
 * 2^24 entries, so a full one spills into a fresh one.
 */
class MemoCache {
  readonly #states = new Map<string, number>();
  readonly #sets: Set<string>[] = [new Set()];

  /** Adds the pair and returns true, or returns false when it was already there. */
  add(linearized: string, stateKey: string): boolean {
    let id = this.#states.get(stateKey);
    if (id === undefined) {
      id = this.#states.size;
      this.#states.set(stateKey, id);
    }
    const key = `${String.fromCharCode(id & 0xffff, id >>> 16)}${linearized}`;
    if (this.#sets.some((set) => set.has(key))) return false;
    let last = this.#sets[this.#sets.length - 1] as Set<string>;
    if (last.size >= 1 << 24) this.#sets.push((last = new Set()));
    last.add(key);
    return true;
  }
}

/** The search of one part, resumable so that parts can take turns. */
class PartSearch<S, I, O> {
  readonly #model: Model<S, I, O>;
  readonly #ops: readonly Operation<I, O>[];
  readonly #list: EventList;
  readonly #linearized: OpSet;
  readonly #seen = new MemoCache();
  /** The linearized calls, in order, each with the state before it. */
  readonly #stack: { call: number; state: S }[] = [];
  #state: S;
  #node: number;
  /** The longest linearizable prefix met so far, as indexes into the part. */
  best: readonly number[] = [];
  /** Steps taken so far. */
  explored = 0;

  /**
   * @param model - the sequential specification
   * @param ops - the part's operations
   */
  constructor(model: Model<S, I, O>, ops: readonly Operation<I, O>[]) {
    this.#model = model;
    this.#ops = ops;
    this.#list = buildEvents(ops);
    this.#linearized = new OpSet(ops.length);
    this.#state = model.init();
    this.#node = this.#list.next[0] as number;
  }

  // #region lin-search
  /**
   * Searches on for at most `steps` steps.
   * @returns the verdict, or undefined when the steps ran out first
   */
  run(steps: number): 'ok' | 'illegal' | undefined {
    const list = this.#list;
    const stop = this.explored + steps;
    while (list.next[0] !== -1) {
      if (this.explored >= stop) return undefined;
      this.explored++;
      const node = this.#node;
      const op = list.op[node] as number;
      if (list.match[node] !== -1) {
        // A call: try to linearize its operation now, right after those on the stack.
        const o = this.#ops[op] as Operation<I, O>;
        const after = this.#model.step(this.#state, o.input, o.output);
        let fresh = false;
        if (after !== undefined) {
          this.#linearized.flip(op);
          fresh = this.#seen.add(this.#linearized.key(), this.#model.key(after));
          if (!fresh) this.#linearized.flip(op);
        }
        if (fresh) {
          this.#stack.push({ call: node, state: this.#state });
          this.#state = after as S;
          lift(list, node);
          if (this.#stack.length > this.best.length) this.best = this.#stack.map((s) => list.op[s.call] as number);
          this.#node = list.next[0] as number;
        } else {
          this.#node = list.next[node] as number;
        }
      } else {
        // A return: its operation had to be linearized by now. Undo the last choice
        // and try the event after it instead.
        const top = this.#stack.pop();
        if (top === undefined) return 'illegal';
        this.#state = top.state;
        this.#linearized.flip(list.op[top.call] as number);
        unlift(list, top.call);
        this.#node = list.next[top.call] as number;
      }
    }
    return 'ok';
  }
  // #endregion lin-search
}

/** Steps a part searches before the next part takes its turn. */
const SLICE = 4096;

/**
 * Checks whether a history is linearizable with respect to a model.
 *
 * The parts from `model.partition` take turns of a few thousand steps each, so one
 * hard part cannot delay finding that another is illegal; the first illegal part decides
 * the verdict. An operation with output null has an unknown outcome: it may take effect
 * at any time after its call, or never.
 * @param model - the sequential specification
 * @param history - the operations, in any order
 * @param options - `maxSteps`: the search budget over all parts
 * @returns the verdict, with the illegal part and its longest linearizable prefix
 * @throws RangeError when an operation's times are NaN or it returns before its call
 */
export function checkOperations<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], options: CheckOptions = {}): CheckResult {
  const parts = model.partition === undefined ? [history.slice()] : model.partition(history);
  const budget = options.maxSteps ?? Number.POSITIVE_INFINITY;
  let running = parts.map((ops, index) => ({ index, ops, search: new PartSearch(model, ops) }));
  let explored = 0;
  while (running.length > 0) {
    const still: typeof running = [];
    for (const part of running) {
      const before = part.search.explored;
      const verdict = part.search.run(Math.min(SLICE, budget - explored));
      explored += part.search.explored - before;
      if (verdict === 'illegal') {
        const indexOf = new Map<Operation<I, O>, number>(history.map((o, i) => [o, i]));
        const prefix = part.search.best.map((i) => indexOf.get(part.ops[i] as Operation<I, O>) ?? -1);
        return { verdict: 'illegal', partitions: parts.length, explored, partition: part.index, prefix };
      }
      if (verdict === undefined) still.push(part);
    }
    if (still.length > 0 && explored >= budget) return { verdict: 'unknown', partitions: parts.length, explored };
    running = still;
  }
  return { verdict: 'ok', partitions: parts.length, explored };
}

// ——— Models ———

/** An operation on a key-value map, as the simulator and the `kv` vectors record it. */
export interface KvInput {
  /** `get` reads, `put` replaces, `append` concatenates onto the current value. */
  readonly op: 'get' | 'put' | 'append';
  /** The key; keys are independent. */
  readonly key: string;
  /** The value written by `put` or `append`; absent for `get`. */
  readonly value?: string;
}

/** What a KV operation returned: for `get`, the value (null = absent); nothing meaningful otherwise. */
export interface KvOutput {
  /** The value a `get` read; null when the key is absent. Ignored for `put` and `append`. */
  readonly value: string | null;
}

/** Options for {@link createKvModel}. */
export interface KvModelOptions {
  /**
   * What a never-written key holds: null (absent, the default: CivicTrust's store tells
   * absent from empty) or `''` (the Porcupine `kv` vectors, where such a read returns "").
   */
  readonly initial?: string | null;
}

/** The state of one key in {@link createKvModel}: its value, or null when absent. */
export type KvState = string | null;

/**
 * Builds a model of a string-to-string map with get, put and append, partitioned per
 * key. A `get` of unknown outcome is left out of its part: it changes nothing.
 * @param options - what a never-written key holds
 */
export function createKvModel(options: KvModelOptions = {}): Model<KvState, KvInput, KvOutput> {
  const initial = options.initial ?? null;
  return {
    init: () => initial,
    step(state, input, output) {
      switch (input.op) {
        case 'get':
          return output === null || output.value === state ? state : undefined;
        case 'put':
          return input.value ?? '';
        case 'append':
          return (state ?? '') + (input.value ?? '');
      }
    },
    partition(history) {
      const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
      for (const o of history) {
        if (o.input.op === 'get' && o.output === null) continue;
        const part = byKey.get(o.input.key);
        if (part === undefined) byKey.set(o.input.key, [o]);
        else part.push(o);
      }
      return [...byKey.values()];
    },
    key: (state) => (state === null ? '\u0000' : `=${state}`),
  };
}

/** The KV model CivicTrust's own histories are checked with: a never-written key is absent (null). */
export const kvModel: Model<KvState, KvInput, KvOutput> = createKvModel();

/** Reads the register. */
export interface RegisterRead {
  /** The operation's name. */
  readonly f: 'read';
}

/** Replaces the register's value. */
export interface RegisterWrite {
  /** The operation's name. */
  readonly f: 'write';
  /** The value written. */
  readonly value: number;
}

/** Replaces `from` by `to`, only if the register holds `from`. */
export interface RegisterCas {
  /** The operation's name. */
  readonly f: 'cas';
  /** The value the register must hold. */
  readonly from: number;
  /** The value it then holds. */
  readonly to: number;
}

/** An operation on a compare-and-set register (Jepsen's etcd test). */
export type RegisterInput = RegisterRead | RegisterWrite | RegisterCas;

/** What a register operation returned. A cas that failed is not an operation at all: it definitely did not happen. */
export interface RegisterOutput {
  /** The value a read returned (null = absent); null for a write or a successful cas. */
  readonly value: number | null;
}

/**
 * Jepsen's etcd compare-and-set register, initially absent. A successful cas needs the
 * register to hold `from`; a cas of unknown outcome either did that or failed, and a
 * failure changes nothing. Reads of unknown outcome are left out.
 */
export const registerModel: Model<number | null, RegisterInput, RegisterOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        return output === null || output.value === state ? state : undefined;
      case 'write':
        return input.value;
      case 'cas':
        if (state === input.from) return input.to;
        return output === null ? state : undefined;
    }
  },
  partition: (history) => [history.filter((o) => !(o.input.f === 'read' && o.output === null))],
  key: (state) => (state === null ? 'nil' : String(state)),
};
