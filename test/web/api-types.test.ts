import { readFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';

const openApiUrl = new URL('../../openapi.json', import.meta.url);
const generatedUrl = new URL('../../web/src/api/schema.d.ts', import.meta.url);

describe("the web app's typed API client", () => {
  it('is generated from the committed openapi.json (run `npm run web:api-types` after `npm run openapi`)', async () => {
    const document = JSON.parse(readFileSync(openApiUrl, 'utf8')) as Parameters<typeof openapiTS>[0];
    const generated = astToString(await openapiTS(document, { silent: true }));
    const strip = (text: string) => text.replace(/^\/\*\*[\s\S]*?\*\/\n\n/, '').trim();
    expect(strip(readFileSync(generatedUrl, 'utf8'))).toBe(strip(generated));
  });
});
