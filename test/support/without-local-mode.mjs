// `node --import ./test/support/without-local-mode.mjs`: the process resolves local mode's optional
// packages as if they were not installed (`npm install --omit=optional`). CUTOVER_HIDE_PACKAGES
// (comma-separated) hides only those; by default all three.
import { register } from 'node:module';

const hidden = (process.env.CUTOVER_HIDE_PACKAGES ?? 'aws-local-stepfunctions,dynalite,level').split(',');
const hooks = `
const hidden = ${JSON.stringify(hidden)};
export async function resolve(specifier, context, next) {
  if (hidden.some((p) => specifier === p || specifier.startsWith(p + '/'))) {
    const e = new Error("Cannot find package '" + specifier + "' imported from " + context.parentURL);
    e.code = 'ERR_MODULE_NOT_FOUND';
    throw e;
  }
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
