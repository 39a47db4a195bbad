/**
 * The workflows the worker registers. Only workflow functions are exported here: every exported function
 * becomes a workflow type.
 */
export { videoAgentSession } from './session';
export { heygenGovernor } from './governor';
