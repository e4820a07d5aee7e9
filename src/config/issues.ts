/**
 * zod's problems in the caller's words: its default messages ("Invalid input: expected string, received
 * undefined") name zod's view, not the field's; a schema's own message is kept as written.
 */
import type { Issue } from '../domain/errors.js';

/** The parts of a zod (v4) issue this reads. */
interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  values?: readonly unknown[];
  origin?: string;
  maximum?: number | bigint;
  minimum?: number | bigint;
  keys?: string[];
}

const DEFAULT_MESSAGE = /^(Invalid input|Invalid option|Too big|Too small|Invalid string|Unrecognized key)/;

const A: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

function size(origin: string | undefined, n: number | bigint | undefined, bound: 'at most' | 'at least'): string {
  if (origin === 'string') return n === 1 && bound === 'at least' ? 'must not be empty' : `${bound} ${n} characters`;
  if (origin === 'array' || origin === 'set') return `${bound} ${n} entries`;
  return `${bound} ${n}`;
}

/** One issue's message, readable. */
export function readableMessage(i: ZodIssueLike): string {
  if (!DEFAULT_MESSAGE.test(i.message)) return i.message;
  switch (i.code) {
    case 'invalid_type':
      return i.input === undefined ? 'required' : `must be ${A[i.expected ?? ''] ?? i.expected}`;
    case 'invalid_value':
      return `must be one of ${(i.values ?? []).map(String).join(', ')}`;
    case 'too_big':
      return size(i.origin, i.maximum, 'at most');
    case 'too_small':
      return size(i.origin, i.minimum, 'at least');
    case 'unrecognized_keys':
      return `unknown field${(i.keys ?? []).length > 1 ? 's' : ''} ${(i.keys ?? []).join(', ')}`;
    default:
      return 'is not valid';
  }
}

/** zod issues as ours, every one with its path (prefixed with `prefix` when given). */
export function zodIssues(issues: readonly ZodIssueLike[], prefix?: string): Issue[] {
  return issues.map((i) => {
    const path = i.path.map(String).join('.');
    return { path: prefix ? (path ? `${prefix}.${path}` : prefix) : path, message: readableMessage(i) };
  });
}
