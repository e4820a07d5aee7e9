/**
 * The store's ports in memory: the same contract as the DynamoDB adapter (src/adapters/aws/
 * dynamodb-store.ts), checked against it on dynalite by test/contract/store.test.ts, which runs
 * every case on both. For the fault suite, whose thousands of runs would otherwise spend most of
 * their time in dynalite's HTTP and LevelDB; local mode and every other test use dynalite.
 *
 * What it keeps of DynamoDB's behaviour: every write is conditional with the same outcomes and
 * errors; items are copied in and out (a caller never holds the stored object), with undefined
 * values dropped as the document client drops them; queries return DynamoDB's orders (key order,
 * or newest first). Every call is asynchronous, as a network call is.
 */
import type { DeploymentConfig } from '../../domain/deployment-config.js';
import { ApiError, InternalError } from '../../domain/errors.js';
import type {
  Application,
  Deployment,
  DeploymentGroup,
  DeploymentState,
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
  LockOutcome,
  StoredRevision,
  TaggableResource,
  Timeline,
} from '../../ports/index.js';
import { catalogErrors, GROUP_SETTINGS } from '../../ports/store.js';
import { missingResource } from '../../domain/tags.js';

/** A stored copy: JSON's copy drops undefined values, as the document client's marshalling does. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** Keys sorted as DynamoDB sorts string sort keys (by UTF-8 bytes; code units for these keys). */
const byKey = <T>(entries: [string, T][]): T[] =>
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
/** Yield to the event loop once, as a round trip would: no caller may rely on a synchronous store. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface StoredRevisionItem extends Omit<StoredRevision, 'deploymentGroups'> {
  deploymentGroups: Set<string>;
}

/** The table: one map per item kind, keyed as the DynamoDB layout keys them. */
class Tables {
  readonly apps = new Map<string, Application>();
  /** `app\0group` → group. */
  readonly groups = new Map<string, DeploymentGroup>();
  readonly configs = new Map<string, DeploymentConfig>();
  /** `app\0key` → revision. */
  readonly revisions = new Map<string, StoredRevisionItem>();
  readonly deployments = new Map<string, Deployment>();
  /** `app\0group` → the ids of its deployments (what gsi1 indexes). */
  readonly byGroup = new Map<string, Set<string>>();
  /** deployment id → entries with their sort keys. */
  readonly timelines = new Map<string, { sk: string; entry: TimelineEntry }[]>();
  readonly hooks = new Map<string, HookExecution>();
  /** alarm → deployment ids. */
  readonly watches = new Map<string, Set<string>>();
  /** resourceKey → tags. */
  readonly tags = new Map<string, Tag[]>();
  /** group id → the keys (`app\0group`) it had before renames (its older deployments are indexed there). */
  readonly formerKeys = new Map<string, Set<string>>();
  /** group id → its key now, once it was renamed. */
  readonly renamed = new Map<string, string>();
}

const groupKey = (app: string, group: string) => `${app}\0${group}`;
const resourceKey = (r: TaggableResource): string =>
  r.kind === 'application'
    ? `A\0${r.applicationName}`
    : r.kind === 'deploymentGroup'
      ? `G\0${r.applicationName}\0${r.deploymentGroupName}`
      : `C\0${r.deploymentConfigName}`;
const groupTags = (app: string, group: string) =>
  resourceKey({ kind: 'deploymentGroup', applicationName: app, deploymentGroupName: group });
const { groupMissing, groupTaken } = catalogErrors;

/** The group of `id` (found at `app`/`group`, or where renames took it); what a running deployment finds. */
function findGroup(t: Tables, app: string, group: string, id?: string): DeploymentGroup | undefined {
  const g = t.groups.get(groupKey(app, group));
  if (id === undefined || g?.deploymentGroupId === id) return g;
  const now = t.renamed.get(id);
  const moved = now === undefined ? undefined : t.groups.get(now);
  return moved?.deploymentGroupId === id ? moved : undefined;
}

/** Move a group to a new key (in one step: the in-memory store has no crash between two writes). */
function moveGroup(t: Tables, from: DeploymentGroup, app: string, name: string): void {
  const oldKey = groupKey(from.applicationName, from.deploymentGroupName);
  const newKey = groupKey(app, name);
  t.groups.delete(oldKey);
  t.groups.set(newKey, { ...from, applicationName: app, deploymentGroupName: name });
  const tags = t.tags.get(groupTags(from.applicationName, from.deploymentGroupName));
  t.tags.delete(groupTags(from.applicationName, from.deploymentGroupName));
  if (tags) t.tags.set(groupTags(app, name), tags);
  const former = t.formerKeys.get(from.deploymentGroupId) ?? new Set<string>();
  former.add(oldKey);
  t.formerKeys.set(from.deploymentGroupId, former);
  t.renamed.set(from.deploymentGroupId, newKey);
}

export class MemoryCatalog implements Catalog {
  constructor(private readonly t: Tables) {}

  async createApplication(app: Application, tags: Tag[] = []): Promise<void> {
    await turn();
    if (this.t.apps.has(app.applicationName))
      throw new ApiError('ApplicationAlreadyExistsException', `Application ${app.applicationName} already exists`);
    this.t.apps.set(app.applicationName, copy(app));
    this.t.tags.set(resourceKey({ kind: 'application', applicationName: app.applicationName }), copy(tags));
  }

  async getApplication(name: string): Promise<Application | undefined> {
    await turn();
    const a = this.t.apps.get(name);
    return a && copy(a);
  }

  async listApplications(): Promise<Application[]> {
    await turn();
    return byKey([...this.t.apps].map(([k, v]) => [k, copy(v)]));
  }

  async deleteApplication(name: string): Promise<void> {
    for (const g of await this.listDeploymentGroups(name))
      await this.deleteDeploymentGroup(name, g.deploymentGroupName);
    this.t.apps.delete(name);
    this.t.tags.delete(resourceKey({ kind: 'application', applicationName: name }));
  }

  async renameApplication(from: string, to: string): Promise<void> {
    await turn();
    const app = this.t.apps.get(from);
    if (!app) throw new ApiError('ApplicationDoesNotExistException', `Application ${from} does not exist`);
    if (from === to) return;
    if (this.t.apps.has(to))
      throw new ApiError('ApplicationAlreadyExistsException', `Application ${to} already exists`);
    this.t.apps.delete(from);
    this.t.apps.set(to, { ...app, applicationName: to });
    const appTags = this.t.tags.get(resourceKey({ kind: 'application', applicationName: from }));
    this.t.tags.delete(resourceKey({ kind: 'application', applicationName: from }));
    if (appTags) this.t.tags.set(resourceKey({ kind: 'application', applicationName: to }), appTags);
    for (const g of [...this.t.groups.values()].filter((x) => x.applicationName === from))
      moveGroup(this.t, g, to, g.deploymentGroupName);
    for (const [k, r] of [...this.t.revisions].filter(([k]) => k.startsWith(`${from}\0`))) {
      this.t.revisions.delete(k);
      this.t.revisions.set(groupKey(to, r.key), r);
    }
  }

  async renameDeploymentGroup(app: string, from: string, to: string): Promise<void> {
    await turn();
    const g = this.t.groups.get(groupKey(app, from));
    if (!g) throw groupMissing(app, from);
    if (from === to) return;
    if (this.t.groups.has(groupKey(app, to))) throw groupTaken(app, to);
    moveGroup(this.t, g, app, to);
  }

  async createDeploymentGroup(group: DeploymentGroup, tags: Tag[] = []): Promise<void> {
    await turn();
    const key = groupKey(group.applicationName, group.deploymentGroupName);
    if (this.t.groups.has(key)) throw groupTaken(group.applicationName, group.deploymentGroupName);
    this.t.groups.set(key, copy(group));
    this.t.tags.set(groupTags(group.applicationName, group.deploymentGroupName), copy(tags));
  }

  async updateDeploymentGroup(group: GroupInput): Promise<void> {
    await turn();
    const cur = this.t.groups.get(groupKey(group.applicationName, group.deploymentGroupName));
    if (!cur)
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${group.deploymentGroupName} does not exist in application ${group.applicationName}`,
      );
    const next: Record<string, unknown> = { ...cur };
    for (const k of GROUP_SETTINGS) {
      if (group[k] === undefined) delete next[k];
      else next[k] = copy(group[k]);
    }
    this.t.groups.set(groupKey(group.applicationName, group.deploymentGroupName), next as unknown as DeploymentGroup);
  }

  async getDeploymentGroup(app: string, group: string, groupId?: string): Promise<DeploymentGroup | undefined> {
    await turn();
    const g = findGroup(this.t, app, group, groupId);
    return g && copy(g);
  }

  async listDeploymentGroups(app: string): Promise<DeploymentGroup[]> {
    await turn();
    return byKey(
      [...this.t.groups.values()]
        .filter((g) => g.applicationName === app)
        .map((g) => [`DG#${g.deploymentGroupName}`, copy(g)]),
    );
  }

  async deleteDeploymentGroup(app: string, group: string): Promise<void> {
    await turn();
    const g = this.t.groups.get(groupKey(app, group));
    if (g?.activeDeploymentId)
      throw new ApiError(
        'InvalidOperationException',
        `Deployment group ${group} has an active deployment ${g.activeDeploymentId}; stop it first`,
      );
    this.t.groups.delete(groupKey(app, group));
    this.t.tags.delete(groupTags(app, group));
  }

  async createDeploymentConfig(config: DeploymentConfig): Promise<void> {
    await turn();
    if (this.t.configs.has(config.deploymentConfigName))
      throw new ApiError(
        'DeploymentConfigAlreadyExistsException',
        `Deployment configuration ${config.deploymentConfigName} already exists`,
      );
    this.t.configs.set(config.deploymentConfigName, copy(config));
  }

  async getDeploymentConfig(name: string): Promise<DeploymentConfig | undefined> {
    await turn();
    const c = this.t.configs.get(name);
    return c && copy(c);
  }

  async listDeploymentConfigs(): Promise<DeploymentConfig[]> {
    await turn();
    return byKey([...this.t.configs].map(([k, v]) => [k, copy(v)]));
  }

  async deleteDeploymentConfig(name: string): Promise<void> {
    await turn();
    this.t.configs.delete(name);
    this.t.tags.delete(resourceKey({ kind: 'deploymentConfig', deploymentConfigName: name }));
  }

  async listTags(resource: TaggableResource): Promise<Tag[] | undefined> {
    await turn();
    if (!this.exists(resource)) return undefined;
    return copy(this.t.tags.get(resourceKey(resource)) ?? []);
  }

  async updateTags(resource: TaggableResource, change: (tags: Tag[]) => Tag[]): Promise<Tag[]> {
    await turn();
    if (!this.exists(resource)) throw missingResource(resource);
    const next = copy(change(copy(this.t.tags.get(resourceKey(resource)) ?? [])));
    this.t.tags.set(resourceKey(resource), next);
    return copy(next);
  }

  private exists(r: TaggableResource): boolean {
    if (r.kind === 'application') return this.t.apps.has(r.applicationName);
    if (r.kind === 'deploymentGroup') return this.t.groups.has(groupKey(r.applicationName, r.deploymentGroupName));
    return this.t.configs.has(r.deploymentConfigName);
  }

  async registerRevision(
    app: string,
    key: string,
    revision: RevisionLocation,
    description: string | undefined,
    at: string,
  ): Promise<void> {
    await turn();
    const cur = this.t.revisions.get(groupKey(app, key));
    this.t.revisions.set(groupKey(app, key), {
      ...(cur ?? { deploymentGroups: new Set<string>() }),
      key,
      revision: copy(revision),
      registerTime: cur?.registerTime ?? at,
      ...(description !== undefined ? { description } : {}),
    });
  }

  async recordRevisionUse(
    app: string,
    key: string,
    revision: RevisionLocation,
    group: string,
    at: string,
  ): Promise<void> {
    await turn();
    const cur = this.t.revisions.get(groupKey(app, key));
    this.t.revisions.set(groupKey(app, key), {
      ...cur,
      key,
      revision: cur?.revision ?? copy(revision),
      firstUsedTime: cur?.firstUsedTime ?? at,
      lastUsedTime: at,
      deploymentGroups: new Set([...(cur?.deploymentGroups ?? []), group]),
    });
  }

  async getRevision(app: string, key: string): Promise<StoredRevision | undefined> {
    await turn();
    const r = this.t.revisions.get(groupKey(app, key));
    return r && revisionOut(r);
  }

  async listRevisions(app: string): Promise<StoredRevision[]> {
    await turn();
    return byKey(
      [...this.t.revisions]
        .filter(([k]) => k.startsWith(`${app}\0`))
        .map(([, r]) => [`REV#${r.key}`, revisionOut(r)] as [string, StoredRevision]),
    );
  }
}

function revisionOut(r: StoredRevisionItem): StoredRevision {
  return { ...copy({ ...r, deploymentGroups: [] }), deploymentGroups: [...r.deploymentGroups].sort() };
}

export class MemoryDeployments implements Deployments {
  constructor(private readonly t: Tables) {}

  async create(d: Deployment): Promise<void> {
    await turn();
    if (this.t.deployments.has(d.deploymentId)) throw new InternalError(`deployment ${d.deploymentId} already exists`);
    this.t.deployments.set(d.deploymentId, copy(d));
    const key = groupKey(d.spec.applicationName, d.spec.deploymentGroupName);
    this.t.byGroup.set(key, (this.t.byGroup.get(key) ?? new Set()).add(d.deploymentId));
  }

  async get(id: string): Promise<Deployment | undefined> {
    await turn();
    const d = this.t.deployments.get(id);
    return d && copy(d);
  }

  async update(id: string, expectedVersion: number, patch: Partial<DeploymentState>): Promise<Deployment> {
    await turn();
    const d = this.t.deployments.get(id);
    if (!d || d.state.version !== expectedVersion)
      throw new InternalError(`deployment ${id} was changed concurrently (expected version ${expectedVersion})`);
    const { version: _v, ...rest } = patch;
    const state: Record<string, unknown> = { ...d.state };
    for (const [k, v] of Object.entries(rest)) {
      if (v === undefined) delete state[k];
      else state[k] = copy(v);
    }
    state.version = expectedVersion + 1;
    const next = { ...d, state: state as unknown as DeploymentState };
    this.t.deployments.set(id, next);
    return copy(next);
  }

  async list(app: string, group: string, limit?: number): Promise<string[]> {
    await turn();
    // The group's own deployments: under its name now and the names it had (renames), not those of another
    // group that had its name before.
    const here = groupKey(app, group);
    const g = this.t.groups.get(here);
    const gone = (d: Deployment) =>
      d.spec.deploymentGroupId !== g?.deploymentGroupId &&
      (this.t.formerKeys.get(d.spec.deploymentGroupId)?.has(here) ?? false);
    const own = [...(this.t.byGroup.get(here) ?? [])].map((id) => this.t.deployments.get(id)!).filter((d) => !gone(d));
    const before = [...(g ? (this.t.formerKeys.get(g.deploymentGroupId) ?? []) : [])]
      .flatMap((k) => [...(this.t.byGroup.get(k) ?? [])])
      .map((id) => this.t.deployments.get(id)!)
      .filter((d) => d.spec.deploymentGroupId === g!.deploymentGroupId);
    const ours = [...new Map([...own, ...before].map((d) => [d.deploymentId, d])).values()].map(
      (d) => [`${d.spec.createTime}#${d.deploymentId}`, d.deploymentId] as [string, string],
    );
    const newestFirst = byKey(ours).reverse();
    return limit === undefined ? newestFirst : newestFirst.slice(0, limit);
  }

  async discard(id: string): Promise<boolean> {
    await turn();
    const d = this.t.deployments.get(id);
    if (d?.state.status !== 'Created') return false;
    this.t.deployments.delete(id);
    this.t.byGroup.get(groupKey(d.spec.applicationName, d.spec.deploymentGroupName))?.delete(id);
    return true;
  }
}

export class MemoryGroupLocks implements GroupLocks {
  constructor(private readonly t: Tables) {}

  async acquire(app: string, group: string, deploymentId: string): Promise<void> {
    await turn();
    const g = this.t.groups.get(groupKey(app, group));
    if (!g)
      throw new ApiError(
        'DeploymentGroupDoesNotExistException',
        `Deployment group ${group} does not exist in application ${app}`,
      );
    if (g.activeDeploymentId && g.activeDeploymentId !== deploymentId)
      throw new ApiError(
        'DeploymentLimitExceededException',
        `The Deployment Group '${group}' already has an active Deployment '${g.activeDeploymentId}'`,
      );
    g.activeDeploymentId = deploymentId;
  }

  async release(
    app: string,
    group: string,
    deploymentId: string,
    outcome: LockOutcome,
    groupId?: string,
  ): Promise<void> {
    await turn();
    const g = findGroup(this.t, app, group, groupId);
    if (!g) return;
    const summary = copy({
      deploymentId,
      status: outcome.status,
      createTime: outcome.createTime,
      ...(outcome.endTime ? { endTime: outcome.endTime } : {}),
    });
    g.lastAttemptedDeployment = summary;
    // Only the holder's release frees the lock and records a success on the group.
    if (g.activeDeploymentId !== deploymentId) return;
    delete g.activeDeploymentId;
    if (outcome.status === 'Succeeded') {
      g.lastSuccessfulDeployment = summary;
      if (outcome.revision) g.lastSuccessfulRevision = copy(outcome.revision);
    }
  }
}

export class MemoryHookExecutions implements HookExecutions {
  constructor(private readonly t: Tables) {}

  async put(h: HookExecution): Promise<void> {
    await turn();
    if (this.t.hooks.has(h.idHash)) throw new InternalError('hook execution id collided');
    this.t.hooks.set(h.idHash, copy(h));
  }

  async get(id: string): Promise<HookExecution | undefined> {
    await turn();
    const h = this.t.hooks.get(id);
    return h && copy(h);
  }

  async complete(id: string, status: 'Succeeded' | 'Failed'): Promise<boolean> {
    await turn();
    const h = this.t.hooks.get(id);
    if (h?.status !== 'InProgress') return false;
    h.status = status;
    return true;
  }
}

/** Entries appended in this process, counted (as the DynamoDB adapter orders equal timestamps). */
let appended = 0;

export class MemoryTimeline implements Timeline {
  constructor(private readonly t: Tables) {}

  async append(id: string, entry: TimelineEntry): Promise<void> {
    await turn();
    const sk = `T#${entry.at}#${String(appended++).padStart(12, '0')}`;
    const list = this.t.timelines.get(id) ?? [];
    list.push({ sk, entry: copy(entry) });
    this.t.timelines.set(id, list);
  }

  async list(id: string): Promise<TimelineEntry[]> {
    await turn();
    return byKey((this.t.timelines.get(id) ?? []).map(({ sk, entry }) => [sk, copy(entry)]));
  }
}

export class MemoryAlarmWatches implements AlarmWatches {
  constructor(private readonly t: Tables) {}

  async watch(deploymentId: string, alarmNames: string[]): Promise<void> {
    await turn();
    for (const name of alarmNames) {
      const set = this.t.watches.get(name) ?? new Set<string>();
      set.add(deploymentId);
      this.t.watches.set(name, set);
    }
  }

  async unwatch(deploymentId: string, alarmNames: string[]): Promise<void> {
    await turn();
    for (const name of alarmNames) this.t.watches.get(name)?.delete(deploymentId);
  }

  async watching(alarmName: string): Promise<string[]> {
    await turn();
    return byKey([...(this.t.watches.get(alarmName) ?? [])].map((id) => [`DEP#${id}`, id]));
  }
}

/** Every store port over one set of in-memory tables. */
export function createMemoryStore() {
  const t = new Tables();
  return {
    catalog: new MemoryCatalog(t),
    deployments: new MemoryDeployments(t),
    locks: new MemoryGroupLocks(t),
    hookExecutions: new MemoryHookExecutions(t),
    timeline: new MemoryTimeline(t),
    alarmWatches: new MemoryAlarmWatches(t),
  };
}
