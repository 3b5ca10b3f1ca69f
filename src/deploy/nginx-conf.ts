import { readFileSync } from 'node:fs';
import { multipartOverheadBytes } from '../http/routes/media.routes.js';

/** The shipped production configuration, deploy/nginx/guardian.conf (the source every variant is made from). */
export const shippedNginxConfUrl = new URL('../../deploy/nginx/guardian.conf', import.meta.url);

export interface NginxConfOptions {
  /** `host:port` of the app (HOST/PORT); shipped: 127.0.0.1:8080. */
  upstream?: string;
  serverName?: string;
  certFile?: string;
  keyFile?: string;
  /** `listen` arguments of the HTTPS server, one directive each; shipped: 443 and [::]:443. */
  httpsListen?: string[];
  /** `listen` arguments of the redirecting HTTP server; shipped: 80 and [::]:80. */
  httpListen?: string[];
  /** MAX_UPLOAD_BYTES of the app; sets client_max_body_size of the upload locations. */
  maxUploadBytes?: number;
}

/** nginx's limit for an upload route: the app's limit plus the multipart framing the app allows on top. */
export function uploadBodyLimitBytes(maxUploadBytes: number): number {
  return maxUploadBytes + multipartOverheadBytes;
}

/**
 * guardian.conf with the deployment-specific values replaced. Each replaced directive must appear exactly as
 * shipped, so an edit of the file that this function no longer understands fails loudly instead of silently.
 */
export function renderNginxConf(
  options: NginxConfOptions,
  shipped = readFileSync(shippedNginxConfUrl, 'utf8'),
): string {
  let conf = shipped;
  const replace = (pattern: RegExp, expected: number, replacement: string | undefined) => {
    const found = conf.match(new RegExp(pattern.source, 'gm'))?.length ?? 0;
    if (found !== expected)
      throw new Error(`guardian.conf: expected ${expected} of ${pattern.source}, found ${found}`);
    if (replacement !== undefined) conf = conf.replace(new RegExp(pattern.source, 'gm'), replacement);
  };
  const listen = (values: string[] | undefined, suffix: string) =>
    values?.map((value) => `    listen ${checked(value)}${suffix};`).join('\n');

  replace(
    /^ {4}server 127\.0\.0\.1:8080;$/,
    1,
    option(options.upstream, (v) => `    server ${v};`),
  );
  replace(
    /^ {4}server_name guardian\.example\.org;$/,
    2,
    option(options.serverName, (v) => `    server_name ${v};`),
  );
  replace(/^ {4}listen 80;\n {4}listen \[::\]:80;$/, 1, listen(options.httpListen, ''));
  replace(
    /^ {4}listen 443 ssl http2;\n {4}listen \[::\]:443 ssl http2;$/,
    1,
    listen(options.httpsListen, ' ssl http2'),
  );
  replace(
    /^ {4}ssl_certificate \/etc\/letsencrypt\/live\/guardian\.example\.org\/fullchain\.pem;$/,
    1,
    option(options.certFile, (v) => `    ssl_certificate ${v};`),
  );
  replace(
    /^ {4}ssl_certificate_key \/etc\/letsencrypt\/live\/guardian\.example\.org\/privkey\.pem;$/,
    1,
    option(options.keyFile, (v) => `    ssl_certificate_key ${v};`),
  );
  replace(
    /^ {8}client_max_body_size 21474902016;$/,
    2,
    option(options.maxUploadBytes, (v) => `        client_max_body_size ${uploadBodyLimitBytes(v)};`),
  );
  return conf;
}

function option<T extends string | number>(value: T | undefined, line: (value: T) => string) {
  return value === undefined ? undefined : line(typeof value === 'string' ? (checked(value) as T) : value);
}

// A value lands inside a directive: no quoting games, no second directive smuggled in.
function checked(value: string): string {
  if (!/^[A-Za-z0-9_.:/[\]@ -]+$/.test(value) || value.trim() !== value || value === '')
    throw new Error(`not usable in an nginx directive: ${JSON.stringify(value)}`);
  return value;
}
