import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No GitHub runner is reachable here: these checks keep the shipped workflows consistent with the repository.
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: object }).scripts);

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  steps: Step[];
  services?: Record<string, { image: string; options?: string }>;
  env?: Record<string, string>;
}
interface Workflow {
  on: unknown;
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflow = (name: string) => parse(read(`.github/workflows/${name}`)) as Workflow;
const runs = (job: Job) => job.steps.map((step) => step.run ?? '').join('\n');

describe.each(['ci.yml', 'release.yml'])('.github/workflows/%s', (name) => {
  it('runs only npm scripts that exist and pins every action to a major version', () => {
    const text = read(`.github/workflows/${name}`);
    for (const [, script] of text.matchAll(/npm run ([\w:-]+)/g)) expect(scripts).toContain(script);
    for (const job of Object.values(workflow(name).jobs))
      for (const step of job.steps) if (step.uses) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });

  it('builds the image from the Dockerfile with provenance and an SBOM', () => {
    const steps = Object.values(workflow(name).jobs).flatMap((job) => job.steps);
    const build = steps.find((step) => step.uses?.startsWith('docker/build-push-action@'));
    expect(build?.with).toMatchObject({ provenance: 'mode=max', sbom: true });
    expect(steps.some((step) => step.uses?.startsWith('actions/attest-build-provenance@'))).toBe(true);
    expect(steps.some((step) => /@cyclonedx\/cyclonedx-npm/.test(step.run ?? ''))).toBe(true);
    expect(read('Dockerfile')).toMatch(/^FROM /m);
  });
});

describe('ci.yml test job', () => {
  const job = workflow('ci.yml').jobs.test!;

  it('checks types, lint and the whole suite against PostgreSQL and Redis service containers', () => {
    expect(Object.keys(job.services ?? {}).sort()).toEqual(['postgres', 'redis']);
    for (const service of Object.values(job.services ?? {})) expect(service.options).toMatch(/--health-cmd/);
    expect(job.env?.TEST_DATABASE_URL).toMatch(/^postgres:\/\/.+@postgres:5432\/test$/);
    expect(job.env?.TEST_REDIS_URL).toBe('redis://redis:6379');
    expect(runs(job)).toMatch(/npm ci/);
    for (const command of ['npm run typecheck', 'npm run lint', 'npx vitest run', 'npm run bench'])
      expect(runs(job)).toContain(command);
  });

  it('installs every Debian package .ci/run installs', () => {
    const ciRun = read('.ci/run');
    const wanted = [...ciRun.matchAll(/missing\+=\(([\w.-]+)\)/g)].map((match) => match[1]!);
    expect(wanted.length).toBeGreaterThan(3);
    for (const name of wanted) expect(runs(job)).toContain(name);
  });

  it('grants the workflow only read access by default', () => {
    expect(workflow('ci.yml').permissions).toEqual({ contents: 'read' });
  });
});
