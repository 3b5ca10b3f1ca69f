// The image's HEALTHCHECK: GET /livez on this container's own listener; exit 0 on 200, 1 otherwise.
// Plain HTTP unless TLS_CERT_FILE is set (then HTTPS to loopback, where the certificate's name cannot match).
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

const tls = Boolean(process.env.TLS_CERT_FILE);
const options = {
  host: '127.0.0.1',
  port: Number(process.env.PORT || 8080),
  path: '/livez',
  timeout: 4000,
  ...(tls ? { rejectUnauthorized: false } : {}),
};
const request = (tls ? httpsRequest : httpRequest)(options, (response) => {
  response.resume();
  process.exitCode = response.statusCode === 200 ? 0 : 1;
});
request.on('timeout', () => request.destroy(new Error('timed out')));
request.on('error', (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exitCode = 1;
});
request.end();
