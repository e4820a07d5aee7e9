/**
 * In-place deployments' fleet (issue #12): host commands, the agent-facing command operations, and each
 * host's lifecycle driven by its command completions, with CodeDeploy's scheduler deciding which host starts
 * next. docs/adr/0016-host-commands-and-fleet-progress.md.
 */
export * from './fleet.js';
export * from './identity.js';
export * from './lifecycle.js';
export * from './notices.js';
export * from './protocol.js';
export * from './specification.js';
export * from './traffic-events.js';
export * from './wakeups.js';
