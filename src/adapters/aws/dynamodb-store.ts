/**
 * DeploymentStore on one DynamoDB table (layout in docs/architecture.md). Every write is
 * conditional; there are no transactions (dynalite has none), so multi-item changes are ordered
 * so that a crash leaves a state the next step can repair (lock first, record second).
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
  DeploymentStatus,
  RevisionLocation,
  TimelineEntry,
} from '../../domain/model.js';
import type { DeploymentStore, GroupInput, HookExecution, StoredRevision } from '../../ports/index.js';
import { mapAwsError, withAwsErrors } from './errors.js';

export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
}

const KEYS = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;
const GROUP_SETTINGS = [
  'serviceRoleArn',
  'deploymentConfigName',
  'alarmConfiguration',
  'autoRollbackConfiguration',
  'triggerConfigurations',
  'hookTimeoutSeconds',
  'hookConfiguration',
  'webhookSecret',
  'computePlatform',
  'ecsServices',
  'loadBalancerInfo',
  'blueGreenDeploymentConfiguration',
  'deploymentStyle',
] as const;

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

const isConditionFailure = (e: unknown): boolean =>
  e instanceof ConditionalCheckFailedException || (e as Error)?.name === 'ConditionalCheckFailedException';

/** Build `SET a = :a, ... REMOVE b` from a patch; undefined values are removed. */
function updateExpression(patch: Record<string, unknown>, extraSet: string[] = []) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const set: string[] = [...extraSet];
  const remove: string[] = [];
  Object.entries(patch).forEach(([k, v], i) => {
    names[`#f${i}`] = k;
    if (v === undefined) remove.push(`#f${i}`);
    else {
      set.push(`#f${i} = :v${i}`);
      values[`:v${i}`] = v;
    }
  });
  const expr = [set.length ? `SET ${set.join(', ')}` : '', remove.length ? `REMOVE ${remove.join(', ')}` : '']
    .filter(Boolean)
    .join(' ');
  return { expr, names, values };
}

export class DynamoDeploymentStore implements DeploymentStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    /** Query page size (small values exercise pagination in tests). */
    private readonly pageSize?: number,
  ) {}

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const r = await withAwsErrors('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })),
    );
    return strip<T>(r.Item);
  }

  /** Put an item that must not exist yet; returns false if it does. */
  private async putNew(item: Record<string, unknown>): Promise<boolean> {
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

  private async query(
    input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await withAwsErrors('DynamoDB Query', () =>
        this.doc.send(
          new QueryCommand({
            ...input,
            TableName: this.table,
            ...(this.pageSize ? { Limit: this.pageSize } : {}),
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return items;
  }

  // ---- applications, groups, configs -------------------------------------------------------

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
    return this.get<Application>(`APP#${name}`, 'APP');
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
    return this.get<DeploymentGroup>(`APP#${app}`, `DG#${group}`);
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
    return this.get<DeploymentConfig>(`CONFIG#${name}`, 'CONFIG');
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
    return revisionOut(await this.get<Record<string, unknown>>(`APP#${app}`, `REV#${key}`));
  }

  async listRevisions(app: string): Promise<StoredRevision[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :r)',
      ExpressionAttributeValues: { ':pk': `APP#${app}`, ':r': 'REV#' },
      ConsistentRead: true,
    });
    return items.map((i) => revisionOut(strip<Record<string, unknown>>(i))!);
  }

  /** Delete an item if it exists (a missing one is not an error: deletes are idempotent). */
  private async deleteIfExists(pk: string, sk: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({ TableName: this.table, Key: { pk, sk }, ConditionExpression: 'attribute_exists(pk)' }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw mapAwsError(e, 'DynamoDB DeleteItem');
    }
  }

  // ---- the group lock ----------------------------------------------------------------------

  async lockGroup(app: string, group: string, deploymentId: string): Promise<void> {
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
      const g = await this.getDeploymentGroup(app, group);
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

  async releaseGroup(
    app: string,
    group: string,
    deploymentId: string,
    outcome: { status: DeploymentStatus; createTime: string; endTime?: string; revision?: RevisionLocation },
  ): Promise<void> {
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

  // ---- deployments -------------------------------------------------------------------------

  async createDeployment(d: Deployment): Promise<void> {
    const item = {
      pk: `DEP#${d.deploymentId}`,
      sk: 'DEP',
      gsi1pk: `DG#${d.applicationName}#${d.deploymentGroupName}`,
      gsi1sk: `${d.createTime}#${d.deploymentId}`,
      ...d,
    };
    if (!(await this.putNew(item))) throw new InternalError(`deployment ${d.deploymentId} already exists`);
  }

  getDeployment(id: string): Promise<Deployment | undefined> {
    return this.get<Deployment>(`DEP#${id}`, 'DEP');
  }

  async updateDeployment(id: string, expectedVersion: number, patch: Partial<Deployment>): Promise<Deployment> {
    const { deploymentId: _id, version: _v, ...rest } = patch;
    const u = updateExpression(rest as Record<string, unknown>, ['#version = :next']);
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `DEP#${id}`, sk: 'DEP' },
          UpdateExpression: u.expr,
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { ...u.names, '#version': 'version' },
          ExpressionAttributeValues: { ...u.values, ':next': expectedVersion + 1, ':expected': expectedVersion },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<Deployment>(r.Attributes)!;
    } catch (e) {
      if (isConditionFailure(e))
        throw new InternalError(`deployment ${id} was changed concurrently (expected version ${expectedVersion})`);
      throw mapAwsError(e, 'DynamoDB UpdateItem');
    }
  }

  async appendTimeline(id: string, entry: TimelineEntry): Promise<void> {
    const sk = `T#${entry.at}#${randomBytes(4).toString('hex')}`;
    if (!(await this.putNew({ pk: `DEP#${id}`, sk, ...entry })))
      throw new InternalError(`timeline entry ${sk} collided`);
  }

  async getTimeline(id: string): Promise<TimelineEntry[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :t)',
      ExpressionAttributeValues: { ':pk': `DEP#${id}`, ':t': 'T#' },
      ConsistentRead: true,
    });
    return items.map((i) => strip<TimelineEntry>(i)!);
  }

  async listDeployments(app: string, group: string): Promise<string[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :g',
      ExpressionAttributeValues: { ':g': `DG#${app}#${group}` },
      ScanIndexForward: false,
      ProjectionExpression: 'deploymentId',
    });
    return items.map((i) => String(i.deploymentId));
  }

  // ---- alarm index -------------------------------------------------------------------------

  async watchAlarms(deploymentId: string, alarmNames: string[]): Promise<void> {
    // Already indexed (a retried Prepare) is fine: putNew reports it and we move on.
    await Promise.all(
      alarmNames.map((name) =>
        this.putNew({ pk: `ALARM#${name}`, sk: `DEP#${deploymentId}`, alarmName: name, deploymentId }),
      ),
    );
  }

  async unwatchAlarms(deploymentId: string, alarmNames: string[]): Promise<void> {
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

  async deploymentsWatching(alarmName: string): Promise<string[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `ALARM#${alarmName}` },
    });
    return items.map((i) => String(i.deploymentId));
  }

  // ---- hook executions ---------------------------------------------------------------------

  async putHookExecution(h: HookExecution): Promise<void> {
    if (!(await this.putNew({ pk: `HOOK#${h.hookExecutionId}`, sk: 'HOOK', ...h })))
      throw new InternalError('hook execution id collided');
  }

  getHookExecution(id: string): Promise<HookExecution | undefined> {
    return this.get<HookExecution>(`HOOK#${id}`, 'HOOK');
  }

  async completeHookExecution(id: string, status: 'Succeeded' | 'Failed'): Promise<boolean> {
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
