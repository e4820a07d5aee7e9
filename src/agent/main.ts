/**
 * The Cutover agent's entry point: `cutover agent …`, or `node dist/cutover-agent.mjs …` (this file
 * bundled by `npm run build:agent`, runnable with nothing but Node ≥ 20). The agent's composition
 * root: the only file of src/agent that reads the environment.
 *
 * Exit codes: 0 stopped by a signal · 2 bad configuration · 3 could not start.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultCredentials, regionOf } from '../adapters/aws/sigv4.js';
import { DEFAULT_UNPACK_LIMITS } from './archive.js';
import { Agent } from './agent.js';
import { AGENT_HELP, AgentConfigError, parseAgentConfig, scriptBaseEnv, type AgentConfig } from './config.js';
import { CommandExecutor } from './executor.js';
import { IMDS_ENDPOINT, instanceIdentity } from './identity.js';
import { Layout } from './layout.js';
import { streamLog, type AgentLog } from './log.js';
import { CommandClient } from './protocol.js';
import { CommandTracker } from './tracker.js';

export interface AgentProcess {
  /** Resolves when the agent has stopped. */
  done: Promise<void>;
  stop(): void;
}

/** Build the agent from its configuration and start it. */
export async function startAgent(
  config: AgentConfig,
  env: Record<string, string | undefined>,
  log: AgentLog,
): Promise<AgentProcess> {
  let hostId = config.hostId;
  let region = config.region;
  if (hostId === undefined) {
    const identity = await instanceIdentity(config.imdsEndpoint ?? IMDS_ENDPOINT);
    hostId = identity.hostIdentifier;
    region ??= identity.region;
    log.info(`host identity from IMDSv2: ${hostId}`);
  }
  const endpointHost = new URL(config.endpoint).hostname;
  region ??= /\.execute-api\.[a-z0-9-]+\.amazonaws\.com$/.test(endpointHost)
    ? regionOf(endpointHost, undefined)
    : undefined;
  const credentials = defaultCredentials();
  const client = new CommandClient({
    endpoint: config.endpoint,
    sign: config.sign,
    ...(region ? { region } : {}),
    credentials,
  });
  const layout = new Layout(config.root);
  const executor = new CommandExecutor({
    layout,
    log,
    maxRevisions: config.maxRevisions,
    s3: {
      region: region ?? 'us-east-1',
      ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
      // A local S3 (an endpoint on loopback) has no IAM; AWS's always needs a signature.
      ...(s3Signs(config) ? { credentials } : {}),
      maxBytes: config.maxBundleBytes,
      timeoutMs: config.downloadTimeoutSeconds * 1000,
      idleTimeoutMs: 60_000,
    },
    unpack: { ...DEFAULT_UNPACK_LIMITS, maxBytes: config.maxUnpackedBytes },
    baseEnv: {
      ...scriptBaseEnv(env, config.passCredentials),
      ...(config.destinationRoot ? { CUTOVER_DESTINATION_ROOT: config.destinationRoot } : {}),
    },
    ...(config.destinationRoot ? { destinationRoot: config.destinationRoot } : {}),
    uid: process.getuid?.() ?? -1,
    cwd: process.cwd(),
    killGraceMs: 5000,
  });
  const agent = new Agent({
    hostId,
    client,
    executor,
    tracker: new CommandTracker(layout),
    log,
    pollSeconds: config.pollSeconds,
    ...(config.maxPollSeconds !== undefined ? { maxPollSeconds: config.maxPollSeconds } : {}),
    heartbeatSeconds: config.heartbeatSeconds,
    maxConcurrent: config.maxConcurrent,
  });
  log.info(
    `Cutover agent ${hostId}: polling ${config.endpoint} every ${config.pollSeconds} s (or as the engine says), root ${config.root}${config.destinationRoot ? `, destinations under ${config.destinationRoot}` : ''}`,
  );
  const abort = new AbortController();
  return { done: agent.run(abort.signal), stop: () => abort.abort() };
}

/**
 * Whether S3 downloads are signed: as `--s3-sign` says (auto: unless the S3 endpoint is on loopback); without
 * it, always, except a local S3 (an endpoint on loopback has no IAM) unless `--sign always`.
 */
function s3Signs(config: AgentConfig): boolean {
  const loopback =
    config.s3Endpoint !== undefined && /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(config.s3Endpoint);
  if (config.s3Sign === undefined) return !loopback || config.sign === 'always';
  return config.s3Sign === 'always' || (config.s3Sign === 'auto' && !loopback);
}

/** `cutover agent ARGS`: returns the exit code. */
export async function runAgent(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  write: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let config: AgentConfig | 'help';
  try {
    config = parseAgentConfig(argv, env);
  } catch (e) {
    if (!(e instanceof AgentConfigError)) throw e;
    write(`cutover agent: ${e.problems.join('\n  ')}\n\nRun 'cutover agent --help' for the options.\n`);
    return 2;
  }
  if (config === 'help') {
    process.stdout.write(`${AGENT_HELP}\n`);
    return 0;
  }
  if (process.platform === 'win32') {
    write('cutover agent: the Cutover agent does not run on Windows yet (it runs os: linux AppSpecs)\n');
    return 3;
  }
  const log = streamLog(write, config.verbose);
  let agent: AgentProcess;
  try {
    agent = await startAgent(config, env, log);
  } catch (e) {
    log.error(`cannot start: ${(e as Error).message}`);
    return 3;
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn(`${signal} again: exiting now; running events will be reported failed after restart`);
      process.exit(130);
    }
    log.info(`${signal}: no new commands; waiting for running events to end (${signal} again exits at once)`);
    agent.stop();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await agent.done;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  log.info('stopped');
  return 0;
}

/** Run when this file is the program (the bundle, or `node --import tsx src/agent/main.ts`). */
function isMain(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.exitCode = await runAgent(process.argv.slice(2));
}
