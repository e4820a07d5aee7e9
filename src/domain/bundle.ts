/**
 * Revision bundles: a bare AppSpec (.yaml/.yml/.json) or an archive (.zip, .tar, .tar.gz/.tgz)
 * with appspec.yml / appspec.yaml / appspec.json at its root. The rules; reading archives is an
 * adapter's (src/adapters/system/bundles.ts, behind the Bundles port). Pure.
 */

export type BundleType = 'YAML' | 'JSON' | 'zip' | 'tar' | 'tgz';
/** Largest bundle read (a Lambda/ECS revision is an AppSpec, not an application). */
export const MAX_BUNDLE_BYTES = 10 * 1024 * 1024;
export const APPSPEC_NAMES = ['appspec.yml', 'appspec.yaml', 'appspec.json'] as const;

/** The bundle type an object key implies, or undefined when it is not a revision. */
export function bundleTypeOf(key: string): BundleType | undefined {
  const k = key.toLowerCase();
  if (k.endsWith('.yaml') || k.endsWith('.yml')) return 'YAML';
  if (k.endsWith('.json')) return 'JSON';
  if (k.endsWith('.zip')) return 'zip';
  if (k.endsWith('.tar.gz') || k.endsWith('.tgz')) return 'tgz';
  if (k.endsWith('.tar')) return 'tar';
  return undefined;
}
