/** A world file's mistakes, all at once with their paths: unknown keys, duplicates, schema problems. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalFileError } from '../../src/config/local-file.js';
import { loadWorldFile, parseWorldFile } from '../../src/config/world-file.js';
import { InvalidInputError } from '../../src/domain/errors.js';

const issuesOf = (text: string) => {
  try {
    parseWorldFile(text);
  } catch (e) {
    if (e instanceof InvalidInputError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  return [];
};

describe('world file problems', () => {
  it('reports unknown keys, duplicate functions and applications and a type error together', () => {
    const issues = issuesOf(`
functions:
  - { name: checkout, versions: { "1": {} }, aliases: { live: "1" }, requestPerSecond: 5 }
  - { name: checkout, versions: { "1": {} }, aliases: { live: "1" } }
alarm: []
applications:
  - name: shop
    deploymentGroups: [{ name: g, alarms: nope }, { name: g }]
  - name: shop
`);
    expect(issues).toEqual(
      expect.arrayContaining([
        'functions.0: unknown field requestPerSecond',
        ': unknown field alarm',
        'applications.0.deploymentGroups.0.alarms: must be a list',
        'functions.1.name: a second function named checkout (the first is functions.0)',
        'applications.1.name: a second application named shop (the first is applications.0)',
        'applications.0.deploymentGroups.1.name: a second deployment group named g (the first is applications.0.deploymentGroups.0)',
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  it('duplicates alone are refused too (a valid schema, a second alarm of the same name)', () => {
    expect(
      issuesOf(`
functions: [{ name: f, versions: { "1": {} }, aliases: { live: "1" } }]
alarms:
  - { name: a, function: f, alias: live, threshold: 1 }
  - { name: a, function: f, alias: live, threshold: 2 }
`),
    ).toEqual(['alarms.1.name: a second alarm named a (the first is alarms.0)']);
  });

  it('loadWorldFile names the file: missing, a folder, or every problem in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cutover-world-'));
    expect(() => loadWorldFile(join(dir, 'none.yml'))).toThrow(
      /none\.yml: does not exist \(a world file\); run 'cutover init'/,
    );
    mkdirSync(join(dir, 'folder.yml'));
    expect(() => loadWorldFile(join(dir, 'folder.yml'))).toThrow(/folder\.yml: is a folder, not a world file/);
    writeFileSync(join(dir, 'bad.yml'), 'functions: 3\nextra: 1\n');
    let error: unknown;
    try {
      loadWorldFile(join(dir, 'bad.yml'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LocalFileError);
    expect((error as LocalFileError).message).toContain('bad.yml: 2 problems in this world file');
    expect((error as LocalFileError).issues.map((i) => i.path).sort()).toEqual(['', 'functions']);
  });
});
