/**
 * Validators run in linear time (issue #14): every regular expression in the validator folders
 * has adversarial cases (test/security/adversarial.ts) and answers them correctly at every run
 * length up to 64 KiB; the webhook URL check is no regular expression at all. How long they take
 * is bench/validators.ts's question (no timing assertions here).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHooks } from '../../src/domain/appspec.js';
import type { Issue } from '../../src/domain/errors.js';
import { globMatch, isWebhookUrl } from '../../src/domain/hook-targets.js';
import { taskDefinitionShortName } from '../../src/platforms/ecs/domain.js';
import { revisionTarget } from '../../src/domain/revisions.js';
import { KIB64, adversarial, compile, sourcePatterns } from './adversarial.js';

const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
/** What a pattern built at run time is, for its cases. */
const DYNAMIC: Record<string, string> = { 'new RegExp(…)': '/^[sc]\\d+$/' };
const regexOf = (literal: string) => compile(DYNAMIC[literal] ?? literal);

describe('every validator pattern has adversarial cases', () => {
  const cases = adversarial();
  it('no regular expression in src/{platforms,config,api,domain} is without cases', () => {
    const missing = sourcePatterns(ROOT).filter((p) => !Object.hasOwn(cases, p.literal));
    expect(missing).toEqual([]);
  });

  it('no cases for a pattern that is gone (the table follows the code)', () => {
    const present = new Set(sourcePatterns(ROOT).map((p) => p.literal));
    expect(Object.keys(cases).filter((k) => !present.has(k))).toEqual([]);
  });

  it.each(Object.entries(cases))('%s answers its 64 KiB cases', (literal, list) => {
    const re = regexOf(literal);
    expect(list.some(([, m]) => !m)).toBe(true); // every pattern meets at least one near miss
    for (const [input, matches] of list)
      expect({ input: input.slice(0, 40), m: re.test(input) }).toEqual({
        input: input.slice(0, 40),
        m: matches,
      });
  });

  it('the answers hold at every run length from 1 KiB to 64 KiB (property)', () => {
    const patterns = Object.keys(cases).map((l) => [l, regexOf(l)] as const);
    fc.assert(
      fc.property(fc.integer({ min: 1024, max: KIB64 }), (size) => {
        const at = adversarial(size);
        for (const [literal, re] of patterns)
          for (const [input, matches] of at[literal]!) if (re.test(input) !== matches) return false;
        return true;
      }),
      { numRuns: 20 },
    );
  });
});

describe('the webhook URL check (was a quadratic regular expression)', () => {
  const hook = (url: string) => {
    const issues: Issue[] = [];
    const hooks = parseHooks({ Hooks: [{ BeforeAllowTraffic: url }] }, ['BeforeAllowTraffic'], 'Lambda', issues);
    return { ok: hooks.BeforeAllowTraffic === url, issues };
  };

  it('accepts webhook URLs and refuses near misses', () => {
    expect(hook('https://hooks.example.com/pre?x=1').ok).toBe(true);
    expect(hook('http://127.0.0.1:8080/a').ok).toBe(true); // the environment's policy decides later
    for (const bad of [
      'https://',
      'https:// x',
      'ftp://example.com/',
      `https://${'a'.repeat(KIB64)} `,
      `https://a/${'b'.repeat(KIB64)}`, // longer than 2048
      'https://exa mple.com/',
      'https://example.com/\tx',
    ])
      expect(hook(bad).ok).toBe(false);
  });

  it('is the same verdict as its definition for adversarial strings (property)', () => {
    // Runs of the characters the old pattern repeated ([^\s/?#]+[^\s]*), cut by a near miss.
    const piece = fc.constantFrom('a', '/', '?', '#', ' ', '.', '-', ':', '\t');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 64 }), fc.integer({ min: 0, max: 4096 }), (parts, n) => {
        const url = `https://h${'a'.repeat(n)}${parts.join('')}`;
        const definition =
          url.length <= 2048 &&
          ![...url].some((c) => c <= ' ') &&
          (() => {
            try {
              return new URL(url).hostname !== '';
            } catch {
              return false;
            }
          })();
        return isWebhookUrl(url) === definition;
      }),
      { numRuns: 200 },
    );
  });
});

describe('replacements of backtracking patterns', () => {
  it('taskDefinitionShortName: the short name, and no rescan on repeated markers', () => {
    expect(taskDefinitionShortName('arn:aws:ecs:us-east-1:123456789012:task-definition/web:3')).toBe('web:3');
    expect(taskDefinitionShortName('web:3')).toBe('web:3');
    const hostile = ':task-definition/'.repeat(KIB64 / 17) + '\n';
    expect(taskDefinitionShortName(hostile)).toBe(hostile);
  });

  it('revisionTarget: slashes trimmed from the prefix, however many', () => {
    expect(revisionTarget('revisions/app/group/r.zip', '//revisions//')).toEqual({
      applicationName: 'app',
      deploymentGroupName: 'group',
    });
    expect(revisionTarget('app/group/r.zip', '/'.repeat(KIB64))).toEqual({
      applicationName: 'app',
      deploymentGroupName: 'group',
    });
    expect(revisionTarget('x', '/'.repeat(KIB64) + 'p')).toBeUndefined();
  });

  it('globMatch (hookFunctions patterns): IAM wildcard semantics on adversarial names', () => {
    expect(globMatch('CodeDeployHook_*', 'CodeDeployHook_pre')).toBe(true);
    expect(globMatch('CodeDeployHook_*', 'codedeployhook_pre')).toBe(false);
    expect(globMatch('*-hook', 'a-hook')).toBe(true);
    expect(globMatch('a*a*a*a*b', 'a'.repeat(140))).toBe(false);
    expect(globMatch('a*a*a*a*b', 'a'.repeat(139) + 'b')).toBe(true);
    fc.assert(
      fc.property(fc.stringMatching(/^[ab*]{0,8}$/), fc.stringMatching(/^[ab]{0,12}$/), (pattern, name) => {
        // The definition: `*` is any run of characters, everything else itself.
        const reference = new RegExp(`^${pattern.replace(/\*+/g, '.*')}$`).test(name);
        return globMatch(pattern, name) === reference;
      }),
    );
  });
});
