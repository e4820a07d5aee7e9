/**
 * The agent's configuration: flags, else `CUTOVER_AGENT_*` environment variables, else defaults.
 * Nothing is read from files. Every problem is reported at once.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_REVISIONS } from './retention.js';

export const DEFAULT_ROOT = '/opt/cutover-agent/deployment-root';

export const AGENT_HELP = `Usage: cutover agent --endpoint URL [options]
       node cutover-agent.mjs --endpoint URL [options]

The Cutover agent: runs on each EC2 instance or on-premises server of a Server deployment group. It
polls the Cutover engine for host commands (CodeDeploy's PollHostCommand API), downloads the
revision from S3, installs its files and runs its AppSpec hooks with CodeDeploy's semantics and
on-disk layout, and reports each lifecycle event back, with a heartbeat while scripts run.

Options (each also an environment variable; a flag wins over its variable):
  --endpoint URL            CUTOVER_AGENT_ENDPOINT        The engine's API: the Cutover API Gateway URL
                                                          on AWS, http://127.0.0.1:4980 locally. Required.
  --root DIR                CUTOVER_AGENT_ROOT            Root directory for revisions, instructions, logs
                                                          (default ${DEFAULT_ROOT})
  --host-id ID              CUTOVER_AGENT_HOST_ID         This host's HostIdentifier. Default on EC2: the
                                                          instance's ARN from IMDSv2. On-premises: the
                                                          instance name it is registered with. On AWS the
                                                          engine trusts the request's SigV4 signature, not
                                                          this value.
  --poll-seconds N          CUTOVER_AGENT_POLL_SECONDS    Seconds between polls when the engine does not
                                                          say (NextPollInSeconds) (default 10)
  --max-poll-seconds N      CUTOVER_AGENT_MAX_POLL_SECONDS  Never wait longer than this between polls, whatever
                                                          the engine says (default: as the engine says, up
                                                          to 300; local hosts use 0.5 to start at once)
  --destination-root DIR    CUTOVER_AGENT_DESTINATION_ROOT  Install the AppSpec's absolute destinations (and
                                                          permissions objects) under DIR: /srv/app goes to
                                                          DIR/srv/app. Scripts get CUTOVER_DESTINATION_ROOT=DIR.
                                                          For several agents on one machine (cutover server's
                                                          local hosts); default none (destinations as written)
  --heartbeat-seconds N     CUTOVER_AGENT_HEARTBEAT_SECONDS  Seconds between PostHostCommandUpdate calls while
                                                          an event runs (default 20)
  --region REGION           CUTOVER_AGENT_REGION          Region to sign for and of S3 (default AWS_REGION,
                                                          else the endpoint's, else IMDS's)
  --s3-endpoint URL         CUTOVER_AGENT_S3_ENDPOINT     S3 endpoint, path-style (default AWS's; locally
                                                          the local S3, e.g. http://127.0.0.1:4981)
  --max-revisions N         CUTOVER_AGENT_MAX_REVISIONS   Deployment directories kept per deployment group
                                                          (CodeDeploy's max_revisions, default ${DEFAULT_MAX_REVISIONS})
  --max-bundle-mb N         CUTOVER_AGENT_MAX_BUNDLE_MB   Largest revision downloaded (default 2048)
  --max-unpacked-mb N       CUTOVER_AGENT_MAX_UNPACKED_MB Largest unpacked revision (default 8192)
  --download-timeout-seconds N  CUTOVER_AGENT_DOWNLOAD_TIMEOUT_SECONDS  Longest download (default 900)
  --max-concurrent N        CUTOVER_AGENT_MAX_CONCURRENT  Commands run at once, across deployment groups
                                                          (default 16, as CodeDeploy's agent)
  --sign auto|always|never  CUTOVER_AGENT_SIGN            SigV4-sign the engine calls (auto: unless the
                                                          endpoint is on loopback) (default auto)
  --s3-sign auto|always|never  CUTOVER_AGENT_S3_SIGN     SigV4-sign the S3 downloads (default: as --sign;
                                                          cutover server's local S3 takes unsigned ones)
  --pass-credentials        CUTOVER_AGENT_PASS_CREDENTIALS=true  Let scripts inherit the agent's AWS credential
                                                          variables (AWS_ACCESS_KEY_ID, …). By default they
                                                          are removed from the scripts' environment.
  --imds-endpoint URL       CUTOVER_AGENT_IMDS_ENDPOINT   Instance metadata endpoint (default
                                                          http://169.254.169.254)
  --verbose                 CUTOVER_AGENT_VERBOSE=true    Log debug lines
  -h, --help                                              This help

Credentials: the standard AWS chain (the instance role on EC2; on-premises AWS_PROFILE and
AWS_SHARED_CREDENTIALS_FILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN).
Scripts run in the agent's working directory with CodeDeploy's variables (LIFECYCLE_EVENT,
DEPLOYMENT_ID, APPLICATION_NAME, DEPLOYMENT_GROUP_NAME, DEPLOYMENT_GROUP_ID, BUNDLE_BUCKET,
BUNDLE_KEY, BUNDLE_VERSION, BUNDLE_ETAG). runas needs the agent to run as root.
SIGTERM or Ctrl-C: stop polling and wait for running events to end; a second one exits at once
(events it interrupts are reported Failed, "failed after restart", at the next start).`;

export interface AgentConfig {
  endpoint: string;
  root: string;
  hostId?: string;
  pollSeconds: number;
  /** The longest wait between polls, whatever the engine says (NextPollInSeconds). */
  maxPollSeconds?: number;
  /** Absolute destinations of the AppSpec are installed under this directory (several agents on one machine). */
  destinationRoot?: string;
  heartbeatSeconds: number;
  region?: string;
  s3Endpoint?: string;
  maxRevisions: number;
  maxBundleBytes: number;
  maxUnpackedBytes: number;
  downloadTimeoutSeconds: number;
  maxConcurrent: number;
  sign: 'auto' | 'always' | 'never';
  /** Signing of S3 downloads (default: as `sign`). */
  s3Sign?: 'auto' | 'always' | 'never';
  passCredentials: boolean;
  imdsEndpoint?: string;
  verbose: boolean;
}

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

const OPTIONS = {
  endpoint: { type: 'string' },
  root: { type: 'string' },
  'host-id': { type: 'string' },
  'poll-seconds': { type: 'string' },
  'heartbeat-seconds': { type: 'string' },
  'max-poll-seconds': { type: 'string' },
  'destination-root': { type: 'string' },
  region: { type: 'string' },
  's3-endpoint': { type: 'string' },
  'max-revisions': { type: 'string' },
  'max-bundle-mb': { type: 'string' },
  'max-unpacked-mb': { type: 'string' },
  'download-timeout-seconds': { type: 'string' },
  'max-concurrent': { type: 'string' },
  sign: { type: 'string' },
  's3-sign': { type: 'string' },
  'pass-credentials': { type: 'boolean' },
  'imds-endpoint': { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const envName = (flag: string) => `CUTOVER_AGENT_${flag.toUpperCase().replace(/-/g, '_')}`;

/** The configuration, or `'help'`. Throws AgentConfigError listing every problem. */
export function parseAgentConfig(argv: string[], env: Record<string, string | undefined>): AgentConfig | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw new AgentConfigError([(e as Error).message]);
  }
  if (values.help) return 'help';
  const problems: string[] = [];
  const get = (flag: string): string | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return v;
    const e = env[envName(flag)];
    return e === undefined || e === '' ? undefined : e;
  };
  const bool = (flag: string): boolean => {
    if (values[flag] === true) return true;
    const e = env[envName(flag)];
    if (e === undefined || e === '') return false;
    if (/^(true|1|yes)$/i.test(e)) return true;
    if (/^(false|0|no)$/i.test(e)) return false;
    problems.push(`${envName(flag)}: true or false, got ${JSON.stringify(e)}`);
    return false;
  };
  const number = (flag: string, fallback: number, min: number, max: number, integer: boolean): number => {
    const raw = get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
      problems.push(
        `--${flag} (${envName(flag)}): ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(raw)}`,
      );
      return fallback;
    }
    return n;
  };
  const url = (flag: string): string | undefined => {
    const raw = get(flag);
    if (raw === undefined) return undefined;
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
      return raw;
    } catch {
      problems.push(`--${flag} (${envName(flag)}): an http(s) URL, got ${JSON.stringify(raw)}`);
      return undefined;
    }
  };

  const endpoint = url('endpoint');
  if (get('endpoint') === undefined)
    problems.push(
      '--endpoint (CUTOVER_AGENT_ENDPOINT) is required: the Cutover API to poll, e.g. http://127.0.0.1:4980',
    );
  const root = get('root') ?? DEFAULT_ROOT;
  if (!root.startsWith('/'))
    problems.push(`--root (CUTOVER_AGENT_ROOT): an absolute directory, got ${JSON.stringify(root)}`);
  const hostId = get('host-id');
  if (hostId !== undefined && !/^\S{1,512}$/.test(hostId))
    problems.push(
      `--host-id (CUTOVER_AGENT_HOST_ID): 1 to 512 characters without spaces, got ${JSON.stringify(hostId)}`,
    );
  const destinationRoot = get('destination-root');
  if (destinationRoot !== undefined && (!destinationRoot.startsWith('/') || destinationRoot === '/'))
    problems.push(
      `--destination-root (CUTOVER_AGENT_DESTINATION_ROOT): an absolute directory other than /, got ${JSON.stringify(destinationRoot)}`,
    );
  const sign = get('sign') ?? 'auto';
  if (!['auto', 'always', 'never'].includes(sign))
    problems.push(`--sign (CUTOVER_AGENT_SIGN): auto, always or never, got ${JSON.stringify(sign)}`);
  const s3Sign = get('s3-sign');
  if (s3Sign !== undefined && !['auto', 'always', 'never'].includes(s3Sign))
    problems.push(`--s3-sign (CUTOVER_AGENT_S3_SIGN): auto, always or never, got ${JSON.stringify(s3Sign)}`);
  const config: AgentConfig = {
    endpoint: endpoint ?? '',
    root,
    ...(hostId !== undefined ? { hostId } : {}),
    pollSeconds: number('poll-seconds', 10, 0.2, 3600, false),
    ...(get('max-poll-seconds') !== undefined
      ? { maxPollSeconds: number('max-poll-seconds', 300, 0.2, 300, false) }
      : {}),
    ...(destinationRoot !== undefined ? { destinationRoot } : {}),
    heartbeatSeconds: number('heartbeat-seconds', 20, 1, 600, false),
    ...((get('region') ?? env.AWS_REGION) ? { region: get('region') ?? env.AWS_REGION } : {}),
    ...(url('s3-endpoint') ? { s3Endpoint: url('s3-endpoint') } : {}),
    maxRevisions: number('max-revisions', DEFAULT_MAX_REVISIONS, 1, 1000, true),
    maxBundleBytes: number('max-bundle-mb', 2048, 1, 1024 * 1024, false) * 1024 * 1024,
    maxUnpackedBytes: number('max-unpacked-mb', 8192, 1, 4 * 1024 * 1024, false) * 1024 * 1024,
    downloadTimeoutSeconds: number('download-timeout-seconds', 900, 10, 86_400, false),
    maxConcurrent: number('max-concurrent', 16, 1, 64, true),
    sign: sign as AgentConfig['sign'],
    ...(s3Sign !== undefined ? { s3Sign: s3Sign as AgentConfig['sign'] } : {}),
    passCredentials: bool('pass-credentials'),
    ...(url('imds-endpoint') ? { imdsEndpoint: url('imds-endpoint') } : {}),
    verbose: bool('verbose'),
  };
  if (problems.length > 0) throw new AgentConfigError([...new Set(problems)]);
  return config;
}

/** The agent's own AWS credentials (and where they come from): kept out of scripts unless configured. */
export const CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CREDENTIAL_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
];

/** The environment scripts start from: the agent's, without its credentials (unless passed) and its own settings. */
export function scriptBaseEnv(
  env: Record<string, string | undefined>,
  passCredentials: boolean,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (!passCredentials && CREDENTIAL_VARIABLES.includes(k)) continue;
    if (k.startsWith('CUTOVER_AGENT_')) continue;
    out[k] = v;
  }
  return out;
}
