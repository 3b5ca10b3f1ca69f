// `npm run deps:check`: every package in package-lock.json against the licence policy
// (security/dependency-policy.json), deprecation flags and known advisories.
// Offline by default: licences come from the lock file and node_modules; advisories from a vendored file
// (security/advisories.json, npm bulk-advisory format) when one exists. `-- --registry` also asks the npm
// registry which locked versions are deprecated and tries its advisory endpoint (refused on these machines).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  checkPackages,
  lockedPackages,
  type Advisories,
  type Finding,
  type LockedPackage,
} from './dependency-check/check-lock.js';
import type { LicencePolicy } from './dependency-check/licences.js';
import { fetchAdvisories, fetchDeprecations } from './dependency-check/registry.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const option = (name: string) => {
  const index = args.indexOf(name);
  return index === -1 ? undefined : args[index + 1];
};
const useRegistry = args.includes('--registry');
const json = args.includes('--json');
const lockPath = option('--lock') ?? `${root}package-lock.json`;
const policyPath = option('--policy') ?? `${root}security/dependency-policy.json`;
const advisoriesPath = option('--advisories') ?? `${root}security/advisories.json`;
const registry = (process.env.npm_config_registry ?? 'https://registry.npmjs.org/').replace(/\/?$/, '/');

const policy = JSON.parse(readFileSync(policyPath, 'utf8')) as LicencePolicy;
const packages: LockedPackage[] = lockedPackages(lockPath, option('--lock') ? null : root);
const limits: string[] = [];
let advisories: Advisories = {};
if (existsSync(advisoriesPath)) advisories = JSON.parse(readFileSync(advisoriesPath, 'utf8')) as Advisories;
else
  limits.push(
    `no vendored advisory list (${advisoriesPath}): known vulnerabilities were not checked offline`,
  );

if (useRegistry) {
  const deprecations = await fetchDeprecations(registry, packages);
  for (const pkg of packages) {
    const message = deprecations.messages.get(`${pkg.name}@${pkg.version}`);
    if (message) pkg.deprecated = message;
  }
  if (deprecations.failed.length > 0)
    limits.push(
      `registry metadata unavailable for ${deprecations.failed.length} packages: ${deprecations.failed.slice(0, 5).join(', ')}…`,
    );
  const fetched = await fetchAdvisories(registry, packages);
  if (fetched.ok) advisories = mergeAdvisories(advisories, fetched.advisories);
  else limits.push(`registry advisory endpoint: ${fetched.reason}`);
} else
  limits.push(
    'deprecation flags were not checked (the lock file does not record them; run with -- --registry)',
  );

const findings = checkPackages(packages, policy, advisories);
if (json) console.log(JSON.stringify({ packages: packages.length, findings, limits }, null, 2));
else print(findings);
process.exitCode = findings.length > 0 ? 1 : 0;

function print(found: Finding[]): void {
  const runtime = packages.filter((pkg) => !pkg.dev).length;
  console.log(
    `deps:check: ${packages.length} locked packages (${runtime} runtime, ${packages.length - runtime} dev only)`,
  );
  console.log(`  advisories known: ${Object.keys(advisories).length} packages`);
  for (const finding of found)
    console.log(
      `  FAIL ${finding.kind.padEnd(10)} ${finding.package}${finding.dev ? ' (dev)' : ''}: ${finding.detail}`,
    );
  for (const limit of limits) console.log(`  limit: ${limit}`);
  console.log(found.length === 0 ? 'deps:check: passed' : `deps:check: ${found.length} finding(s)`);
}

function mergeAdvisories(a: Advisories, b: Advisories): Advisories {
  const merged: Advisories = { ...a };
  for (const [name, list] of Object.entries(b)) merged[name] = [...(merged[name] ?? []), ...list];
  return merged;
}
