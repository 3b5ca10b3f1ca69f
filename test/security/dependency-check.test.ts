import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPackages, lockedPackages } from '../../scripts/dependency-check/check-lock.js';
import { licenceAllowed, type LicencePolicy } from '../../scripts/dependency-check/licences.js';

const root = new URL('../../', import.meta.url);
const policy = JSON.parse(
  readFileSync(new URL('security/dependency-policy.json', root), 'utf8'),
) as LicencePolicy;
const scratch = mkdtempSync(join(tmpdir(), 'guardian-deps-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('licence policy', () => {
  it.each([
    ['MIT', true],
    ['(MIT OR CC0-1.0)', true],
    ['(MIT AND Zlib)', true],
    ['GPLv3', true],
    ['LGPL-2.1', true],
    ['(MIT OR GPL-2.0-only)', true],
    ['(MIT AND GPL-2.0-only)', false],
    ['GPL-2.0-only', false],
    ['FSL-1.1-Apache-2.0', false],
    ['SSPL-1.0', false],
    ['BUSL-1.1', false],
    ['CC-BY-NC-4.0', false],
    ['UNLICENSED', false],
    ['SEE LICENSE IN LICENSE.txt', false],
  ])('%s allowed: %s', (expression, allowed) => {
    expect(licenceAllowed(expression, policy)).toBe(allowed);
  });
});

describe('lock file check', () => {
  const lockPath = join(scratch, 'package-lock.json');
  writeFileSync(
    lockPath,
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'app', version: '1.0.0' },
        'node_modules/fine': { version: '1.0.0', license: 'MIT' },
        'node_modules/copyleft-2': { version: '2.0.0', license: 'GPL-2.0-only' },
        'node_modules/nameless': { version: '0.1.0' },
        'node_modules/only': { version: '0.0.2', dev: true },
        'node_modules/old': { version: '1.2.3', license: 'ISC', deprecated: 'use new instead' },
        'node_modules/lodash': { version: '4.17.20', license: 'MIT' },
        'node_modules/a/node_modules/lodash': { version: '4.17.21', license: 'MIT' },
        'node_modules/linked': { link: true, resolved: '../linked' },
      },
    }),
  );
  const advisories = {
    lodash: [{ id: 1523, title: 'Prototype pollution', severity: 'high', vulnerable_versions: '<4.17.21' }],
  };
  const packages = lockedPackages(lockPath, null);
  const findings = checkPackages(packages, policy, advisories);
  const of = (kind: string) =>
    findings.filter((finding) => finding.kind === kind).map((finding) => finding.package);

  it('reads every installed package, nested ones by their own name, links left out', () => {
    expect(packages.map((pkg) => `${pkg.name}@${pkg.version}`).sort()).toEqual([
      'copyleft-2@2.0.0',
      'fine@1.0.0',
      'lodash@4.17.20',
      'lodash@4.17.21',
      'nameless@0.1.0',
      'old@1.2.3',
      'only@0.0.2',
    ]);
  });

  it('fails a disallowed or missing licence, and accepts a reviewed one', () => {
    expect(of('licence').sort()).toEqual(['copyleft-2@2.0.0', 'nameless@0.1.0']);
  });

  it('flags deprecated versions and versions inside an advisory range only', () => {
    expect(of('deprecated')).toEqual(['old@1.2.3']);
    expect(of('advisory')).toEqual(['lodash@4.17.20']);
  });
});

describe("the project's own package-lock.json", () => {
  it('passes the licence policy (every package has an allowed or reviewed licence)', () => {
    const packages = lockedPackages(new URL('package-lock.json', root).pathname, new URL('.', root).pathname);
    expect(packages.length).toBeGreaterThan(500);
    const findings = checkPackages(packages, policy, {}).map(
      (finding) => `${finding.package}: ${finding.detail}`,
    );
    expect(findings).toEqual([]);
  });
});
