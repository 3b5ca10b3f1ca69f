// The Helm chart deploy/helm/guardian, checked WITHOUT rendering it: there is no helm binary here (nor a Go
// toolchain to build one), so `helm lint` / `helm template` and a schema check of rendered manifests were not
// run. What is checked: values.yaml against the chart's values.schema.json (the schema helm itself enforces on
// install/upgrade/template), the templates' action delimiters and blocks, that every include and .Values path
// they use exists, the restricted PodSecurity settings, the secret wiring against src/config, and the KEDA
// trigger's Redis key against BullMQ's own key naming.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { QueueKeys } from 'bullmq';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFields } from '../../src/config/config.schema.js';
import { jobDefinitions } from '../../src/queue/job-table.js';

const chartDir = fileURLToPath(new URL('../../deploy/helm/guardian/', import.meta.url));

const secretSettings = Object.entries(configFields)
  .filter(([, field]) => 'secret' in field && field.secret)
  .map(([name]) => name);

let values: Record<string, unknown>;
let valuesSchema: Record<string, unknown>;
let templates: Map<string, string>;

beforeAll(async () => {
  values = parse(await readFile(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  valuesSchema = JSON.parse(await readFile(join(chartDir, 'values.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  templates = new Map();
  for (const name of await readdir(join(chartDir, 'templates'))) {
    templates.set(name, await readFile(join(chartDir, 'templates', name), 'utf8'));
  }
});

function validateValues(candidate: unknown) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(valuesSchema);
  return { valid: validate(candidate), errors: validate.errors ?? [] };
}

/** The text of every {{ ... }} action of a template, trim markers removed. */
function actions(text: string): string[] {
  return [...text.matchAll(/\{\{-?\s*([\s\S]*?)\s*-?\}\}/g)].map((match) => match[1] ?? '');
}

describe('Helm chart (static checks; not rendered: no helm here)', () => {
  it('Chart.yaml is a v2 application chart', async () => {
    const chart = parse(await readFile(join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, string>;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'guardian', type: 'application' });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('values.yaml is valid against values.schema.json, which refuses secrets in config and unknown keys', () => {
    expect(validateValues(values).errors).toEqual([]);
    const config = values.config as Record<string, string>;
    expect(validateValues({ ...values, config: { ...config, MASTER_KEY: 'x'.repeat(64) } }).valid).toBe(
      false,
    );
    expect(validateValues({ ...values, wokrer: {} }).valid).toBe(false);
  });

  it('values.schema.json refuses every secret setting of src/config in `config` (they go through secrets)', () => {
    const refused = (valuesSchema.properties as { config: { propertyNames: { not: { enum: string[] } } } })
      .config.propertyNames.not.enum;
    for (const name of secretSettings) expect(refused, name).toContain(name);
  });

  it('every action is closed and every if/range/with/define block ends', () => {
    for (const [name, text] of templates) {
      if (name === 'NOTES.txt' && !text.includes('{{')) continue;
      expect(text.split('{{').length, `${name}: {{ vs }}`).toBe(text.split('}}').length);
      let depth = 0;
      for (const action of actions(text)) {
        if (/^(if|range|with|define|block)\b/.test(action)) depth += 1;
        else if (/^end\b/.test(action)) depth -= 1;
        expect(depth, `${name}: an end without a block`).toBeGreaterThanOrEqual(0);
      }
      expect(depth, `${name}: blocks left open`).toBe(0);
    }
  });

  it('every include names a defined template and every .Values path exists in values.yaml', () => {
    const defined = new Set(
      [...(templates.get('_helpers.tpl') ?? '').matchAll(/define "([^"]+)"/g)].map((match) => match[1]),
    );
    for (const [name, text] of templates) {
      for (const match of text.matchAll(/include "([^"]+)"/g)) expect(defined, `${name}`).toContain(match[1]);
      for (const match of text.matchAll(/\.Values((?:\.[A-Za-z0-9_]+)+)/g)) {
        let node: unknown = values;
        for (const key of (match[1] ?? '').slice(1).split('.')) {
          expect(
            node !== null && typeof node === 'object' && key in node,
            `${name}: .Values${match[1]}`,
          ).toBe(true);
          node = (node as Record<string, unknown>)[key];
        }
      }
    }
  });

  it('pods meet PodSecurity "restricted": non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp', () => {
    const helpers = templates.get('_helpers.tpl') ?? '';
    const pod = /define "guardian.podSecurityContext"([\s\S]*?)\{\{- end -\}\}/.exec(helpers)?.[1] ?? '';
    const container =
      /define "guardian.containerSecurityContext"([\s\S]*?)\{\{- end -\}\}/.exec(helpers)?.[1] ?? '';
    expect(parse(pod.replace(/^ -\}\}\n/, ''))).toEqual({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(parse(container.replace(/^ -\}\}\n/, ''))).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    for (const name of ['api-deployment.yaml', 'worker-deployment.yaml']) {
      const text = templates.get(name) ?? '';
      expect(text, name).toContain('include "guardian.podSecurityContext"');
      expect(text, name).toContain('include "guardian.containerSecurityContext"');
      expect(text, name).toContain('automountServiceAccountToken: false');
    }
    const api = templates.get('api-deployment.yaml') ?? '';
    expect(api).toMatch(/livenessProbe:\s+httpGet: \{ path: \/livez/);
    expect(api).toMatch(/readinessProbe:\s+httpGet: \{ path: \/readyz/);
  });

  it('secrets reach the app as NAME_FILE paths of secret settings, each backed by an item of the mounted Secret', () => {
    const helpers = templates.get('_helpers.tpl') ?? '';
    const items = new Set(
      [...helpers.matchAll(/\{ key: ([a-z0-9-]+), path: \1 \}/g)].map((match) => match[1]),
    );
    const fileSettings = [
      ...helpers.matchAll(/- name: ([A-Z0-9_]+)_FILE\n\s+value: \/run\/secrets\/guardian\/([a-z0-9-]+)/g),
    ];
    expect(fileSettings.length).toBe(items.size);
    for (const [, setting, key] of fileSettings) {
      expect(secretSettings, setting).toContain(setting);
      expect(items, key).toContain(key);
      expect(Object.keys((values.secrets as { values: object }).values), key).toContain(key);
    }
  });

  it("KEDA scales workers on BullMQ's wait list of the analysis queue (the key BullMQ itself uses)", () => {
    expect(jobDefinitions).toHaveProperty(['analysis.run']);
    const prefix = (values.config as Record<string, string>).REDIS_KEY_PREFIX;
    const waitKey = new QueueKeys(prefix).getKeys('analysis.run').wait;
    const template = templates.get('worker-scaledobject.yaml') ?? '';
    expect(template).toContain('printf "%s:analysis.run:wait" .Values.config.REDIS_KEY_PREFIX');
    expect(`${prefix}:analysis.run:wait`).toBe(waitKey);
    expect(template).toMatch(/kind: ScaledObject[\s\S]*type: redis[\s\S]*listName:[\s\S]*listLength:/);
  });
});
