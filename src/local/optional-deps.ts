/**
 * Local mode's emulators: the Step Functions interpreter, DynamoDB's API and its LevelDB store. The
 * last two are optionalDependencies (package.json): npm installs them by default and `--omit=optional`
 * leaves them out, and then every command that does not run local mode (help, the API commands against
 * an endpoint, the agent, the proxy) still works. The interpreter is a plain dependency: it declares
 * `engines: node >=22`, and npm silently skips an optional package whose engines do not match, so on
 * Node 20 it would never be installed. Nothing imports them statically: each is loaded here,
 * when local mode starts, and a missing one is a LocalModeUnavailableError that says how to fix it.
 * The Lambda functions never reach this module (test/architecture checks it).
 */
import type * as AwsLocalStepFunctions from 'aws-local-stepfunctions';
import type * as Dynalite from 'dynalite';
import type * as Level from 'level';

/** The packages local mode loads, in the order the error names them. */
export const LOCAL_MODE_PACKAGES = ['aws-local-stepfunctions', 'dynalite', 'level'] as const;
export type LocalModePackage = (typeof LOCAL_MODE_PACKAGES)[number];

interface LocalModeModules {
  'aws-local-stepfunctions': typeof AwsLocalStepFunctions;
  dynalite: typeof Dynalite;
  level: typeof Level;
}

/** Literal specifiers, so each import keeps its module's types (and a bundler would see it). */
const IMPORTS: { [P in LocalModePackage]: () => Promise<LocalModeModules[P]> } = {
  'aws-local-stepfunctions': () => import('aws-local-stepfunctions'),
  dynalite: () => import('dynalite'),
  level: () => import('level'),
};

const FIX = "run 'npm install --include=optional' (or reinstall without --omit=optional)";

/** Local mode cannot start: the named packages are not installed (or not completely). */
export class LocalModeUnavailableError extends Error {
  override readonly name = 'LocalModeUnavailableError';
  constructor(
    readonly packages: readonly LocalModePackage[],
    options?: { cause?: unknown },
  ) {
    const [noun, verb] = packages.length === 1 ? ['package', 'is'] : ['packages', 'are'];
    super(`local mode needs the ${noun} ${packages.join(', ')}, which ${verb} not installed: ${FIX}`, options);
  }
}

/**
 * Whether `e` is Node's "not found" for a module (ESM or CommonJS): the package itself, or one of
 * its own dependencies (a partial install), which reinstalling fixes just the same.
 */
const notFound = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
};

/** Load one of local mode's packages; LocalModeUnavailableError when it is not installed. */
export async function loadLocalModePackage<P extends LocalModePackage>(name: P): Promise<LocalModeModules[P]> {
  const load = Object.hasOwn(IMPORTS, name) ? IMPORTS[name] : undefined;
  if (!load) throw new TypeError(`not one of local mode's packages: ${String(name)}`);
  try {
    return await load();
  } catch (e) {
    if (notFound(e)) throw new LocalModeUnavailableError([name], { cause: e });
    throw e;
  }
}

/**
 * Check, when local mode starts, that all of its packages load: one error naming every missing one,
 * so a user who omitted them installs them once rather than learning of them one by one.
 */
export async function requireLocalMode(): Promise<void> {
  const results = await Promise.allSettled(LOCAL_MODE_PACKAGES.map((p) => loadLocalModePackage(p)));
  const missing: LocalModePackage[] = [];
  const causes: unknown[] = [];
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof LocalModeUnavailableError)) throw r.reason;
    missing.push(LOCAL_MODE_PACKAGES[i]!);
    causes.push(r.reason.cause);
  }
  if (missing.length)
    throw new LocalModeUnavailableError(missing, {
      cause: causes.length === 1 ? causes[0] : new AggregateError(causes),
    });
}
