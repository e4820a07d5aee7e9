/** CodeDeploy's names of applications, deployment groups and configurations. Pure. */

/** 1-100 letters, digits and . _ + = , @ - (CodeDeploy's rule for these names). */
export const NAME_RE = /^[A-Za-z0-9._+=,@-]{1,100}$/;

/** What is wrong with a name, or undefined when it is a valid one. */
export function nameProblem(name: string): string | undefined {
  if (name.length < 1) return 'required';
  if (name.length > 100) return `at most 100 characters (got ${name.length})`;
  if (!NAME_RE.test(name)) return 'letters, digits and . _ + = , @ - only';
  return undefined;
}
