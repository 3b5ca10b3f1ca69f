import { createLocalhostCertificate } from '../helpers/tls-certificate.js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { renderNginxConf } from '../../src/deploy/nginx-conf.js';

export const nginxBinary = '/usr/sbin/nginx';

export interface RunningNginx {
  httpsPort: number;
  httpPort: number;
  certFile: string;
  /** The rendered guardian.conf this nginx runs. */
  conf: string;
  errorLog(): string;
  stop(): Promise<void>;
}

/** A free loopback TCP port (released again: nginx binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (address && typeof address !== 'string' ? resolve(address.port) : reject()));
    });
  });
}

/**
 * Debian's nginx as a non-daemon child running deploy/nginx/guardian.conf (rendered for loopback ports, a test
 * certificate and `upstream`) inside a minimal main configuration whose every path is under `dir`.
 */
export async function startNginx(options: {
  dir: string;
  upstream: string;
  maxUploadBytes: number;
}): Promise<RunningNginx> {
  const { dir } = options;
  mkdirSync(join(dir, 'temp'), { recursive: true });
  const { certFile, keyFile } = createLocalhostCertificate(dir, 90);
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const conf = renderNginxConf({
    upstream: options.upstream,
    serverName: '127.0.0.1 localhost',
    certFile,
    keyFile,
    httpsListen: [`127.0.0.1:${httpsPort}`],
    httpListen: [`127.0.0.1:${httpPort}`],
    maxUploadBytes: options.maxUploadBytes,
  });
  writeFileSync(join(dir, 'guardian.conf'), conf);
  const errorLogFile = join(dir, 'error.log');
  const temp = (name: string) => `${name}_temp_path ${join(dir, 'temp', name)};`;
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      // As root the workers would otherwise drop to nobody, who cannot enter this 0700 temporary directory.
      process.getuid?.() === 0 ? 'user root;' : '',
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${errorLogFile} warn;`,
      'events { worker_connections 256; }',
      'http {',
      `  access_log ${join(dir, 'access.log')};`,
      `  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}`,
      '  default_type application/octet-stream;',
      `  include ${join(dir, 'guardian.conf')};`,
      '}',
    ].join('\n'),
  );
  const args = ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLogFile];
  execFileSync(nginxBinary, ['-t', '-q', ...args], { stdio: 'pipe' });
  const child = spawn(nginxBinary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return stderr + readFileSync(errorLogFile, 'utf8');
    } catch {
      return stderr;
    }
  };
  try {
    await waitForPort(httpsPort, child, 10_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n${errorLog()}`, { cause: error });
  }
  return {
    httpsPort,
    httpPort,
    certFile,
    conf,
    errorLog,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
