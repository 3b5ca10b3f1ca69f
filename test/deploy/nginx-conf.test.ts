import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.schema.js';
import { renderNginxConf, shippedNginxConfUrl, uploadBodyLimitBytes } from '../../src/deploy/nginx-conf.js';

const shipped = readFileSync(shippedNginxConfUrl, 'utf8');

describe('deploy/nginx/guardian.conf and its renderer', () => {
  it('ships upload limits equal to the default MAX_UPLOAD_BYTES plus the multipart framing', () => {
    const defaultLimit = configSchema.shape.MAX_UPLOAD_BYTES.parse(undefined);
    const limits = [...shipped.matchAll(/client_max_body_size (\d+);/g)].map((match) => Number(match[1]));
    expect(limits).toEqual([uploadBodyLimitBytes(defaultLimit), uploadBodyLimitBytes(defaultLimit)]);
  });

  it('renders the shipped file unchanged without options, and only the named values with them', () => {
    expect(renderNginxConf({})).toBe(shipped);
    const rendered = renderNginxConf({ upstream: 'api:8080', maxUploadBytes: 1000 });
    expect(rendered).toContain('    server api:8080;\n');
    expect(rendered.match(/client_max_body_size 66536;/g)).toHaveLength(2);
    expect(rendered.split('\n').length).toBe(shipped.split('\n').length);
  });

  it('refuses values that would smuggle a directive in, and a file it no longer recognises', () => {
    expect(() => renderNginxConf({ serverName: 'x; include /etc/passwd' })).toThrow(/not usable/);
    expect(() => renderNginxConf({ upstream: 'a:1' }, shipped.replace('server 127.0.0.1:8080;', ''))).toThrow(
      /expected 1/,
    );
  });
});
