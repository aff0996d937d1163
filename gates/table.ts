/**
 * The gate table: for each of the 24 weeks, what the demo must show, the failure drill
 * it must survive, the pass condition, and the numbered criteria a gate test proves.
 *
 * Pure data, no Node imports, so the docs site and the runner read the same rows. A
 * criterion id is `week.n` (`'10.2'`); gate tests carry it as a title prefix
 * (`it('[10.2] a torn WAL tail is cut …')`) and the runner matches on it.
 * @module
 */

/** One testable claim of a week's gate. */
export interface Criterion {
  /** `week.n`, e.g. `'1.3'`; the prefix `[1.3]` in a test title maps the test here. */
  readonly id: string;
  /** The claim, in the present tense, as a test would assert it. */
  readonly text: string;
}

/** One week's row of the gate table. */
export interface GateRow {
  /** Week number, 1-24. */
  readonly week: number;
  /** Arc (month) number, 1-6. */
  readonly arc: number;
  /** Short chapter title. */
  readonly title: string;
  /** One sentence on what the chapter is about. */
  readonly theme: string;
  /** What the weekly demo must show working. */
  readonly mustShow: string;
  /** The failure the gate injects on purpose. */
  readonly drill: string;
  /** The condition that must hold for the week to pass. */
  readonly passIf: string;
  /** The numbered claims the gate tests prove, ids `week.1`, `week.2`, … */
  readonly criteria: readonly Criterion[];
}

/** One arc: a month of four weeks with a shared goal. */
export interface Arc {
  /** Arc number, 1-6. */
  readonly arc: number;
  /** Short arc name. */
  readonly name: string;
  /** The month of the course the arc fills, 1-6. */
  readonly month: number;
  /** What the arc builds, in one sentence. */
  readonly theme: string;
  /** The four week numbers of the arc, in order. */
  readonly weeks: readonly number[];
}

/** The six arcs of the course, in order. */
export const ARCS: readonly Arc[] = [
  {
    arc: 1,
    name: 'Foundations',
    month: 1,
    theme: 'Byte-level groundwork: command contracts, stream framing and an event loop that never blocks',
    weeks: [1, 2, 3, 4],
  },
  {
    arc: 2,
    name: 'Hardening',
    month: 2,
    theme: 'Bounded concurrency and overload control, then the first cryptographic trust primitives',
    weeks: [5, 6, 7, 8],
  },
  {
    arc: 3,
    name: 'Distributed Core',
    month: 3,
    theme: 'State that outlives crashes: a write-ahead log, quorum replication, elections and safe retries',
    weeks: [9, 10, 11, 12],
  },
  {
    arc: 4,
    name: 'Trust Architecture',
    month: 4,
    theme: 'Evidence anyone can check: content addressing, Merkle proofs, a transparency log and its monitors',
    weeks: [13, 14, 15, 16],
  },
  {
    arc: 5,
    name: 'CivicTrust Capstone',
    month: 5,
    theme: 'One workflow from issuance through anchoring to offline verification, hardened against failure',
    weeks: [17, 18, 19, 20],
  },
  {
    arc: 6,
    name: 'Ship It',
    month: 6,
    theme: 'Turning the system into evidence others can follow: SLOs, a threat model, docs and a demo',
    weeks: [21, 22, 23, 24],
  },
];

/** Builds a row, numbering its claims `week.1`, `week.2`, … in the order given. */
function row(fields: Omit<GateRow, 'criteria'>, claims: readonly string[]): GateRow {
  const criteria = claims.map((text, i) => ({ id: `${fields.week}.${i + 1}`, text }));
  return { ...fields, criteria };
}

/** The 24 rows of the gate table, week 1 first; `GATE_TABLE[n - 1].week === n`. */
export const GATE_TABLE: readonly GateRow[] = [
  row(
    {
      week: 1,
      arc: 1,
      title: 'CLI contract and append-only logger',
      theme: 'Command contracts and deterministic behaviour, settled before any networking',
      mustShow: 'The CLI commands, the logger and the error catalog',
      drill: 'The log path cannot be written (permission denied)',
      passIf: 'Every exit code matches the CLI contract',
    },
    [
      'Every row of the 12-case argument matrix exits with the exit code and error code the contract names',
      'Failure drill: appending where the process may not write exits 5 with E_PATH_PERMISSION and leaves the existing log untouched',
      'Records appended by several processes at once are never interleaved or torn',
      'Record size is bounded before any I/O: empty rejected, max accepted, max+1 rejected',
      'Malformed input (bad flags, corrupt or torn log lines, invalid UTF-8) fails closed with a stable code',
      'Output is deterministic: CLI output matches golden files with the clock and ids injected',
      'Every code in the error catalog is produced by at least one test',
    ],
  ),
  row(
    {
      week: 2,
      arc: 1,
      title: 'Stream-safe framing over TCP',
      theme: 'From file correctness to network correctness: a TCP stream carries bytes, not messages',
      mustShow: 'An echo server speaking length-prefixed frames, with timeouts written to the log',
      drill: 'A client hangs up halfway through a frame',
      passIf: 'The server keeps running and names the failure with a clear error class',
    },
    [
      'A client that disconnects or is killed mid-frame leaves the server serving others and is logged with E_FRAME_TRUNCATED and a reason',
      'Frames split at arbitrary chunk boundaries decode to exactly the messages that were sent, and a length prefix above the maximum is rejected with E_FRAME_OVERSIZE from the header alone, before any payload buffer is allocated',
      'Startup failures exit with a stable code, SIGTERM lets frames in flight finish and exits 0, and idle or stalled connections are closed with the reason in the log',
      'The client retries with bounded full-jitter backoff only definite transport failures or idempotent requests, never a protocol error, and each request id appears in both the client and the server log',
    ],
  ),
  row(
    {
      week: 3,
      arc: 1,
      title: 'Multi-client event loop',
      theme: 'Serving many clients from one thread without ever blocking the loop',
      mustShow: 'Fifty or more concurrent clients on one event loop, bounded per-client buffers, connection churn and a soak run',
      drill: 'A slow reader whose outbound buffer keeps growing',
      passIf: 'No descriptor leaks, and the server stays stable while clients come and go',
    },
    [
      'Every connection runs an explicit state machine whose every state × event cell is tested, legal moves and refusals alike, and one process serves 300 concurrent clients through it, refusing one more with E_SERVER_BUSY',
      'Failure drill: a slow reader is paused at the low watermark and cut at its limit with reason slow_reader and E_SERVER_SLOW_READER, its queue never past the cap, while other clients are unaffected and the server\'s memory stays within stated bounds',
      'After 3000 connect and disconnect cycles the server\'s open descriptor count returns to its baseline and its registry is empty, and SIGTERM lets a frame in flight finish and exits 0',
      'The event loop never blocks: under 300 echoing clients the delay measured inside the server stays under 200 ms at p99, a blocking handler is caught, and a soak run keeps its error rate under 0.1 % with p50 and p95 latency recorded per interval',
    ],
  ),
  row(
    {
      week: 4,
      arc: 1,
      title: 'Readiness-driven I/O and an HTTP client',
      theme: 'Tying socket mechanics to a real protocol, traced from end to end',
      mustShow: 'Readiness-driven I/O, idle deadlines in a timing wheel, an incremental HTTP response parser and trace ids carried end to end',
      drill: 'An HTTP response whose header is malformed',
      passIf: 'The parser refuses it without harm and logs the reason',
    },
    [
      'A malformed response header is rejected with E_HTTP_BAD_HEADER (exit 8), however its bytes are split, and never crashes the client',
      'The rejection is logged with its reason and the trace id of the request',
      'Connect, read (idle) and total timeouts fire independently, each with its own code and a transient verdict',
      'One request shows the same correlation id in the client log and the server log',
    ],
  ),
  row(
    {
      week: 5,
      arc: 2,
      title: 'Bounded worker pool',
      theme: 'The event loop keeps the I/O; bounded CPU work moves to worker threads',
      mustShow: 'A bounded task queue, graceful shutdown and pool metrics',
      drill: 'The task queue is driven to saturation',
      passIf: 'Overload behaves deterministically and no accepted task goes missing',
    },
    [
      'Submitting to a full queue is refused at once with E_QUEUE_FULL (definite), and a saturated queue refuses the same number of tasks on every run',
      'Every task accepted before a graceful shutdown runs to completion, whether running or queued when intake stops; none is dropped',
      'A task that overruns its execution budget is cancelled with E_TASK_TIMEOUT and its thread replaced; the other threads keep serving, and tasks sent behind it run exactly once on a fresh thread',
    ],
  ),
  row(
    {
      week: 6,
      arc: 2,
      title: 'Backpressure and overload control',
      theme: 'Degrading on purpose instead of falling over',
      mustShow: 'Overload thresholds and defences against slow clients',
      drill: 'A Slowloris-style sender that trickles its bytes',
      passIf: 'Degradation follows the plan and memory never runs away',
    },
    [
      'Crossing the queue-depth threshold switches to explicit rejection, as the threshold table predicts',
      'A sender below the minimum progress rate is disconnected on schedule',
      'Memory stays under a fixed bound for the whole slow-sender drill',
      'A request past its deadline is dropped by whichever stage notices first',
    ],
  ),
  row(
    {
      week: 7,
      arc: 2,
      title: 'Hashing and integrity checks',
      theme: 'Tamper detection begins with digests over one canonical byte form',
      mustShow: 'A hash tool, a digest inside the protocol and a corruption drill',
      drill: 'One byte of a payload is altered',
      passIf: 'The alteration is caught and refused on every attempt',
    },
    [
      'Changing any single byte of a payload is detected and the message rejected with a stable code',
      'Inputs that differ only in field order or whitespace canonicalise to identical bytes and digests',
      'Hashing a large input as a stream matches the one-shot digest while memory stays bounded',
      'The integrity audit finds a stored file that was silently corrupted',
    ],
  ),
  row(
    {
      week: 8,
      arc: 2,
      title: 'Signatures and replay defence',
      theme: 'Identity and anti-replay as primitives every later week relies on',
      mustShow: 'A key policy, a signed envelope and the replay rules',
      drill: 'A request that was once valid is sent again',
      passIf: 'The repeat is refused and the refusal gives its reason',
    },
    [
      'A signed request sent again is rejected with E_REPLAY on every repeat',
      'A wrong key, an altered payload and altered metadata each fail with E_SIG_INVALID',
      'Unsigned and expired envelopes are rejected by default',
      'Every Ed25519 backend gives the same verdict on every case of the edge-case set',
    ],
  ),
  row(
    {
      week: 9,
      arc: 3,
      title: 'KV state machine',
      theme: 'Deterministic commands over versioned keys',
      mustShow: 'The KV command contract, per-key versions and signed commands',
      drill: 'A mutation arrives again with a request id already used',
      passIf: 'The duplicate is not applied a second time',
    },
    [
      'A mutation repeated under the same request id changes the state and the version once',
      'Every successful write raises the key version by exactly one',
      'A state-changing command without a valid signature is rejected',
      'A corrupted persisted record or snapshot is caught by its checksum and refused',
    ],
  ),
  row(
    {
      week: 10,
      arc: 3,
      title: 'WAL durability and crash recovery',
      theme: 'Append before apply, and recover to exactly what was committed',
      mustShow: 'The WAL record schema and a matrix of crash drills',
      drill: 'The process dies right after a WAL append',
      passIf: 'Committed writes survive and a damaged log tail is dealt with',
    },
    [
      'A write acknowledged before SIGKILL is present after restart',
      'A torn WAL tail is cut at the first bad record with E_WAL_TORN, quarantined, and earlier records kept; a corrupt record before the tail is refused with E_WAL_CORRUPT, nothing moved',
      'State changes only after its WAL append has succeeded',
    ],
  ),
  row(
    {
      week: 11,
      arc: 3,
      title: 'Quorum replication',
      theme: 'Shipping the log to followers and committing on a majority',
      mustShow: 'The append RPC, quorum commit and a partition policy',
      drill: 'A follower falls behind, then rejoins',
      passIf: 'Every node ends with the same state hash',
    },
    [
      'After a lagging follower rejoins and catches up, every node reports the same state hash',
      'A follower rejects an append whose previous index or term does not match its log',
      'An entry is applied only after a majority acknowledges it, so a minority side commits nothing',
    ],
  ),
  row(
    {
      week: 12,
      arc: 3,
      title: 'Leader election and idempotent retries',
      theme: 'Terms, votes and fencing, with client retries that never apply twice',
      mustShow: 'Leader election, idempotent retries and fencing of stale leaders',
      drill: 'The leader fails while a client write is in flight',
      passIf: 'No committed write is lost and no effect happens twice',
    },
    [
      'Every committed write survives a leader crash that happens during a client write',
      'A retry under the original request id returns the first response instead of executing again',
      'A request stamped with an old term is rejected, fencing the stale leader',
      'A node withholds its vote from a candidate whose log is behind its own',
    ],
  ),
  row(
    {
      week: 13,
      arc: 4,
      title: 'Content-addressed storage',
      theme: 'Objects named by the hash of their bytes, written atomically and audited',
      mustShow: 'The CAS object model, chunk manifests, garbage collection and an audit',
      drill: 'A CAS write is interrupted part-way',
      passIf: 'A half-written object is never seen as a valid one',
    },
    [
      'An interrupted write never leaves a readable object under its id',
      'Identical content gets the same id, and changing one byte gives a different id',
      'Reordering chunks changes the manifest hash and fails verification',
      'Garbage collection deletes only objects unreachable from the roots once the retention delay has passed',
    ],
  ),
  row(
    {
      week: 14,
      arc: 4,
      title: 'Merkle trees and inclusion proofs',
      theme: 'Proof algorithms over RFC 6962 hash trees',
      mustShow: 'Merkle construction rules, inclusion proofs, a verifier and its performance figures',
      drill: 'An inclusion proof that is malformed',
      passIf: 'The verifier fails closed on every bad input',
    },
    [
      'Truncated, extended, reordered or bit-flipped proofs are all rejected with one stable code',
      'Roots and proofs match the published RFC 6962 test vectors',
      'A proof checked against a stale root is reported as unverifiable',
      'Appending a leaf updates the tree without recomputing it from scratch',
    ],
  ),
  row(
    {
      week: 15,
      arc: 4,
      title: 'Transparency log and checkpoints',
      theme: 'Consistency proofs and signed checkpoints over an append-only log',
      mustShow: 'The log contract, inclusion and consistency proofs, and signed checkpoints',
      drill: 'A checkpoint that does not extend the one before it',
      passIf: 'A checkpoint chain with a break in it is rejected',
    },
    [
      'A new checkpoint lacking a valid consistency proof from the cached one is rejected',
      'Entries already in the log can be neither deleted nor rewritten in place',
      'Checkpoints are signed notes naming their key, and a tree size below the cached one is rejected',
    ],
  ),
  row(
    {
      week: 16,
      arc: 4,
      title: 'Monitors and anti-equivocation',
      theme: 'Watchers that gossip checkpoints and raise evidence of a split view',
      mustShow: 'A monitor, checkpoint gossip, equivocation detection and a runbook',
      drill: 'Two differing checkpoints for the same tree size',
      passIf: 'The conflict produces a signed incident and a critical alert',
    },
    [
      'Two validly signed checkpoints with equal size and different roots produce a signed incident',
      'The critical alert carries both conflicting checkpoints as cryptographic evidence',
      'The monitor keeps its observations in an append-only log',
    ],
  ),
  row(
    {
      week: 17,
      arc: 5,
      title: 'Issuing signed civic documents',
      theme: 'Credentials with an issuer, a validity window and a status entry',
      mustShow: 'The document schema, an issuer, verification and revocation',
      drill: 'An issuance request that breaks policy',
      passIf: 'The policy violation stops the signing and is logged',
    },
    [
      'A request that breaks policy is refused before anything is signed, and the refusal is logged',
      'A revoked document or issuer fails verification even though the signature is valid',
      'A document signed with the previous key still verifies inside the overlap window',
      'The hash of every signed document traces back to the request id that produced it',
    ],
  ),
  row(
    {
      week: 18,
      arc: 5,
      title: 'Anchoring in the transparency log',
      theme: 'A document becomes final only once the log hands back a receipt for it',
      mustShow: 'Anchoring, the receipt bundle and freshness rules',
      drill: 'Issuance succeeds but anchoring fails',
      passIf: 'The document stays non-final and says so explicitly',
    },
    [
      'When anchoring fails the document stays non-final with an explicit status, never a silent success',
      'The verifier tells not_anchored, tampered and stale apart',
      'A receipt older than the freshness window is rejected',
      'Any missing verification step yields unverified, never a soft pass',
    ],
  ),
  row(
    {
      week: 19,
      arc: 5,
      title: 'Offline verification package',
      theme: 'Verdicts from a bundle alone, with no network at all',
      mustShow: 'An offline bundle, an air-gapped verifier and batch verification',
      drill: 'A bundle lacking one of its proof artifacts',
      passIf: 'The verifier returns unverified with the same reason every time',
    },
    [
      'A bundle missing any single artifact yields unverified with reason incomplete_bundle, identically on every run',
      'Offline verification makes no network call',
      'The output is one machine-readable line plus an explanation block that names the time-policy mode',
      'A batch returns a verdict per document even when one of its bundles fails',
    ],
  ),
  row(
    {
      week: 20,
      arc: 5,
      title: 'Failure survival hardening',
      theme: 'Crash, partition and key-compromise drills run against the whole system',
      mustShow: 'A chaos matrix with crash, partition and key drills',
      drill: 'A network partition and a leader crash at the same time',
      passIf: 'No document is issued twice and the recovery is written down',
    },
    [
      'Under a partition combined with a leader crash, no document is issued twice',
      'A minority partition cannot produce a final anchored document',
      'Once the compromise cutoff passes, the old key can no longer sign a checkpoint that verifiers accept',
      'Every chaos drill states its degraded mode and recovery trigger, and the restored system proves continuity from the last valid checkpoint',
    ],
  ),
  row(
    {
      week: 21,
      arc: 6,
      title: 'Reliability and SLOs',
      theme: 'Service levels tied to outcomes a user can see',
      mustShow: 'SLIs and SLOs, metrics, a dashboard and alert rules',
      drill: 'An SLO breach is simulated',
      passIf: 'The breach is detected, raised as an alert and explained',
    },
    [
      'A synthetic breach fires the matching alert within its evaluation window',
      'The alert names the SLO, the measured value and the runbook step to take',
      'Metrics are exposed in Prometheus text format with no label of unbounded cardinality',
    ],
  ),
  row(
    {
      week: 22,
      arc: 6,
      title: 'Threat model and security story',
      theme: 'Trust boundaries, abuse cases and the controls that answer them',
      mustShow: 'A threat map, abuse cases and their controls',
      drill: 'A replay paired with a stale checkpoint',
      passIf: 'How the attack is detected and answered is written down step by step',
    },
    [
      'The combined replay and stale-checkpoint attack is detected, each half with its own code',
      'Each high-risk threat lists a preventive and a detective control, and each control links to a test',
      'No secret is hardcoded anywhere in the repository',
    ],
  ),
  row(
    {
      week: 23,
      arc: 6,
      title: 'Docs, demos and narratives',
      theme: 'Making the system easy for someone else to pick up and follow',
      mustShow: 'The architecture diagram, README, demo, stories and a portfolio index',
      drill: 'A teammate follows the quickstart and makes a mistake',
      passIf: 'The teammate recovers using the docs, without asking for help',
    },
    [
      'The quickstart runs from a clean checkout to one successful verification',
      'A common quickstart mistake produces an error that points to the doc section fixing it',
      'Every quoted code block equals its marked source region and every doc link resolves',
    ],
  ),
  row(
    {
      week: 24,
      arc: 6,
      title: 'Final demo and publication',
      theme: 'Rehearsed answers, drills and a demo that survives an outage',
      mustShow: 'Q&A, debug drills, a design walkthrough and a demo scorecard',
      drill: 'One component goes down during the live demo',
      passIf: 'The fallback keeps the trust story intact and the demo within its time',
    },
    [
      'With one component down, the scripted demo still finishes inside its time budget',
      'During the outage no document is reported as verified without its full evidence',
      'Each claim in the before/after capability table links to an artifact in the repository',
    ],
  ),
];

/**
 * Returns the gate row of one week.
 * @param week - week number, an integer in 1-24
 * @throws {@link RangeError} when `week` is not an integer in 1-24
 */
export function gateRow(week: number): GateRow {
  const found = Number.isInteger(week) ? GATE_TABLE[week - 1] : undefined;
  if (found === undefined) {
    throw new RangeError(`Cannot look up gate row: week ${week} is outside 1-${GATE_TABLE.length}`);
  }
  return found;
}
