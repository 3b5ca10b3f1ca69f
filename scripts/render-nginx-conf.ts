import { parseArgs } from 'node:util';
import { renderNginxConf } from '../src/deploy/nginx-conf.js';

// Prints deploy/nginx/guardian.conf with this deployment's values (docs/reverse-proxy-and-units.md).
const { values } = parseArgs({
  options: {
    upstream: { type: 'string' },
    'server-name': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'https-listen': { type: 'string', multiple: true },
    'http-listen': { type: 'string', multiple: true },
    'max-upload-bytes': { type: 'string' },
  },
});

const maxUploadBytes = values['max-upload-bytes'];
if (maxUploadBytes !== undefined && !/^[1-9]\d*$/.test(maxUploadBytes)) {
  console.error('--max-upload-bytes: a positive whole number of bytes (the MAX_UPLOAD_BYTES of the app)');
  process.exit(2);
}
process.stdout.write(
  renderNginxConf({
    upstream: values.upstream,
    serverName: values['server-name'],
    certFile: values.cert,
    keyFile: values.key,
    httpsListen: values['https-listen'],
    httpListen: values['http-listen'],
    maxUploadBytes: maxUploadBytes === undefined ? undefined : Number(maxUploadBytes),
  }),
);
