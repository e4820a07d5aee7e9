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
  TaggableResource,
  Timeline,
} from '../../ports/index.js';
import { catalogErrors, GROUP_SETTINGS } from '../../ports/store.js';
import { missingResource } from '../../domain/tags.js';
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

/**
 * What the catalog keeps on its items besides the resource: tags (with their compare-and-set version), an
 * item revision (bumped by every write to a group, so a rename's copy can tell it is still current), the names a
 * group had (its older deployments are indexed under them), and a rename's marks.
 */
const INTERNAL = ['resourceTags', 'tagsVersion', 'itemRevision', 'formerNames', 'pendingFrom', 'renamingTo'] as const;
type Raw = Record<string, unknown>;

function catalogOut<T>(item: Raw | undefined): T | undefined {
  const c = strip<Raw>(item);
  if (!c) return undefined;
  for (const k of INTERNAL) delete c[k];
  return c as T;
}

/** `app#group`, as former names and rename marks name a group's place (names have no `#`). */
const place = (app: string, group: string) => `${app}#${group}`;
const unplace = (p: string): [string, string] => {
  const i = p.indexOf('#');
  return [p.slice(0, i), p.slice(i + 1)];
};
const { groupMissing, groupTaken, appMissing, appTaken } = catalogErrors;

/** How many times a compare-and-set is tried before a race is reported. */
const CAS_ATTEMPTS = 5;

/** How many places a group is followed through (a rename each). */
const MAX_HOPS = 20;

/**
 * The catalog's items, and how a rename moves them without transactions (docs/adr/0018-renames-and-tags.md):
 *
 * A group moves from A to B by (1) marking A `renamingTo` B, (2) writing the forward `FORMER#<A>#<id>` → B in A's
 * application, (3) writing the copy at B with `pendingFrom` A, (4) deleting A on condition that its revision is the
 * one copied (a lock taken or released, a setting or a tag changed meanwhile: the copy is removed and the move
 * redone) and (5) removing `pendingFrom`. Step 4 is the commit. A copy with `pendingFrom` is the group only once A
 * is gone and A's forward names B; until then (a move in progress, or one a crash left) it is invisible, and a
 * later create or rename of B clears it. So a crash leaves the group at exactly one of the two names.
 *
 * An application moves the same way (its item is the commit), then its groups (each as above) and revisions
 * follow; the new item keeps `pendingFrom` until they have, and whoever reads the application next finishes it.
 */
class CatalogItems extends DynamoTable {
  protected async raw(pk: string, sk: string): Promise<Raw | undefined> {
    const r = await withAwsErrors('DynamoDB GetItem', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk, sk }, ConsistentRead: true })),
    );
    return r.Item;
  }

  protected groupItem(app: string, group: string): Promise<Raw | undefined> {
    return this.raw(`APP#${app}`, `DG#${group}`);
  }

  /** A conditional write that reports a failed condition as false. */
  protected async tryWrite(command: PutCommand | UpdateCommand | DeleteCommand, what: string): Promise<boolean> {
    try {
      await this.doc.send(command as never);
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw mapAwsError(e, what);
    }
  }

  /** Whether a copy a move wrote (`pendingFrom`) is the item yet: its source gone, and the forward naming it. */
  protected async committed(item: Raw, kind: 'group' | 'app'): Promise<boolean> {
    const from = String(item.pendingFrom);
    if (kind === 'app') {
      const source = await this.raw(`APP#${from}`, 'APP');
      if (source?.applicationId === item.applicationId) return false;
      const forward = await this.raw(`APP#${from}`, 'MOVEDTO');
      return forward?.to === item.applicationName && forward?.applicationId === item.applicationId;
    }
    const [app, group] = unplace(from);
    const id = String(item.deploymentGroupId);
    const source = await this.groupItem(app, group);
    if (source?.deploymentGroupId === id) return false;
    const forward = await this.raw(`APP#${app}`, `FORMER#${group}#${id}`);
    return forward?.to === place(String(item.applicationName), String(item.deploymentGroupName));
  }

  /**
   * The item as readers see it: undefined for a copy whose move has not committed; a committed copy loses its
   * `pendingFrom` (a move a crash cut short after its commit).
   */
  protected async visible(item: Raw | undefined, kind: 'group' | 'app'): Promise<Raw | undefined> {
    if (!item || item.pendingFrom === undefined) return item;
    if (!(await this.committed(item, kind))) return undefined;
    if (kind === 'app') await this.finishApplication(String(item.pendingFrom), String(item.applicationName));
    else await this.confirm(item);
    return item;
  }

  private async confirm(item: Raw): Promise<void> {
    await this.tryWrite(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: item.pk, sk: item.sk },
        UpdateExpression: 'REMOVE pendingFrom',
        ConditionExpression: 'pendingFrom = :from',
        ExpressionAttributeValues: { ':from': item.pendingFrom },
      }),
      'DynamoDB UpdateItem',
    );
    delete item.pendingFrom;
  }

  /** Remove a copy that is not the item (its move did not commit), if it is still that copy. */
  protected async dropCopy(item: Raw): Promise<void> {
    await this.tryWrite(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: item.pk, sk: item.sk },
        ConditionExpression: 'pendingFrom = :from',
        ExpressionAttributeValues: { ':from': item.pendingFrom },
      }),
      'DynamoDB DeleteItem',
    );
  }

  /** The group of `id`, starting at `app`/`group` and following its forwards; undefined when it is gone. */
  protected async locate(app: string, group: string, id: string): Promise<Raw | undefined> {
    let [a, g] = [app, group];
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const item = await this.visible(await this.groupItem(a, g), 'group');
      if (item?.deploymentGroupId === id) return item;
      const forward = await this.raw(`APP#${a}`, `FORMER#${g}#${id}`);
      if (!forward) return undefined;
      [a, g] = unplace(String(forward.to));
    }
    return undefined;
  }

  /**
   * Move group item `src` to `toApp`/`toName` (steps 1-5 above). Returns false when `src` changed before the
   * commit (the caller reads it again and retries). @throws ApiError DeploymentGroupAlreadyExistsException
   */
  protected async moveGroup(src: Raw, toApp: string, toName: string): Promise<boolean> {
    const [fromApp, fromName] = [String(src.applicationName), String(src.deploymentGroupName)];
    const id = String(src.deploymentGroupId);
    const from = place(fromApp, fromName);
    const to = place(toApp, toName);
    const revision = src.itemRevision === undefined ? {} : { ':rev': src.itemRevision };
    const sameRevision = src.itemRevision === undefined ? 'attribute_not_exists(itemRevision)' : 'itemRevision = :rev';
    // A copy already at the target: ours from a try a crash cut short (redone), a stale one (cleared), or a group.
    const there = await this.groupItem(toApp, toName);
    if (there) {
      if (there.pendingFrom !== undefined && !(await this.committed(there, 'group'))) await this.dropCopy(there);
      else throw groupTaken(toApp, toName);
    }
    const marked = await this.tryWrite(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: src.pk, sk: src.sk },
        UpdateExpression: 'SET renamingTo = :to',
        ConditionExpression: `deploymentGroupId = :id AND ${sameRevision}`,
        ExpressionAttributeValues: { ':to': to, ':id': id, ...revision },
      }),
      'DynamoDB UpdateItem',
    );
    if (!marked) return false;
    await withAwsErrors('DynamoDB PutItem', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `APP#${fromApp}`, sk: `FORMER#${fromName}#${id}`, deploymentGroupId: id, to },
        }),
      ),
    );
    const { renamingTo: _r, ...rest } = src;
    const former = [...((src.formerNames as string[] | undefined) ?? []).filter((f) => f !== to), from];
    const copied = await this.putNew({
      ...rest,
      pk: `APP#${toApp}`,
      sk: `DG#${toName}`,
      applicationName: toApp,
      deploymentGroupName: toName,
      formerNames: former,
      pendingFrom: from,
    });
    if (!copied) throw groupTaken(toApp, toName);
    const moved = await this.tryWrite(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: src.pk, sk: src.sk },
        ConditionExpression: `deploymentGroupId = :id AND renamingTo = :to AND ${sameRevision}`,
        ExpressionAttributeValues: { ':id': id, ':to': to, ...revision },
      }),
      'DynamoDB DeleteItem',
    );
    const copy = { pk: `APP#${toApp}`, sk: `DG#${toName}`, pendingFrom: from };
    if (!moved) {
      await this.dropCopy(copy);
      return false;
    }
    await this.confirm(copy);
    return true;
  }

  /** An application's committed move: its groups and revisions follow, then the new item is confirmed. */
  protected async finishApplication(from: string, to: string): Promise<void> {
    const rest = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `APP#${from}` },
      ConsistentRead: true,
    });
    for (const item of rest) {
      const sk = String(item.sk);
      if (sk.startsWith('DG#')) {
        for (let attempt = 0; ; attempt++) {
          // A copy some rename inside the old application left uncommitted stays behind, invisible.
          const src = await this.visible(attempt === 0 ? item : await this.raw(`APP#${from}`, sk), 'group');
          if (!src || (await this.moveGroup(src, to, String(src.deploymentGroupName)))) break;
          if (attempt >= CAS_ATTEMPTS)
            throw new InternalError(`deployment group ${from}/${sk.slice(3)} kept changing; try again`);
        }
      } else if (sk.startsWith('REV#')) {
        // A revision registered under the new name meanwhile wins; its usage is not merged.
        await this.putNew({ ...item, pk: `APP#${to}` });
        await this.deleteIfExists(`APP#${from}`, sk);
      }
    }
    await this.tryWrite(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `APP#${to}`, sk: 'APP' },
        UpdateExpression: 'REMOVE pendingFrom',
        ConditionExpression: 'pendingFrom = :from',
        ExpressionAttributeValues: { ':from': from },
      }),
      'DynamoDB UpdateItem',
    );
  }
}

/** The item key of a taggable resource. */
function resourceKey(r: TaggableResource): { pk: string; sk: string } {
  if (r.kind === 'application') return { pk: `APP#${r.applicationName}`, sk: 'APP' };
  if (r.kind === 'deploymentGroup') return { pk: `APP#${r.applicationName}`, sk: `DG#${r.deploymentGroupName}` };
  return { pk: `CONFIG#${r.deploymentConfigName}`, sk: 'CONFIG' };
}

/** Applications, deployment groups, custom configurations, registered revisions and their tags. */
export class DynamoCatalog extends CatalogItems implements Catalog {
  async createApplication(app: Application, tags: Tag[] = []): Promise<void> {
    const item = {
      pk: `APP#${app.applicationName}`,
      sk: 'APP',
      gsi1pk: 'APPLICATIONS',
      gsi1sk: app.applicationName,
      ...app,
      resourceTags: tags,
    };
    if (await this.putNew(item)) return;
    // A copy a move left (not committed) does not hold the name.
    const there = await this.raw(item.pk, 'APP');
    if (there?.pendingFrom === undefined || (await this.committed(there, 'app'))) throw appTaken(app.applicationName);
    await this.dropCopy(there);
    if (!(await this.putNew(item))) throw appTaken(app.applicationName);
  }

  async getApplication(name: string): Promise<Application | undefined> {
    return catalogOut<Application>(await this.visible(await this.raw(`APP#${name}`, 'APP'), 'app'));
  }

  async createDeploymentGroup(group: DeploymentGroup, tags: Tag[] = []): Promise<void> {
    const item = {
      pk: `APP#${group.applicationName}`,
      sk: `DG#${group.deploymentGroupName}`,
      ...group,
      resourceTags: tags,
    };
    if (await this.putNew(item)) return;
    const there = await this.groupItem(group.applicationName, group.deploymentGroupName);
    if (there?.pendingFrom === undefined || (await this.committed(there, 'group')))
      throw groupTaken(group.applicationName, group.deploymentGroupName);
    await this.dropCopy(there);
    if (!(await this.putNew(item))) throw groupTaken(group.applicationName, group.deploymentGroupName);
  }

  async updateDeploymentGroup(group: GroupInput): Promise<void> {
    const patch = Object.fromEntries(GROUP_SETTINGS.map((k) => [k, group[k]]));
    const u = updateExpression(patch, ['itemRevision = if_not_exists(itemRevision, :zero) + :one']);
    for (let attempt = 0; attempt < 2; attempt++) {
      const done = await this.tryWrite(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${group.applicationName}`, sk: `DG#${group.deploymentGroupName}` },
          UpdateExpression: u.expr,
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(pendingFrom)',
          ExpressionAttributeNames: u.names,
          ExpressionAttributeValues: { ...u.values, ':zero': 0, ':one': 1 },
        }),
        'DynamoDB UpdateItem',
      );
      if (done) return;
      // A copy whose move committed but was not confirmed is confirmed by reading it; then try again.
      if (!(await this.visible(await this.groupItem(group.applicationName, group.deploymentGroupName), 'group'))) break;
    }
    throw groupMissing(group.applicationName, group.deploymentGroupName);
  }

  async getDeploymentGroup(app: string, group: string, groupId?: string): Promise<DeploymentGroup | undefined> {
    const here = await this.visible(await this.groupItem(app, group), 'group');
    if (groupId === undefined || here?.deploymentGroupId === groupId) return catalogOut<DeploymentGroup>(here);
    return catalogOut<DeploymentGroup>(await this.locate(app, group, groupId));
  }

  async renameDeploymentGroup(app: string, from: string, to: string): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const src = await this.visible(await this.groupItem(app, from), 'group');
      if (!src) throw groupMissing(app, from);
      if (from === to) return;
      if (await this.moveGroup(src, app, to)) return;
    }
    throw new InternalError(`deployment group ${app}/${from} kept changing while it was renamed; try again`);
  }

  async renameApplication(from: string, to: string): Promise<void> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const src = await this.visible(await this.raw(`APP#${from}`, 'APP'), 'app');
      if (!src) throw appMissing(from);
      if (from === to) return;
      const there = await this.raw(`APP#${to}`, 'APP');
      if (there) {
        if (there.pendingFrom !== undefined && !(await this.committed(there, 'app'))) await this.dropCopy(there);
        else throw appTaken(to);
      }
      const id = src.applicationId;
      const marked = await this.tryWrite(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${from}`, sk: 'APP' },
          UpdateExpression: 'SET renamingTo = :to',
          ConditionExpression: 'applicationId = :id',
          ExpressionAttributeValues: { ':to': to, ':id': id },
        }),
        'DynamoDB UpdateItem',
      );
      if (!marked) continue;
      await withAwsErrors('DynamoDB PutItem', () =>
        this.doc.send(
          new PutCommand({ TableName: this.table, Item: { pk: `APP#${from}`, sk: 'MOVEDTO', applicationId: id, to } }),
        ),
      );
      const { renamingTo: _r, ...rest } = src;
      if (!(await this.putNew({ ...rest, pk: `APP#${to}`, gsi1sk: to, applicationName: to, pendingFrom: from })))
        throw appTaken(to);
      const committed = await this.tryWrite(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: `APP#${from}`, sk: 'APP' },
          ConditionExpression: 'applicationId = :id AND renamingTo = :to',
          ExpressionAttributeValues: { ':id': id, ':to': to },
        }),
        'DynamoDB DeleteItem',
      );
      if (!committed) {
        await this.dropCopy({ pk: `APP#${to}`, sk: 'APP', pendingFrom: from });
        continue;
      }
      await this.finishApplication(from, to);
      return;
    }
    throw new InternalError(`application ${from} kept changing while it was renamed; try again`);
  }

  async createDeploymentConfig(config: DeploymentConfig): Promise<void> {
    if (
      !(await this.putNew({
        pk: `CONFIG#${config.deploymentConfigName}`,
        sk: 'CONFIG',
        gsi1pk: 'CONFIGS',
        gsi1sk: config.deploymentConfigName,
        ...config,
        resourceTags: [],
      }))
    ) {
      throw new ApiError(
        'DeploymentConfigAlreadyExistsException',
        `Deployment configuration ${config.deploymentConfigName} already exists`,
      );
    }
  }

  async getDeploymentConfig(name: string): Promise<DeploymentConfig | undefined> {
    return catalogOut<DeploymentConfig>(await this.raw(`CONFIG#${name}`, 'CONFIG'));
  }

  async listApplications(): Promise<Application[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'APPLICATIONS' },
    });
    const shown = await Promise.all(items.map((i) => this.visible(i, 'app')));
    return shown.flatMap((i) => (i ? [catalogOut<Application>(i)!] : []));
  }

  async deleteApplication(name: string): Promise<void> {
    for (const g of await this.listDeploymentGroups(name))
      await this.deleteDeploymentGroup(name, g.deploymentGroupName);
    // A move of it a crash cut short before its commit left a copy: it goes too, before the item it copies.
    const app = await this.raw(`APP#${name}`, 'APP');
    if (app?.renamingTo !== undefined) {
      const copy = await this.raw(`APP#${String(app.renamingTo)}`, 'APP');
      if (copy?.pendingFrom === name && copy.applicationId === app.applicationId) await this.dropCopy(copy);
    }
    await this.deleteIfExists(`APP#${name}`, 'APP');
  }

  async listDeploymentGroups(app: string): Promise<DeploymentGroup[]> {
    // Reading the application finishes a move of it a crash cut short.
    await this.visible(await this.raw(`APP#${app}`, 'APP'), 'app');
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :g)',
      ExpressionAttributeValues: { ':pk': `APP#${app}`, ':g': 'DG#' },
      ConsistentRead: true,
    });
    const shown = await Promise.all(items.map((i) => this.visible(i, 'group')));
    return shown.flatMap((i) => (i ? [catalogOut<DeploymentGroup>(i)!] : []));
  }

  async deleteDeploymentGroup(app: string, group: string): Promise<void> {
    const g = await this.groupItem(app, group);
    if (!g) return;
    if (g.pendingFrom !== undefined && !(await this.committed(g, 'group'))) return; // not a group (yet)
    if (g.activeDeploymentId !== undefined)
      throw new ApiError(
        'InvalidOperationException',
        `Deployment group ${group} has an active deployment ${String(g.activeDeploymentId)}; stop it first`,
      );
    // A copy a move left before its commit would become the group once this one is gone: it goes first.
    if (g.renamingTo !== undefined) {
      const [toApp, toName] = unplace(String(g.renamingTo));
      const copy = await this.groupItem(toApp, toName);
      if (copy?.pendingFrom === place(app, group) && copy.deploymentGroupId === g.deploymentGroupId)
        await this.dropCopy(copy);
    }
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
      const now = await this.getDeploymentGroup(app, group);
      throw new ApiError(
        'InvalidOperationException',
        `Deployment group ${group} has an active deployment ${now?.activeDeploymentId ?? ''}; stop it first`,
      );
    }
  }

  async listDeploymentConfigs(): Promise<DeploymentConfig[]> {
    const items = await this.query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :p',
      ExpressionAttributeValues: { ':p': 'CONFIGS' },
    });
    return items.map((i) => catalogOut<DeploymentConfig>(i)!);
  }

  async deleteDeploymentConfig(name: string): Promise<void> {
    await this.deleteIfExists(`CONFIG#${name}`, 'CONFIG');
  }

  /** The resource's item as readers see it. */
  private async resource(r: TaggableResource): Promise<Raw | undefined> {
    const { pk, sk } = resourceKey(r);
    return this.visible(await this.raw(pk, sk), r.kind === 'application' ? 'app' : 'group');
  }

  async listTags(resource: TaggableResource): Promise<Tag[] | undefined> {
    const item = await this.resource(resource);
    return item && ((item.resourceTags as Tag[] | undefined) ?? []);
  }

  async updateTags(resource: TaggableResource, change: (tags: Tag[]) => Tag[]): Promise<Tag[]> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const item = await this.resource(resource);
      if (!item) throw missingResource(resource);
      const tags = change(((item.resourceTags as Tag[] | undefined) ?? []).map((t) => ({ ...t })));
      const version = item.tagsVersion;
      const written = await this.tryWrite(
        new UpdateCommand({
          TableName: this.table,
          Key: resourceKey(resource),
          UpdateExpression:
            'SET resourceTags = :tags, tagsVersion = :next, itemRevision = if_not_exists(itemRevision, :zero) + :one',
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(pendingFrom) AND ${version === undefined ? 'attribute_not_exists(tagsVersion)' : 'tagsVersion = :v'}`,
          ExpressionAttributeValues: {
            ':tags': tags,
            ':next': (typeof version === 'number' ? version : 0) + 1,
            ':zero': 0,
            ':one': 1,
            ...(version === undefined ? {} : { ':v': version }),
          },
        }),
        'DynamoDB UpdateItem',
      );
      if (written) return tags;
    }
    throw new InternalError('the tags kept changing; try again');
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
export class DynamoGroupLocks extends CatalogItems implements GroupLocks {
  async acquire(app: string, group: string, deploymentId: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      // Not on a rename's copy before it is the group (see CatalogItems).
      const taken = await this.tryWrite(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `APP#${app}`, sk: `DG#${group}` },
          UpdateExpression: 'SET activeDeploymentId = :id, itemRevision = if_not_exists(itemRevision, :zero) + :one',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(pendingFrom) AND (attribute_not_exists(activeDeploymentId) OR activeDeploymentId = :id)',
          ExpressionAttributeValues: { ':id': deploymentId, ':zero': 0, ':one': 1 },
        }),
        'DynamoDB UpdateItem',
      );
      if (taken) return;
      const raw = await this.groupItem(app, group);
      const wasCopy = raw?.pendingFrom !== undefined;
      const g = await this.visible(raw, 'group');
      // A copy confirmed just now (its rename's commit had happened): take the lock on it.
      if (g && wasCopy && attempt === 0) continue;
      if (!g)
        throw new ApiError(
          'DeploymentGroupDoesNotExistException',
          `Deployment group ${group} does not exist in application ${app}`,
        );
      throw new ApiError(
        'DeploymentLimitExceededException',
        `The Deployment Group '${group}' already has an active Deployment '${String(g.activeDeploymentId ?? 'unknown')}'`,
      );
    }
  }

  async release(
    app: string,
    group: string,
    deploymentId: string,
    outcome: LockOutcome,
    groupId?: string,
  ): Promise<void> {
    if (groupId !== undefined) {
      // Where renames took the group: its name now, when it is not where the deployment began.
      const here = await this.locate(app, group, groupId);
      if (here) [app, group] = [String(here.applicationName), String(here.deploymentGroupName)];
    }
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
          UpdateExpression: `SET ${set.join(', ')}, itemRevision = if_not_exists(itemRevision, :zero) + :one REMOVE activeDeploymentId`,
          ConditionExpression: 'activeDeploymentId = :id',
          ExpressionAttributeValues: { ...values, ':id': deploymentId, ':zero': 0, ':one': 1 },
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
              UpdateExpression:
                'SET lastAttemptedDeployment = :s, itemRevision = if_not_exists(itemRevision, :zero) + :one',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeValues: { ':s': summary, ':zero': 0, ':one': 1 },
            }),
          )
          .catch((x: unknown) => (isConditionFailure(x) ? undefined : Promise.reject(x))),
      );
    }
  }
}

/** Deployment records: the spec written once, the state changed by compare-and-set. */
export class DynamoDeployments extends CatalogItems implements Deployments {
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
    const byName = (a: string, g: string, max?: number) =>
      this.query(
        {
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :g',
          ExpressionAttributeValues: { ':g': `DG#${a}#${g}` },
          ScanIndexForward: false,
          ProjectionExpression: 'deploymentId, gsi1sk, #spec.deploymentGroupId',
          ExpressionAttributeNames: { '#spec': 'spec' },
        },
        max,
      );
    const current = await this.visible(await this.groupItem(app, group), 'group');
    const id = current?.deploymentGroupId as string | undefined;
    const former = (current?.formerNames as string[] | undefined) ?? [];
    // Groups that had this name and were renamed away: their deployments indexed here are theirs, not this one's.
    const left = new Set(
      (
        await this.query({
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :f)',
          ExpressionAttributeValues: { ':pk': `APP#${app}`, ':f': `FORMER#${group}#` },
          ConsistentRead: true,
        })
      )
        .map((f) => String(f.deploymentGroupId))
        .filter((g) => g !== id),
    );
    const idOf = (i: Record<string, unknown>) =>
      (i.spec as { deploymentGroupId?: string } | undefined)?.deploymentGroupId;
    if (!former.length && !left.size) return (await byName(app, group, limit)).map((i) => String(i.deploymentId));
    const own = (await byName(app, group)).filter((i) => !left.has(String(idOf(i))));
    const before = (await Promise.all(former.map((f) => byName(...unplace(f))))).flat().filter((i) => idOf(i) === id);
    const all = [...new Map([...own, ...before].map((i) => [String(i.deploymentId), i])).values()].sort((a, b) =>
      String(b.gsi1sk) < String(a.gsi1sk) ? -1 : String(b.gsi1sk) > String(a.gsi1sk) ? 1 : 0,
    );
    return all.slice(0, limit ?? all.length).map((i) => String(i.deploymentId));
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
