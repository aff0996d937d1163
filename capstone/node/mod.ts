/**
 * The month 2 CivicTrust node: the signed task protocol, the node itself, and the
 * `node` command group. The capstone's CLI and demos import from here.
 * @module
 */
export { TASK_MSG_TYPE, MAX_SIGNED_FRAME_BYTES, taskPayload, signedTaskFrame, signTask, claimedRequestId, signedTaskGate } from './signed_task.ts';
export type { SignedTask } from './signed_task.ts';
export { SignedNode, nodeUrl } from './signed_node.ts';
export type { SignedNodeOptions, SignedNodeStats, AnswerCounts } from './signed_node.ts';
export { NODE_COMMANDS } from './node_commands.ts';
