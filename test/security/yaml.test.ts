/**
 * YAML that tools generate or attackers craft: every one refused with a message in the user's terms
 * (never the parser's internals), and nothing read differently from what was written.
 */
import { describe, expect, it } from 'vitest';
import { parseDocument } from '../../src/domain/appspec.js';
import { InvalidInputError } from '../../src/domain/errors.js';

const refusal = (text: string): string => {
  try {
    parseDocument(text, 'AppSpec');
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidInputError);
    expect((e as InvalidInputError).exceptionName).toBe('InvalidRevisionException');
    return (e as Error).message;
  }
  throw new Error('accepted');
};

describe('YAML an AppSpec parser must refuse', () => {
  it('a CloudFormation tag (!Ref) is refused, not read as its plain text', () => {
    const m = refusal('Resources:\n  - fn:\n      Name: !Ref MyFunction\n');
    expect(m).toContain('!Ref');
    expect(m).toContain('line 3');
    expect(m).toMatch(/write the value itself/);
  });

  it('an alias inside the node it names is refused (it would never end)', () => {
    expect(refusal('a: &a [*a]\n')).toMatch(/alias refers to a node that contains it/);
  });

  it('an exponential expansion of aliases ("billion laughs") is refused without expanding it', () => {
    const laughs =
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    const m = refusal(laughs);
    expect(m).toMatch(/too many aliases/);
    expect(m).not.toMatch(/ReferenceError|Excessive/);
  });

  it('deep nesting is refused as nested too deeply, not a stack overflow', () => {
    const m = refusal(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
    expect(m).toMatch(/nested too deeply/);
    expect(m).not.toMatch(/Maximum call stack/);
  });

  it('shared aliases that do not contain themselves are read as written', () => {
    expect(parseDocument('a: &x [1]\nb: [*x, *x]\n')).toEqual({ a: [1], b: [[1], [1]] });
  });
});
