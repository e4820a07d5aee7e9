/**
 * The contract between the Cutover agent and the engine (docs/adr/0015): CodeDeploy's host command
 * API (`CodeDeployCommandService_v20141006`, AWS JSON 1.1), its shapes, the deployment
 * specification the agent reads, and the agent's error codes. Both sides import this file, so the
 * names are written once. Pure: types, constants and small functions, no I/O.
 */

/** `X-Amz-Target: CodeDeployCommandService_v20141006.<Operation>` (the agent's vendored API model). */
export const COMMAND_TARGET_PREFIX = 'CodeDeployCommandService_v20141006.';
export const COMMAND_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The five operations the agent calls, in the order of a command's life. */
export const COMMAND_OPERATIONS = [
  'PollHostCommand',
  'GetDeploymentSpecification',
  'PutHostCommandAcknowledgement',
  'PostHostCommandUpdate',
  'PutHostCommandComplete',
] as const;
export type CommandOperation = (typeof COMMAND_OPERATIONS)[number];

/** `DeploymentCommandStatus`. */
export type CommandStatus = 'Pending' | 'InProgress' | 'Succeeded' | 'Failed';

/** `Envelope`: Format ≤ 64 characters, Payload ≤ 8192 characters. */
export interface Envelope {
  Format: string;
  Payload: string;
}
export const MAX_ENVELOPE_PAYLOAD = 8192;

/** `HostCommandInstance`: one lifecycle event for one host. */
export interface HostCommand {
  HostCommandIdentifier: string;
  HostIdentifier: string;
  /** `^[^/]+/[^/]+/[^/]+/.+$`, 1–129 characters (opaque to the agent). */
  DeploymentExecutionId: string;
  /** A lifecycle event name: DownloadBundle, Install, or a scriptable event. */
  CommandName: string;
  Nonce?: number;
}

export interface PollHostCommandInput {
  HostIdentifier: string;
}
export interface PollHostCommandOutput {
  HostCommand?: HostCommand | null;
  /**
   * Cutover's extension: the poll answers at once (no long poll) and says when to poll next. The
   * agent bounds it (MIN/MAX_NEXT_POLL_SECONDS) and uses its own interval when it is absent.
   */
  NextPollInSeconds?: number;
}
export const MIN_NEXT_POLL_SECONDS = 0.2;
export const MAX_NEXT_POLL_SECONDS = 300;

export interface GetDeploymentSpecificationInput {
  DeploymentExecutionId: string;
  HostIdentifier: string;
}
export interface GetDeploymentSpecificationOutput {
  /** Must be `CodeDeploy`. */
  DeploymentSystem?: string;
  DeploymentSpecification?: { GenericEnvelope?: Envelope; VariantId?: string; VariantEnvelope?: Envelope };
}
export const DEPLOYMENT_SYSTEM = 'CodeDeploy';
/** The envelope format Cutover's engine sends (AWS's service signs `PKCS7/JSON`; codedeploy-local sends this). */
export const SPEC_FORMAT = 'TEXT/JSON';

export interface PutHostCommandAcknowledgementInput {
  HostCommandIdentifier: string;
  /** `{Format: 'JSON', Payload: '{"IsCommandNoop":true|false}'}`. */
  Diagnostics?: Envelope;
}
export interface PutHostCommandAcknowledgementOutput {
  /** Succeeded or Failed: the command is over already (the agent does not run it). */
  CommandStatus?: CommandStatus;
}

export interface PostHostCommandUpdateInput {
  HostCommandIdentifier: string;
  /** Epoch seconds (JSON 1.1 timestamp): when the running event ends at the latest (its scripts' timeouts). */
  EstimatedCompletionTime?: number;
  /** Progress so far, as a JSON `AgentDiagnostics` with error_code 0 and message `InProgress: …`. */
  Diagnostics?: Envelope;
}
export interface PostHostCommandUpdateOutput {
  CommandStatus?: CommandStatus;
}

export interface PutHostCommandCompleteInput {
  HostCommandIdentifier: string;
  CommandStatus: 'Succeeded' | 'Failed';
  /** `{Format: 'JSON', Payload: JSON.stringify(AgentDiagnostics)}`. */
  Diagnostics?: Envelope;
}

/** The agent's error codes (hook_executor.rb, command_poller.rb), by their constant names. */
export const AGENT_ERROR_CODES = {
  Succeeded: 0,
  ScriptMissing: 1,
  ScriptNotExecutable: 2,
  ScriptTimedOut: 3,
  ScriptFailed: 4,
  UnknownError: 5,
  OutputsLeftOpen: 6,
  FailedAfterRestart: 7,
} as const;
export type AgentErrorName = keyof typeof AGENT_ERROR_CODES;
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[AgentErrorName];

/** The completion diagnostics payload, exactly as CodeDeploy's agent writes it. */
export interface AgentDiagnostics {
  error_code: AgentErrorCode;
  script_name: string;
  message: string;
  /** The tail of the event's script output (`[stdout]…` / `[stderr]…` lines), at most LOG_TAIL_CHARS. */
  log: string;
}
/** How much of an event's script output the diagnostics carry (the API's logTail is "up to 4 KB"). */
export const LOG_TAIL_CHARS = 4096;

/** The API's `LifecycleErrorCode` for an agent code (6 and 7 have no name of their own there). */
export function lifecycleErrorCode(
  code: number,
): 'Success' | 'ScriptMissing' | 'ScriptNotExecutable' | 'ScriptTimedOut' | 'ScriptFailed' | 'UnknownError' {
  switch (code) {
    case 0:
      return 'Success';
    case 1:
      return 'ScriptMissing';
    case 2:
      return 'ScriptNotExecutable';
    case 3:
      return 'ScriptTimedOut';
    case 4:
    case 6:
      return 'ScriptFailed';
    default:
      return 'UnknownError';
  }
}

/** Read a completion's Diagnostics envelope into InstanceTarget `diagnostics` (the engine's side). */
export function diagnosticsOf(envelope: Envelope | undefined):
  | {
      errorCode: ReturnType<typeof lifecycleErrorCode>;
      agentErrorCode: number;
      scriptName: string;
      message: string;
      logTail: string;
    }
  | undefined {
  if (!envelope || envelope.Format !== 'JSON') return undefined;
  let p: unknown;
  try {
    p = JSON.parse(envelope.Payload);
  } catch {
    return undefined;
  }
  if (typeof p !== 'object' || p === null) return undefined;
  const d = p as Partial<Record<keyof AgentDiagnostics, unknown>>;
  const code = typeof d.error_code === 'number' ? d.error_code : 5;
  return {
    errorCode: lifecycleErrorCode(code),
    agentErrorCode: code,
    scriptName: typeof d.script_name === 'string' ? d.script_name : '',
    message: typeof d.message === 'string' ? d.message : '',
    logTail: typeof d.log === 'string' ? d.log : '',
  };
}

/**
 * The deployment specification (GenericEnvelope Payload, TEXT/JSON), as CodeDeploy's service
 * writes it for its agent (deployment_specification.rb). `Size` is Cutover's extension.
 */
export interface DeploymentSpecificationDocument {
  /** A deployment id, or a deployment ARN (`arn:…:deployment/<id>`). */
  DeploymentId: string;
  DeploymentGroupId: string;
  DeploymentGroupName: string;
  ApplicationName: string;
  /** `user` (default), `autoscaling`, `codeDeployRollback`, … */
  DeploymentCreator?: string;
  /** `IN_PLACE` (default) or `BLUE_GREEN`. */
  DeploymentType?: string;
  /** The AppSpec's name in the bundle (default appspec.yml; appspec.yaml is tried first when it is absent). */
  AppSpecFilename?: string;
  Revision: {
    RevisionType: 'S3' | 'GitHub' | 'Local File' | 'Local Directory';
    S3Revision?: {
      Bucket: string;
      Key: string;
      BundleType: 'tar' | 'tgz' | 'zip';
      Version?: string;
      ETag?: string;
      /** Cutover: the object's size in bytes; when given, the download must be exactly this long. */
      Size?: number;
    };
    GitHubRevision?: { Account: string; Repository: string; CommitId: string; BundleType?: string };
    LocalRevision?: { Location: string; BundleType: 'tar' | 'tgz' | 'zip' | 'directory' };
  };
  AgentActionOverrides?: { AgentOverrides?: { FileExistsBehavior?: string } };
  AllPossibleLifecycleEvents?: string[];
}
