/**
 * Ports: the only way tasks reach the outside world. Each has an AWS adapter (src/adapters/aws)
 * and a simulated one (src/adapters/sim); src/wiring picks the family.
 *
 * Error contract for every port: throttling and 5xx (after the SDK's retries) surface as
 * DependencyUnavailableError (Step Functions retries it); AWS refusals (AccessDenied,
 * ResourceNotFound, validation) as DependencyRejectedError carrying AWS's message.
 */
import type { BundleType } from '../domain/bundle.js';
import type { AlarmReading } from '../domain/alarms.js';
import type { ErrorName } from '../domain/errors.js';
import type { EventBridgeEntry, SnsMessage } from '../domain/notifications.js';

export type * from './store.js';
export type * from './host-commands.js';

/** CloudWatch alarm states. */
export interface AlarmSource {
  /** Current state of the named alarms; alarms that do not exist are absent from the result. */
  describe(names: string[]): Promise<AlarmReading[]>;
}

/** The payload a lifecycle hook receives: CodeDeploy's two keys plus Cutover's context. */
export interface HookPayload {
  DeploymentId: string;
  LifecycleEventHookExecutionId: string;
  [extra: string]: unknown;
}

/** What a hook invocation carries from its deployment group. */
export interface HookInvocationOptions {
  /** Signs webhook requests (HMAC-SHA256), read from the Secrets port; a webhook without one is refused. */
  webhookSecret?: string;
  /** Hosts (normalized: lower case, IPv6 in brackets) whose private addresses webhooks may reach. */
  webhookAllowedHosts?: readonly string[];
}

/** Invokes lifecycle hooks: Lambda functions (by name or ARN) or webhooks (http/https URLs). */
export interface HookInvoker {
  /**
   * Run the hook and resolve with what it answered (its return value or a webhook's 2xx JSON
   * body), or undefined. Rejects with DependencyRejectedError when the hook fails or may not be run
   * (a function the stack may not invoke; a webhook URL or resolved address the policy refuses;
   * a redirect; a non-2xx answer, named by its status code only), DependencyUnavailableError when
   * it cannot be reached now (throttling, 5xx, 429, connection failures: retried).
   */
  invoke(target: string, payload: HookPayload, options?: HookInvocationOptions): Promise<unknown>;
}

/**
 * Where secrets live (a deployment group's webhook signing secret): SSM Parameter Store SecureStrings on AWS, a
 * private file locally (docs/adr/0025-webhook-secrets-in-parameter-store.md). Records keep only the reference a
 * put returns; the value is read when a webhook is signed and never written to a record, an event or a log.
 */
export interface Secrets {
  /**
   * Store `value` as the secret of `owner` (a deployment group's id) and resolve with a reference to this value.
   * Each put makes a new reference and leaves the ones before it readable, so a record that still names the
   * previous value keeps working until the record itself is replaced (a crash between the put and the record's
   * write loses nothing).
   * @throws DependencyUnavailableError when the store cannot be reached now (throttling, 5xx: retry)
   * @throws DependencyRejectedError when the store refuses (permissions, the KMS key)
   */
  put(owner: string, value: string): Promise<string>;
  /**
   * The value `ref` names.
   * @throws DependencyRejectedError when it is gone (its group was deleted) or `ref` is not one of this store's
   * @throws DependencyUnavailableError when the store cannot be reached now
   */
  get(ref: string): Promise<string>;
  /**
   * Delete every value of `owner`; idempotent (nothing stored is not an error).
   * @throws DependencyUnavailableError when the store cannot be reached now
   * @throws DependencyRejectedError when the store refuses
   */
  remove(owner: string): Promise<void>;
}

/** An object holding a revision (S3). */
export interface RevisionObject {
  body: Uint8Array;
  eTag?: string;
  versionId?: string;
  /** User metadata (x-amz-meta-*), keys lower-case without the prefix. */
  metadata: Record<string, string>;
}

/** Where S3 revisions are read from. */
export interface RevisionSource {
  /**
   * GetObject. A missing bucket, key or version throws ApiError RevisionDoesNotExistException;
   * an object larger than `maxBytes` throws InvalidInputError (InvalidRevisionException).
   */
  get(bucket: string, key: string, version: string | undefined, maxBytes: number): Promise<RevisionObject>;
}

/** CodePipeline job results (a Lambda invoke action's job worker). */
export interface PipelineJobs {
  /** PutJobSuccessResult; with a continuationToken CodePipeline invokes the worker again later. */
  succeed(
    jobId: string,
    result: { continuationToken?: string; summary?: string; externalExecutionId?: string },
  ): Promise<void>;
  /** PutJobFailureResult. */
  fail(
    jobId: string,
    failure: { type: 'JobFailed' | 'ConfigurationError'; message: string; externalExecutionId?: string },
  ): Promise<void>;
}

/** Step Functions callbacks. */
export interface TaskTokens {
  /** Complete a waiting task. Resolves false when the token is no longer waiting (timed out or done). */
  succeed(token: string, output: unknown): Promise<boolean>;
  /** Fail a waiting task with one of the contract's error names (the ASL's Catch matches it). */
  fail(token: string, error: ErrorName, cause: string): Promise<boolean>;
}

/** Starts state machine executions. */
export interface ExecutionStarter {
  /**
   * StartExecution with a unique name (the deployment id). Returns the execution ARN. Starting a
   * name that is running with the same input returns the same ARN (Step Functions' idempotency).
   * @throws DependencyRejectedError (awsErrorName ExecutionAlreadyExists) when an execution of that
   *   name ended already; DependencyUnavailableError on throttling and 5xx
   */
  start(name: string, input: Record<string, unknown>): Promise<string>;
  /**
   * The status of the execution of that name (DescribeExecution), or undefined when there is none.
   * What the reconciler uses to tell a deployment that runs from one whose execution is gone.
   * @throws DependencyUnavailableError on throttling and 5xx
   */
  describe(name: string): Promise<ExecutionStatus | undefined>;
}

/** Step Functions' execution status. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** EventBridge and SNS. */
export interface EventPublisher {
  putEvents(entries: EventBridgeEntry[]): Promise<void>;
  publish(message: SnsMessage): Promise<void>;
}

/** New identifiers (random: kept out of the domain, so it stays pure and tests can seed them). */
export interface IdSource {
  /** A CodeDeploy-style deployment id, `d-` + 9 upper-case alphanumerics. */
  deploymentId(): string;
  /** An unguessable hook execution id (it authorises the hook's callback). */
  hookExecutionId(): string;
  uuid(): string;
}

/** Reading revision bundles (zip, tar, tgz): compression, kept out of the domain. */
export interface Bundles {
  /** The AppSpec text inside a bundle. @throws InvalidInputError (InvalidRevisionException) with the reason */
  appSpecOf(data: Uint8Array, type: BundleType): string;
}

/**
 * Time, injected so local mode can compress it and tests can skip it. Two readings
 * (docs/adr/0020-wall-clock-records.md): `now()` is the time waits, timeouts and deadlines are measured
 * on (virtual in local mode: it runs ahead of the wall clock while waits are compressed); `stamp()` is
 * the date written on a record a client reads (createTime, startTime, endTime, a timeline event), always
 * the wall clock's where time is real. Never measure a wait or a deadline from a stamp.
 */
export interface Clock {
  /** The time waits and deadlines are measured on. */
  now(): Date;
  /** The date to write on a record a client reads: wall-clock time (the same as now() on AWS). */
  stamp(): Date;
  /** Sleep `seconds` of clock time (compressed in local mode). Rejects with an AbortError if `signal` aborts. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
}

/**
 * One authorisation question: may `principal` perform `action` (CodeDeploy's IAM action name, e.g.
 * `codedeploy:CreateDeployment`) on every one of `resources` (CodeDeploy resource ARNs, or `*` for actions
 * IAM authorises only on `*`)?
 */
export interface AuthorizationRequest {
  /** The caller's ARN as the transport established it (API Gateway's IAM identity); undefined: not signed. */
  principal?: string;
  action: string;
  resources: string[];
  /** The caller's source address, for policies with an `aws:SourceIp` condition. */
  sourceIp?: string;
}

/** Allowed, or denied with the resources refused and why (for the AccessDeniedException's message). */
export type AuthorizationDecision = { allowed: true } | { allowed: false; denied: string[]; reason: string };

/**
 * Decides who may run which operation on what (docs/adr/0024): IAM's policy evaluation on AWS
 * (iam:SimulatePrincipalPolicy), a local policy in local mode. An explicit deny wins; no allow is a deny.
 */
export interface Authorizer {
  /**
   * Evaluate one request. A principal the policy source does not know (deleted, another account,
   * unsigned where signatures are required) is denied, never an error.
   * @throws DependencyUnavailableError when the policy source cannot answer (throttling, 5xx): the caller
   *   fails closed (the operation does not run)
   * @throws DependencyRejectedError when the policy source refuses the question itself (the API function's
   *   own role lacks iam:SimulatePrincipalPolicy): also fails closed
   */
  authorize(request: AuthorizationRequest): Promise<AuthorizationDecision>;
}

/** Structured logs. Never pass task tokens, hook execution ids or secrets in `data`. */
export interface Logger {
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}
