/**
 * The store's ports (src/ports/store.ts) on one DynamoDB table (layout in docs/architecture.md).
 * Every write is conditional; there are no transactions (dynalite has none), so multi-item changes
 * are ordered so that a crash leaves a state the next step can repair.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type { DeploymentConfig } from '../../domain/deployment-config.js';
import { ApiError, InternalError } from '../../domain/errors.js';
import type {
  Application,
  Deployment,
  DeploymentGroup,
  DeploymentState,
  OnPremisesInstance,
  RevisionLocation,
  Tag,
  TimelineEntry,
} from '../../domain/model.js';
import type {
  AlarmWatches,
  Catalog,
  Deployments,
  GroupInput,
  GroupLocks,
  HookExecution,
  HookExecutions,
  Instances,
  LockOutcome,
  StoredRevision,
  Timeline,
} from '../../ports/index.js';
import { GROUP_SETTINGS } from '../../ports/store.js';
import { mapAwsError, withAwsErrors } from './errors.js';

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

const KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const copy = { ...item };
  for (const k of KEYS) delete copy[k];
  return copy as T;
}

/** Stored revisions keep deploymentGroups as a string set; callers get an array. */
function revisionOut(item: Record<string, unknown> | undefined): StoredRevision | undefined {
  if (!item) return undefined;
  const groups = item.deploymentGroups instanceof Set ? [...(item.deploymentGroups as Set<string>)].sort() : [];
  return { ...(item as unknown as StoredRevision), deploymentGroups: groups };
}

export const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException';

/**
 * Build `SET a = :a, ... REMOVE b` from a patch; undefined values are removed. With `under`, the
 * fields are those of a map attribute (`under.a`).
 */
export function updateExpression(patch: Record<string, unknown>, extraSet: string[] = [], under?: string) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const set: string[] = [...extraSet];
  const remove: string[] = [];
  const at = (name: string) => (under ? `${under}.${name}` : name);
  Object.entries(patch).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    if (v === undefined) remove.push(at(`#f${i}`));
    else {
      set.push(`${at(`#f${i}`)} = :v${i}`);
      values[`:v${i}`] = v;
    }
  });
  const expr = [set.length ? `SET ${set.join(', ')}` : '', remove.length ? `REMOVE ${remove.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { expr, names, values };
}

/** Item access every port of the table shares: conditional puts, consistent reads, paged queries. */
export class DynamoTable {
  constructor(
    protected readonly doc: DynamoDBDocumentClient,
    protected readonly table: string,
    /** Query page size (small values exercise pagination in tests). */
    protected readonly pageSize?: number,
  ) {}

  protected async item<T>(pk: string, sk: string): Promise<T | undefined> {
    const r = await withAwsErrors('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })),
    );
    return strip<T>(r.Item);
  }

  /** Put an item that must not exist yet; returns false if it does. */
  protected async putNew(item: Record<string, unknown>): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, 'DynamoDB PutItem');
    }
  }

  /** Every item the query matches (all pages), or the first `limit`. */
  protected async query(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>,
    limit?: number,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = Math.min(this.pageSize ?? Infinity, limit !== undefined ? limit - items.length : Infinity);
      const r = await withAwsErrors('DynamoDB Query', () =>
        this.doc.send(
          new QueryCommand({
            ...input,
            TableName: this.table,
            ...(Number.isFinite(page) ? { Limit: page } : {}),
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start && (limit === undefined || items.length < limit));
    return items;
  }

  /** Delete an item if it exists (a missing one is not an error: deletes are idempotent). */
  protected async deleteIfExists(pk: string, sk: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ConditionExpression: 'attribute_exists(pk)' }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB DeleteItem');
    }
  }
}

/** Applications, deployment groups, custom configurations and registered revisions. */
export class DynamoCatalog extends DynamoTable implements Catalog {
  async createApplication(app: Application): Promise<void> {
    if (
      !(await this.putNew({
        pk: `APP#${app.applicationName}`,
        sk: 'APP',
        gsi1pk: 'APPLICATIONS',
        gsi1sk: app.applicationName,
        ...app,
      }))
    ) {
      throw new ApiError('ApplicationAlreadyExistsException', `Application ${app.applicationName} already exists`);
    }
  }

  getApplication(name: string): Promise<Application | undefined> {
    return this.item<Application>(`APP#${name}`, 'APP');
  }

  async createDeploymentGroup(group: DeploymentGroup): Promise<void> {
    if (!(await this.putNew({ pk: `APP#${group.applicationName}`, sk: `DG#${group.deploymentGroupName}`, ...group }))) {
      throw new ApiError(
        'DeploymentGroupAlreadyExistsException',
        `Deployment group ${group.deploymentGroupName} already exists in application ${group.applicationName}`,
      );
    }
  }

  async updateDeploymentGroup(group: GroupInput): Promise<void> {
    const patch = Object.fromEntries(GROUP_SETTINGS.map((k) => [k, group[k]]));
    const u = updateExpression(patch);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${group.applicationName}`, sk: `DG#${group.deploymentGroupName}` },
          UpdateExpression: u.expr,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: u.names,
          ...(Object.keys(u.values).length ? { ExpressionAttributeValues: u.values } : {}),
        }),
      );
    } catch (e) {
      if (isConditionFailure(e)) {
        throw new ApiError(
          'DeploymentGroupDoesNotExistException',
          `Deployment group ${group.deploymentGroupName} does not exist in application ${group.applicationName}`,
        );
      }
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  getDeploymentGroup(app: string, group: string): Promise<DeploymentGroup | undefined> {
    return this.item<DeploymentGroup>(`APP#${app}`, `DG#${group}`);
  }

  async createDeploymentConfig(config: DeploymentConfig): Promise<void> {
    if (
      !(await this.putNew({
        pk: `CONFIG#${config.deploymentConfigName}`,
        sk: 'CONFIG',
        gsi1pk: 'CONFIGS',
        gsi1sk: config.deploymentConfigName,
        ...config,
      }))
    ) {
      throw new ApiError(
        'DeploymentConfigAlreadyExistsException',
        `Deployment configuration ${config.deploymentConfigName} already exists`,
      );
    }
  }

  getDeploymentConfig(name: string): Promise<DeploymentConfig | undefined> {
    return this.item<DeploymentConfig>(`CONFIG#${name}`, 'CONFIG');
  }

  async listApplications(): Promise<Application[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'APPLICATIONS' },
    });
    return items.map((i) => strip<Application>(i)!);
  }

  async deleteApplication(name: string): Promise<void> {
    for (const g of await this.listDeploymentGroups(name))
      await this.deleteDeploymentGroup(name, g.deploymentGroupName);
    await this.deleteIfExists(`APP#${name}`, 'APP');
  }

  async listDeploymentGroups(app: string): Promise<DeploymentGroup[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :g)',
      ExpressionAttributeValues: { ':pk': `APP#${app}`, ':g': 'DG#' },
      ConsistentRead: true,
    });
    return items.map((i) => strip<DeploymentGroup>(i)!);
  }

  async deleteDeploymentGroup(app: string, group: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `APP#${app}`, sk: `DG#${group}` },
          ConditionExpression: 'attribute_not_exists(activeDeploymentId)',
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB DeleteItem');
      const g = await this.getDeploymentGroup(app, group);
      throw new ApiError(
        'InvalidOperationException',
        `Deployment group ${group} has an active deployment ${g?.activeDeploymentId ?? ''}; stop it first`,
      );
    }
  }

  async listDeploymentConfigs(): Promise<DeploymentConfig[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'CONFIGS' },
    });
    return items.map((i) => strip<DeploymentConfig>(i)!);
  }

  async deleteDeploymentConfig(name: string): Promise<void> {
    await this.deleteIfExists(`CONFIG#${name}`, 'CONFIG');
  }

  // Revisions are merged with UpdateItem (SET/ADD, if_not_exists): idempotent, and no update is lost.
  async registerRevision(
    app: string,
    key: string,
    revision: RevisionLocation,
    description: string | undefined,
    at: string,
  ): Promise<void> {
    await withAwsErrors('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${app}`, sk: `REV#${key}` },
          UpdateExpression: `SET #key = :key, revision = :rev, registerTime = if_not_exists(registerTime, :at)${description !== undefined ? ', description = :d' : ''}`,
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: {
            ':key': key,
            ':rev': revision,
            ':at': at,
            ...(description !== undefined ? { ':d': description } : {}),
          },
        }),
      ),
    );
  }

  async recordRevisionUse(
    app: string,
    key: string,
    revision: RevisionLocation,
    group: string,
    at: string,
  ): Promise<void> {
    await withAwsErrors('DynamoDB UpdateItem', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${app}`, sk: `REV#${key}` },
          UpdateExpression:
            'SET #key = :key, revision = if_not_exists(revision, :rev), firstUsedTime = if_not_exists(firstUsedTime, :at), lastUsedTime = :at ADD deploymentGroups :g',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':key': key, ':rev': revision, ':at': at, ':g': new Set([group]) },
        }),
      ),
    );
  }

  async getRevision(app: string, key: string): Promise<StoredRevision | undefined> {
    return revisionOut(await this.item<Record<string, unknown>>(`APP#${app}`, `REV#${key}`));
  }

  async listRevisions(app: string): Promise<StoredRevision[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
      ExpressionAttributeValues: { ':pk': `APP#${app}`, ':r': 'REV#' },
      ConsistentRead: true,
    });
    return items.map((i) => revisionOut(strip<Record<string, unknown>>(i))!);
  }
}

/** The one-active-deployment lock on each group (CodeDeploy's rule). */
export class DynamoGroupLocks extends DynamoTable implements GroupLocks {
  async acquire(app: string, group: string, deploymentId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${app}`, sk: `DG#${group}` },
          UpdateExpression: 'SET activeDeploymentId = :id',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(activeDeploymentId) OR activeDeploymentId = :id)',
          ExpressionAttributeValues: { ':id': deploymentId },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
      const g = await this.item<DeploymentGroup>(`APP#${app}`, `DG#${group}`);
      if (!g)
        throw new ApiError(
          'DeploymentGroupDoesNotExistException',
          `Deployment group ${group} does not exist in application ${app}`,
        );
      throw new ApiError(
        'DeploymentLimitExceededException',
        `The Deployment Group '${group}' already has an active Deployment '${g.activeDeploymentId ?? 'unknown'}'`,
      );
    }
  }

  async release(app: string, group: string, deploymentId: string, outcome: LockOutcome): Promise<void> {
    const summary = {
      deploymentId,
      status: outcome.status,
      createTime: outcome.createTime,
      ...(outcome.endTime ? { endTime: outcome.endTime } : {}),
    };
    const succeeded = outcome.status === 'Succeeded';
    const set = [
      'lastAttemptedDeployment = :s',
      ...(succeeded
        ? ['lastSuccessfulDeployment = :s', ...(outcome.revision ? ['lastSuccessfulRevision = :r'] : [])]
        : []),
    ];
    const values = { ':s': summary, ...(succeeded && outcome.revision ? { ':r': outcome.revision } : {}) };
    const key = { pk: `APP#${app}`, sk: `DG#${group}` };
    try {
      // Remove the lock only if this deployment holds it...
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: `SET ${set.join(', ')} REMOVE activeDeploymentId`,
          ConditionExpression: 'activeDeploymentId = :id',
          ExpressionAttributeValues: { ...values, ':id': deploymentId },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
      // ...otherwise (a retry, or another holder) record the attempt without touching the lock.
      await withAwsErrors('DynamoDB UpdateItem', () =>
        this.doc
          .send(
            new UpdateCommand({
              TableName: this.table,
              Key: key,
              UpdateExpression: 'SET lastAttemptedDeployment = :s',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':s': summary },
            }),
          )
          .catch((x: unknown) => (isConditionFailure(x) ? undefined : Promise.reject(x))),
      );
    }
  }
}

/** Deployment records: the spec written once, the state changed by compare-and-set. */
export class DynamoDeployments extends DynamoTable implements Deployments {
  async create(d: Deployment): Promise<void> {
    const item = {
      pk: `DEP#${d.deploymentId}`,
      sk: 'DEP',
      gsi1pk: `DG#${d.spec.applicationName}#${d.spec.deploymentGroupName}`,
      gsi1sk: `${d.spec.createTime}#${d.deploymentId}`,
      deploymentId: d.deploymentId,
      spec: d.spec,
      state: d.state,
    };
    if (!(await this.putNew(item))) throw new InternalError(`deployment ${d.deploymentId} already exists`);
  }

  async get(id: string): Promise<Deployment | undefined> {
    return deploymentOut(await this.item<Record<string, unknown>>(`DEP#${id}`, 'DEP'));
  }

  async update(id: string, expectedVersion: number, patch: Partial<DeploymentState>): Promise<Deployment> {
    const { version: _v, ...rest } = patch;
    const u = updateExpression(rest, ['#state.#version = :next'], '#state');
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `DEP#${id}`, sk: 'DEP' },
          UpdateExpression: u.expr,
          ConditionExpression: '#state.#version = :expected',
          ExpressionAttributeNames: { ...u.names, '#state': 'state', '#version': 'version' },
          ExpressionAttributeValues: { ...u.values, ':next': expectedVersion + 1, ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return deploymentOut(strip<Record<string, unknown>>(r.Attributes))!;
    } catch (e) {
      if (isConditionFailure(e))
        throw new InternalError(`deployment ${id} was changed concurrently (expected version ${expectedVersion})`);
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  async discard(id: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `DEP#${id}`, sk: 'DEP' },
          ConditionExpression: '#state.#status = :created',
          ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
          ExpressionAttributeValues: { ':created': 'Created' },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, 'DynamoDB DeleteItem');
    }
  }

  async list(app: string, group: string, limit?: number): Promise<string[]> {
    const items = await this.query(
      {
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :g',
        ExpressionAttributeValues: { ':g': `DG#${app}#${group}` },
        ScanIndexForward: false,
        ProjectionExpression: 'deploymentId',
      },
      limit,
    );
    return items.map((i) => String(i.deploymentId));
  }
}

/** A record as stored; one from before the spec/state split is refused with what to do. */
function deploymentOut(item: Record<string, unknown> | undefined): Deployment | undefined {
  if (!item) return undefined;
  if (typeof item.spec !== 'object' || typeof item.state !== 'object')
    throw new InternalError(
      `deployment ${String(item.deploymentId)} was stored by an earlier Cutover version (no spec/state); remove the local state folder (.cutover by default, or --state-dir) or the record`,
    );
  return { deploymentId: String(item.deploymentId), spec: item.spec, state: item.state } as Deployment;
}

/** Each deployment's timeline. */
/**
 * Entries appended by this process, counted: entries with the same timestamp (common on virtual
 * time, where a whole step happens at one instant) list in the order they were appended. The
 * random part keeps keys from two processes apart.
 */
let appended = 0;

export class DynamoTimeline extends DynamoTable implements Timeline {
  async append(id: string, entry: TimelineEntry): Promise<void> {
    const seq = String(appended++).padStart(12, '0');
    const sk = `T#${entry.at}#${seq}#${randomBytes(4).toString('hex')}`;
    if (!(await this.putNew({ pk: `DEP#${id}`, sk, ...entry })))
      throw new InternalError(`timeline entry ${sk} collided`);
  }

  async list(id: string): Promise<TimelineEntry[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
      ExpressionAttributeValues: { ':pk': `DEP#${id}`, ':t': 'T#' },
      ConsistentRead: true,
    });
    return items.map((i) => strip<TimelineEntry>(i)!);
  }
}

/** The alarm index (alarm → the active deployments watching it). */
export class DynamoAlarmWatches extends DynamoTable implements AlarmWatches {
  async watch(deploymentId: string, alarmNames: string[]): Promise<void> {
    // Already indexed (a retried Prepare) is fine: putNew reports it and we move on.
    await Promise.all(
      alarmNames.map((name) =>
        this.putNew({ pk: `ALARM#${name}`, sk: `DEP#${deploymentId}`, alarmName: name, deploymentId }),
      ),
    );
  }

  async unwatch(deploymentId: string, alarmNames: string[]): Promise<void> {
    await Promise.all(
      alarmNames.map(async (name) => {
        try {
          await this.doc.send(
            new DeleteCommand({
              TableName: this.table,
              Key: { pk: `ALARM#${name}`, sk: `DEP#${deploymentId}` },
              ConditionExpression: 'attribute_exists(pk)',
            }),
          );
        } catch (e) {
          if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB DeleteItem');
        }
      }),
    );
  }

  async watching(alarmName: string): Promise<string[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ALARM#${alarmName}` },
    });
    return items.map((i) => String(i.deploymentId));
  }
}

/** Hook executions: each hook's callback credential, mapped to the task token waiting for it. */
export class DynamoHookExecutions extends DynamoTable implements HookExecutions {
  async put(h: HookExecution): Promise<void> {
    if (!(await this.putNew({ pk: `HOOK#${h.idHash}`, sk: 'HOOK', ...h })))
      throw new InternalError('hook execution id collided');
  }

  get(id: string): Promise<HookExecution | undefined> {
    return this.item<HookExecution>(`HOOK#${id}`, 'HOOK');
  }

  async complete(id: string, status: 'Succeeded' | 'Failed'): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `HOOK#${id}`, sk: 'HOOK' },
          UpdateExpression: 'SET #s = :s',
          ConditionExpression: '#s = :inProgress',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':inProgress': 'InProgress' },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }
}

/** The IAM identity an instance's agent signs with. */
const iamArnOf = (i: Pick<OnPremisesInstance, 'iamUserArn' | 'iamSessionArn'>): string | undefined =>
  i.iamUserArn ?? i.iamSessionArn;

/** CodeDeploy's refusal of an IAM ARN another registered instance holds. */
function arnTaken(instance: OnPremisesInstance, arn: string, holder: string | undefined): ApiError {
  const [exception, kind] = instance.iamUserArn
    ? ['IamUserArnAlreadyRegisteredException', 'IAM user']
    : ['IamSessionArnAlreadyRegisteredException', 'IAM session'];
  return new ApiError(
    exception,
    `The ${kind} ARN ${arn} is already registered${holder ? `, by instance ${holder}` : ''}`,
  );
}

/** How many times a compare-and-set is tried before a race is reported. */
const CAS_ATTEMPTS = 5;

/**
 * On-premises instances: `INSTANCE#<name>` (with a `version` for compare-and-set, and in gsi1 under
 * `INSTANCES` for the list), and `IAMARN#<arn>` naming the instance that holds an IAM ARN. The ARN item is
 * claimed before the instance is written, confirmed after, and released after the instance is deregistered.
 * A claim whose instance is deregistered or holds another ARN, or an unconfirmed one whose instance is missing
 * (a crash, or a registration in progress that then loses), is stale: never trusted by `byIamArn`, and taken
 * over by the next registration of that ARN.
 */
export class DynamoInstances extends DynamoTable implements Instances {
  private async record(name: string): Promise<(OnPremisesInstance & { version: number }) | undefined> {
    return this.item<OnPremisesInstance & { version: number }>(`INSTANCE#${name}`, 'INSTANCE');
  }

  async get(name: string): Promise<OnPremisesInstance | undefined> {
    const r = await this.record(name);
    if (!r) return undefined;
    const { version: _v, ...instance } = r;
    return instance;
  }

  async byIamArn(arn: string): Promise<OnPremisesInstance | undefined> {
    const claim = await this.item<{ instanceName: string }>(`IAMARN#${arn}`, 'IAMARN');
    if (!claim) return undefined;
    const instance = await this.get(claim.instanceName);
    return instance && !instance.deregisterTime && iamArnOf(instance) === arn ? instance : undefined;
  }

  async list(): Promise<OnPremisesInstance[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'INSTANCES' },
    });
    return items.map((i) => {
      const { version: _v, ...instance } = strip<OnPremisesInstance & { version: number }>(i)!;
      return instance;
    });
  }

  async register(instance: OnPremisesInstance): Promise<void> {
    const name = instance.instanceName;
    const arn = iamArnOf(instance);
    if (!arn) throw new InternalError(`instance ${name} has neither an iamUserArn nor an iamSessionArn`);
    const nameTaken = () =>
      new ApiError('InstanceNameAlreadyRegisteredException', `On-premises instance ${name} is already registered`);
    const current = await this.get(name);
    if (current && !current.deregisterTime) throw nameTaken();
    await this.claim(arn, instance);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: `INSTANCE#${name}`,
            sk: 'INSTANCE',
            gsi1pk: 'INSTANCES',
            gsi1sk: name,
            ...instance,
            version: 1,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_exists(deregisterTime)',
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB PutItem');
      // Registered meanwhile: the claim is released unless that registration holds this very ARN.
      const winner = await this.get(name);
      if (!winner || iamArnOf(winner) !== arn) await this.release(arn, name);
      throw nameTaken();
    }
    // Confirmed, the claim can no longer be taken over as stale. A registration racing for the same ARN may have
    // taken it over while this instance was not written yet (it looked stale): then the loser takes its instance
    // back.
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `IAMARN#${arn}`, sk: 'IAMARN' },
          UpdateExpression: 'SET confirmed = :yes',
          ConditionExpression: 'instanceName = :name',
          ExpressionAttributeValues: { ':yes': true, ':name': name },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
      try {
        await this.doc.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { pk: `INSTANCE#${name}`, sk: 'INSTANCE' },
            ConditionExpression: '#v = :one AND attribute_not_exists(deregisterTime)',
            ExpressionAttributeNames: { '#v': 'version' },
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
      } catch (d) {
        if (!isConditionFailure(d)) throw mapAwsError(d, 'DynamoDB DeleteItem');
      }
      const held = await this.item<{ instanceName: string }>(`IAMARN#${arn}`, 'IAMARN');
      throw arnTaken(instance, arn, held?.instanceName);
    }
  }

  /** Claim `arn` for the instance, taking over a stale claim. */
  private async claim(arn: string, instance: OnPremisesInstance): Promise<void> {
    const name = instance.instanceName;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      if (await this.putNew({ pk: `IAMARN#${arn}`, sk: 'IAMARN', iamArn: arn, instanceName: name })) return;
      const held = await this.item<{ instanceName: string }>(`IAMARN#${arn}`, 'IAMARN');
      if (!held) continue; // released meanwhile: claim it
      if (held.instanceName === name) return; // ours (a retry)
      const holder = await this.get(held.instanceName);
      if (holder && !holder.deregisterTime && iamArnOf(holder) === arn)
        throw arnTaken(instance, arn, held.instanceName);
      // Stale for sure when its instance is deregistered or holds another ARN; when its instance is not written
      // (yet), only while that registration has not confirmed it.
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `IAMARN#${arn}`, sk: 'IAMARN' },
            UpdateExpression: 'SET instanceName = :name REMOVE confirmed',
            ConditionExpression: holder
              ? 'instanceName = :old'
              : 'instanceName = :old AND attribute_not_exists(confirmed)',
            ExpressionAttributeValues: { ':name': name, ':old': held.instanceName },
          }),
        );
        return;
      } catch (e) {
        if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
      }
    }
    throw new InternalError(`the IAM ARN ${arn} kept changing hands; try again`);
  }

  /** Release `arn` if `name` holds it. */
  private async release(arn: string, name: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `IAMARN#${arn}`, sk: 'IAMARN' },
          ConditionExpression: 'instanceName = :name',
          ExpressionAttributeValues: { ':name': name },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB DeleteItem');
    }
  }

  async deregister(name: string, at: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `INSTANCE#${name}`, sk: 'INSTANCE' },
          UpdateExpression: 'SET deregisterTime = :at, #v = #v + :one',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deregisterTime)',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':at': at, ':one': 1 },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
    // Also on a retry: a crash may have come between the two writes.
    const instance = await this.get(name);
    const arn = instance && iamArnOf(instance);
    if (instance?.deregisterTime && arn) await this.release(arn, name);
  }

  async updateTags(name: string, change: (tags: Tag[]) => Tag[]): Promise<Tag[]> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = await this.record(name);
      if (!current || current.deregisterTime)
        throw new ApiError('InstanceNotRegisteredException', `On-premises instance ${name} is not registered`);
      const tags = change(current.tags.map((t) => ({ ...t })));
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { pk: `INSTANCE#${name}`, sk: 'INSTANCE' },
            UpdateExpression: 'SET #tags = :tags, #v = :next',
            ConditionExpression: '#v = :expected AND attribute_not_exists(deregisterTime)',
            ExpressionAttributeNames: { '#tags': 'tags', '#v': 'version' },
            ExpressionAttributeValues: { ':tags': tags, ':next': current.version + 1, ':expected': current.version },
          }),
        );
        return tags;
      } catch (e) {
        if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB UpdateItem');
      }
    }
    throw new InternalError(`the tags of ${name} kept changing; try again`);
  }
}

/** Every store port on one table. */
export interface DynamoStore {
  catalog: DynamoCatalog;
  deployments: DynamoDeployments;
  locks: DynamoGroupLocks;
  hookExecutions: DynamoHookExecutions;
  timeline: DynamoTimeline;
  alarmWatches: DynamoAlarmWatches;
  instances: DynamoInstances;
}

export function createDynamoStore(doc: DynamoDBDocumentClient, table: string, pageSize?: number): DynamoStore {
  return {
    catalog: new DynamoCatalog(doc, table, pageSize),
    deployments: new DynamoDeployments(doc, table, pageSize),
    locks: new DynamoGroupLocks(doc, table, pageSize),
    hookExecutions: new DynamoHookExecutions(doc, table, pageSize),
    timeline: new DynamoTimeline(doc, table, pageSize),
    alarmWatches: new DynamoAlarmWatches(doc, table, pageSize),
    instances: new DynamoInstances(doc, table, pageSize),
  };
}
