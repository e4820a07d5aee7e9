/**
 * Each task's view of the ports in local mode: only the port methods it declares (a call to any
 * other fails at once, naming the task and the method, as AccessDenied would on AWS), every call
 * reported to an observer (tests check each declared method is used somewhere), and optional
 * faults injected at any call, before it takes effect or after it did (the fault suite, faults.ts).
 * The AWS wiring needs none of this: there, the function's IAM role, derived from the same
 * declaration, is the guard.
 */
import { Platforms, PLATFORMS, type PlatformPorts } from '../platforms/index.js';
import type { Platform, StrategyMethod } from '../platforms/platform.js';
import type { Deps, PortName, Uses } from '../tasks/task.js';

/** A call as the observer sees it: the function (task or API operation) and `port.method`. */
export interface PortCall {
  caller: string;
  /** `port.method`, or `<Platform>.<port>.<method>` for a platform's own ports. */
  method: string;
}

/**
 * What `onCall` may ask of a call besides letting it run: `loseResponse` lets the call run to the
 * end (its effect happens in the world or the store) and then gives the caller this error instead
 * of the result, as a timeout or a 5xx after the request took effect would on AWS.
 */
export interface CallDirective {
  loseResponse: Error;
}

export interface Instrumentation {
  /**
   * Told of every call before it runs. May throw to fail the call before it takes effect, or
   * return a directive to fail it after (see CallDirective).
   */
  onCall?(call: PortCall): CallDirective | void;
}

/** Raised when a task calls a port method it does not declare (on AWS: AccessDenied). */
export class UndeclaredPortError extends Error {
  override readonly name = 'UndeclaredPortError';
}

const CONTEXT_KEYS = ['clock', 'ids', 'bundles', 'env', 'log'] as const;

function guardPort<T extends object>(
  port: T,
  portName: string,
  allowed: ReadonlySet<string>,
  caller: string,
  inst: Instrumentation,
): T {
  return new Proxy(port, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || typeof value !== 'function') return value;
      const method = `${portName}.${key}`;
      return (...args: unknown[]) => {
        // Every port method is asynchronous, as the adapters are: a refusal or an injected fault is
        // a rejected promise, never a throw, so a caller that starts several calls at once
        // (Promise.all over a map) sees each failure where an AWS adapter's would surface.
        if (!allowed.has(key))
          return Promise.reject(
            new UndeclaredPortError(
              `${caller} calls ${method}, which it does not declare (its IAM role would refuse it)`,
            ),
          );
        let directive: CallDirective | void;
        try {
          directive = inst.onCall?.({ caller, method });
        } catch (e) {
          return Promise.reject(e as Error);
        }
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!directive) return result;
        // The call's own failure wins: a response can only be lost if there was one.
        return Promise.resolve(result).then(() => {
          throw directive.loseResponse;
        });
      };
    },
  });
}

/**
 * The ports a caller declaring `uses` may use: the declared methods of the declared ports, and a
 * platform dispatcher whose platforms' ports allow only what the declared strategy methods use.
 */
export function portsFor(
  caller: string,
  uses: Uses,
  deps: Deps,
  platformPorts: PlatformPorts,
  inst: Instrumentation = {},
): Deps {
  const view: Record<string, unknown> = Object.fromEntries(CONTEXT_KEYS.map((k) => [k, deps[k]]));
  for (const [port, methods] of Object.entries(uses) as [PortName, readonly string[]][]) {
    if (port === 'platforms') continue;
    view[port] = guardPort(deps[port], port, new Set(methods), caller, inst);
  }
  const strategyMethods = (uses.platforms ?? []) as readonly StrategyMethod[];
  if (strategyMethods.length) {
    const guarded: Record<string, Record<string, object>> = {};
    for (const [name, ports] of Object.entries(platformPorts as unknown as Record<string, Record<string, object>>)) {
      const declared = (PLATFORMS[name as keyof typeof PLATFORMS] as unknown as Platform).uses;
      guarded[name] = Object.fromEntries(
        Object.entries(ports).map(([portName, port]) => {
          const allowed = new Set(strategyMethods.flatMap((m) => declared[m][portName as never] ?? []));
          return [portName, guardPort(port, `${name}.${portName}`, allowed, caller, inst)];
        }),
      );
    }
    const dispatcher = new Platforms(guarded as unknown as PlatformPorts);
    view.platforms = guardPort(dispatcher, 'platforms', new Set(strategyMethods), caller, inst);
  }
  return view as unknown as Deps;
}
