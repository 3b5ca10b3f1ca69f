import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { licenceAllowed, type LicencePolicy } from './licences.js';

export interface LockedPackage {
  path: string;
  name: string;
  version: string;
  licence: string | null;
  dev: boolean;
  deprecated?: string;
}

/** Advisories in the npm bulk-advisory shape: package name to its advisories with a vulnerable semver range. */
export type Advisories = Record<
  string,
  { id: string | number; title: string; severity: string; vulnerable_versions: string; url?: string }[]
>;

export interface Finding {
  kind: 'licence' | 'deprecated' | 'advisory';
  package: string;
  dev: boolean;
  detail: string;
}

interface LockFile {
  lockfileVersion: number;
  packages: Record<
    string,
    { version?: string; license?: string; dev?: boolean; deprecated?: string; link?: boolean; name?: string }
  >;
}

/** Every installed package of a v3 lock file, with its licence from the lock or, failing that, its package.json. */
export function lockedPackages(lockPath: string, nodeModulesRoot: string | null): LockedPackage[] {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as LockFile;
  if (lock.lockfileVersion < 2)
    throw new Error(`${lockPath}: lockfileVersion ${lock.lockfileVersion} has no packages map`);
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !entry.link && entry.version)
    .map(([path, entry]) => ({
      path,
      name: entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
      version: entry.version!,
      licence: entry.license ?? (nodeModulesRoot ? installedLicence(join(nodeModulesRoot, path)) : null),
      dev: entry.dev === true,
      ...(entry.deprecated ? { deprecated: entry.deprecated } : {}),
    }));
}

// Older packages declare `licenses: [{type}]`; npm leaves those out of the lock file.
function installedLicence(dir: string): string | null {
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) return null;
  const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
    license?: unknown;
    licenses?: { type?: string }[];
  };
  if (typeof json.license === 'string') return json.license;
  const types = (Array.isArray(json.licenses) ? json.licenses : [])
    .map((entry) => entry.type)
    .filter(Boolean);
  return types.length > 0 ? types.join(' OR ') : null;
}

export function checkPackages(
  packages: LockedPackage[],
  policy: LicencePolicy,
  advisories: Advisories,
): Finding[] {
  const findings: Finding[] = [];
  for (const pkg of packages) {
    const id = `${pkg.name}@${pkg.version}`;
    const reviewed = policy.reviewed[id];
    const licence = pkg.licence ?? reviewed?.licence ?? null;
    if (licence === null)
      findings.push({
        kind: 'licence',
        package: id,
        dev: pkg.dev,
        detail: 'declares no licence (review it and list it under reviewed)',
      });
    else if (!licenceAllowed(licence, policy))
      findings.push({
        kind: 'licence',
        package: id,
        dev: pkg.dev,
        detail: `licence ${licence} is not allowed by the policy`,
      });
    if (pkg.deprecated)
      findings.push({ kind: 'deprecated', package: id, dev: pkg.dev, detail: pkg.deprecated });
    for (const advisory of advisories[pkg.name] ?? []) {
      if (semver.satisfies(pkg.version, advisory.vulnerable_versions, { includePrerelease: true }))
        findings.push({
          kind: 'advisory',
          package: id,
          dev: pkg.dev,
          detail: `${advisory.severity}: ${advisory.title} (${advisory.id}; vulnerable ${advisory.vulnerable_versions})`,
        });
    }
  }
  return findings;
}
