/**
 * Secrets on this machine (local mode): one file per owner in a private folder of the state folder
 * (`<state>/secrets`, mode 0700, files 0600), written atomically; in memory without a folder. The
 * same references and behaviour as the SSM adapter (src/adapters/aws/ssm-secrets.ts), so the
 * store's records are the same shape locally and on AWS.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DependencyRejectedError } from '../../domain/errors.js';
import type { Secrets } from '../../ports/index.js';
import { checkedOwner, referenceOf, SECRET_GONE } from './secret-refs.js';

/** The prefix of local references (as `/cutover/<stage>/webhook-secrets` is on AWS). */
export const LOCAL_SECRETS_PREFIX = '/cutover/local/webhook-secrets';
/** Parameter Store keeps an owner's 100 latest versions; so do these. */
const KEPT_VERSIONS = 100;

/** An owner's values by version, and the last version given out (versions are never reused). */
interface Versions {
  latest: number;
  values: Record<string, string>;
}

export class FileSecrets implements Secrets {
  private readonly memory = new Map<string, Versions>();

  /** `dir`: the folder to keep them in; none: memory only (tests, sessions without a state folder). */
  constructor(private readonly dir?: string) {
    if (dir) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
    }
  }

  async put(owner: string, value: string): Promise<string> {
    const o = checkedOwner(owner);
    const cur = this.read(o) ?? { latest: 0, values: {} };
    const version = cur.latest + 1;
    const values: Record<string, string> = { ...cur.values, [String(version)]: value };
    for (const v of Object.keys(values)) if (Number(v) <= version - KEPT_VERSIONS) delete values[v];
    this.write(o, { latest: version, values });
    return `${LOCAL_SECRETS_PREFIX}/${o}:${version}`;
  }

  async get(ref: string): Promise<string> {
    const { owner, version } = referenceOf(ref, LOCAL_SECRETS_PREFIX);
    const values = this.read(owner)?.values;
    const value = values && Object.hasOwn(values, String(version)) ? values[String(version)] : undefined;
    if (value === undefined) throw new DependencyRejectedError(SECRET_GONE, 'ParameterNotFound');
    return value;
  }

  async remove(owner: string): Promise<void> {
    const o = checkedOwner(owner);
    this.memory.delete(o);
    if (this.dir) rmSync(join(this.dir, `${o}.json`), { force: true });
  }

  private read(owner: string): Versions | undefined {
    if (!this.dir) return this.memory.get(owner);
    const file = join(this.dir, `${owner}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Versions) : undefined;
  }

  private write(owner: string, versions: Versions): void {
    if (!this.dir) {
      this.memory.set(owner, versions);
      return;
    }
    // Written beside and renamed: a crash leaves the old file or the new one, never half of one.
    const file = join(this.dir, `${owner}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(versions), { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
  }
}
