/**
 * A scripted host for tests: speaks the agent's side of CodeDeploy's command service in its JSON 1.1 shapes
 * (PollHostCommand, GetDeploymentSpecification, PutHostCommandAcknowledgement, PostHostCommandUpdate,
 * PutHostCommandComplete), over real HTTP signed with SigV4 as the agent signs, or straight to the API's
 * dispatcher with a caller (the architecture test).
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/adapters/aws/sigv4.js';
import { dispatch } from '../../src/api/operations.js';
import type { RequestContext } from '../../src/api/operation.js';
import type { Deployment } from '../../src/domain/model.js';
import type { FleetSetup } from '../../src/platforms/server/fleet/index.js';
import type { LocalEnvironment } from '../../src/wiring/local.js';

export const COMMAND_TARGET = 'CodeDeployCommandService_v20141006';

/** An answer: the JSON body, and the error's type when it failed. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  error?: string;
}
export type Transport = (operation: string, input: Record<string, unknown>) => Promise<Answer>;

/** HTTP to a local API server, signed for `service` with `credentials` (unsigned without them). */
export function httpTransport(
  url: string,
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined,
  opts: { service?: string; region?: string; target?: string } = {},
): Transport {
  const endpoint = new URL(url);
  return async (operation, input) => {
    const body = JSON.stringify(input);
    let headers: Record<string, string> = {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `${opts.target ?? COMMAND_TARGET}.${operation}`,
      host: endpoint.host,
    };
    if (credentials) {
      const signer = new SignatureV4({
        service: opts.service ?? 'codedeploy-commands',
        region: opts.region ?? 'us-east-1',
        credentials,
        sha256: Sha256,
      });
      const signed = await signer.sign({
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: Number(endpoint.port),
        path: '/',
        query: {},
        headers,
        body,
      });
      headers = signed.headers as Record<string, string>;
    }
    const r = await fetch(new URL('/', endpoint), { method: 'POST', headers, body });
    const parsed = (await r.json()) as Record<string, unknown>;
    return { status: r.status, body: parsed, ...(r.ok ? {} : { error: String(parsed.__type) }) };
  };
}

/** Straight to the API's dispatcher, as the local server calls it, with `context` as the signer. */
export function dispatchTransport(env: LocalEnvironment, context: RequestContext): Transport {
  return async (operation, input) => {
    const r = await (env.work
      ? env.work.during(dispatch(operation, input, env.deps, env.viewFor, context))
      : dispatch(operation, input, env.deps, env.viewFor, context));
    if ('error' in r) return { status: 400, body: { ...r.error }, error: r.error.__type };
    return { status: 200, body: (r.output ?? {}) as Record<string, unknown> };
  };
}

export interface HostCommand {
  HostCommandIdentifier: string;
  HostIdentifier: string;
  DeploymentExecutionId: string;
  CommandName: string;
  Nonce: number;
}

/** A host's agent, scripted. Methods throw on an error answer unless they say otherwise. */
export class ScriptedHost {
  constructor(
    readonly transport: Transport,
    readonly hostIdentifier: string,
  ) {}

  async call(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const r = await this.transport(operation, input);
    if (r.error) throw new Error(`${operation}: ${r.error}: ${String(r.body.message)}`);
    return r.body;
  }

  async poll(): Promise<{ HostCommand?: HostCommand; NextPollInSeconds: number }> {
    return (await this.call('PollHostCommand', { HostIdentifier: this.hostIdentifier })) as never;
  }

  async specification(executionId: string): Promise<Record<string, unknown>> {
    const r = await this.call('GetDeploymentSpecification', {
      DeploymentExecutionId: executionId,
      HostIdentifier: this.hostIdentifier,
    });
    const envelope = (r.DeploymentSpecification as { GenericEnvelope: { Format: string; Payload: string } })
      .GenericEnvelope;
    return { DeploymentSystem: r.DeploymentSystem, Format: envelope.Format, ...JSON.parse(envelope.Payload) };
  }

  async ack(id: string, noop = false): Promise<string> {
    const r = await this.call('PutHostCommandAcknowledgement', {
      HostCommandIdentifier: id,
      Diagnostics: { Format: 'JSON', Payload: JSON.stringify({ IsCommandNoop: noop }) },
    });
    return String(r.CommandStatus);
  }

  async update(id: string): Promise<string> {
    const r = await this.call('PostHostCommandUpdate', {
      HostCommandIdentifier: id,
      EstimatedCompletionTime: 1_900_000_000,
    });
    return String(r.CommandStatus);
  }

  async complete(id: string, status: 'Succeeded' | 'Failed', diagnostics?: Record<string, unknown>): Promise<void> {
    await this.call('PutHostCommandComplete', {
      HostCommandIdentifier: id,
      CommandStatus: status,
      Diagnostics: {
        Format: 'JSON',
        Payload: JSON.stringify(
          diagnostics ?? {
            error_code: status === 'Succeeded' ? 0 : 4,
            script_name: '',
            message: status === 'Succeeded' ? 'Succeeded' : 'Script failed',
            log: '',
          },
        ),
      },
    });
  }

  /** The S3 key of the revision this host last installed (its Install event succeeded), as a real host has files. */
  installed: string | undefined;

  /**
   * Poll, fetch the specification, acknowledge and complete commands until none is offered; the events run,
   * each ending as `outcome` says (given the event and the deployment it belongs to).
   */
  async runAll(
    outcome: (event: string, deployment: { id: string; key: string; creator: string }) => 'Succeeded' | 'Failed' = () =>
      'Succeeded',
  ): Promise<string[]> {
    const ran: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { HostCommand: c } = await this.poll();
      if (!c) break;
      const spec = await this.specification(c.DeploymentExecutionId);
      if ((await this.ack(c.HostCommandIdentifier)) !== 'InProgress') continue;
      await this.update(c.HostCommandIdentifier);
      const key = String((spec.Revision as { S3Revision?: { Key?: string } } | undefined)?.S3Revision?.Key);
      const status = outcome(c.CommandName, {
        id: String(spec.DeploymentId),
        key,
        creator: String(spec.DeploymentCreator),
      });
      await this.complete(c.HostCommandIdentifier, status);
      if (c.CommandName === 'Install' && status === 'Succeeded') this.installed = key;
      ran.push(c.CommandName);
    }
    return ran;
  }
}

/**
 * An in-place deployment's record as the Server platform will write it (until it does): an S3 revision, in
 * progress. Only the fleet reads it here.
 */
export function serverDeployment(deploymentId: string, createTime = '2026-06-01T12:00:00.000Z'): Deployment {
  return {
    deploymentId,
    spec: {
      applicationName: 'shop',
      deploymentGroupName: 'web',
      deploymentGroupId: '8a4b2c10-0000-4000-8000-000000000001',
      deploymentConfigName: 'CodeDeployDefault.OneAtATime',
      computePlatform: 'Server',
      creator: 'user',
      revision: {
        revisionType: 'S3',
        s3Location: { bucket: 'cutover-revisions', key: 'shop/web-2.tgz', bundleType: 'tgz', eTag: '"0f3c"' },
      },
      createTime,
      autoRollbackConfiguration: { enabled: true, events: ['DEPLOYMENT_FAILURE'] },
      target: {},
      lifecycle: [],
      plan: { steps: [], totalBakeSeconds: 0 },
    },
    state: { status: 'InProgress', startTime: createTime, targetWeight: 0, lifecycleEvents: [], version: 1 },
  };
}

/** A fleet of healthy hosts running an old revision. */
export function fleetSetup(
  hosts: { id: string; targetArn?: string }[],
  config: FleetSetup['config'],
  extra: Partial<FleetSetup> = {},
): FleetSetup {
  return {
    hosts: hosts.map((h) => ({ ...h, instanceHealth: 'Healthy', revisionHealth: 'Old' })),
    config,
    region: 'us-east-1',
    ...extra,
  };
}
