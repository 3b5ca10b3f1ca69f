import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How the loopback TSA answers a query. */
export type TsaBehaviour = 'reply' | 'garbage' | 'http-error' | 'reply-to-other-query' | 'silent';

export interface LocalTsa {
  url: string;
  dir: string;
  /** PEM of the CA that issued the TSA certificate. */
  caPem: string;
  setBehaviour(behaviour: TsaBehaviour): void;
  /** Accept only these digests (openssl `digests`), e.g. ['sha512'] to make it reject SHA-256 queries. */
  setAcceptedDigests(digests: string[]): Promise<void>;
  close(): Promise<void>;
}

/** A real RFC 3161 TSA: `openssl ts -reply` under a CA made here, behind a loopback HTTP server. */
export async function startLocalTsa(options: { tsaKey?: 'ec' | 'rsa' } = {}): Promise<LocalTsa> {
  const dir = await mkdtemp(join(tmpdir(), 'guardian-tsa-'));
  await createCertificates(dir, options.tsaKey ?? 'ec');
  await writeTsaConfig(dir, ['sha256', 'sha384', 'sha512']);
  let behaviour: TsaBehaviour = 'reply';
  let queryCount = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (behaviour === 'silent') return;
      queryCount += 1;
      answer(dir, behaviour, Buffer.concat(chunks), queryCount).then(
        ({ status, body }) => {
          response.writeHead(status, { 'content-type': 'application/timestamp-reply' });
          response.end(body);
        },
        (error: unknown) => {
          response.writeHead(500);
          response.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    dir,
    caPem: await readFile(join(dir, 'ca.crt'), 'utf8'),
    setBehaviour: (next) => {
      behaviour = next;
    },
    setAcceptedDigests: (digests) => writeTsaConfig(dir, digests),
    close: async () => {
      await closeServer(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A CA with its own key, unrelated to any TSA: a root the tokens must not chain to. */
export async function createUnrelatedCaPem(dir: string): Promise<string> {
  await createRootCa(dir, 'other-ca');
  return readFile(join(dir, 'other-ca.crt'), 'utf8');
}

/** A self-signed P-256 root CA as STEM.key and STEM.crt in dir (same name for every root: only the key differs). */
async function createRootCa(dir: string, stem: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${stem}.key`,
    '-out',
    `${stem}.crt`,
    '-days',
    '30',
    '-subj',
    '/CN=Guardian Test Root CA',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
}

async function answer(dir: string, behaviour: TsaBehaviour, query: Buffer, count: number) {
  if (behaviour === 'http-error') return { status: 503, body: Buffer.from('TSA overloaded') };
  if (behaviour === 'garbage') return { status: 200, body: Buffer.from('this is not DER at all') };
  const queryFile = join(dir, `query-${count}.tsq`);
  const replyFile = join(dir, `reply-${count}.tsr`);
  if (behaviour === 'reply-to-other-query') {
    await writeFile(join(dir, `other-${count}.txt`), `another document ${count}`);
    await openssl(dir, [
      'ts',
      '-query',
      '-data',
      `other-${count}.txt`,
      '-sha256',
      '-cert',
      '-out',
      queryFile,
    ]);
  } else {
    await writeFile(queryFile, query);
  }
  await openssl(dir, ['ts', '-reply', '-config', 'tsa.cnf', '-queryfile', queryFile, '-out', replyFile]);
  return { status: 200, body: await readFile(replyFile) };
}

async function createCertificates(dir: string, tsaKey: 'ec' | 'rsa'): Promise<void> {
  await writeFile(
    join(dir, 'tsa-ext.cnf'),
    'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
  );
  await createRootCa(dir, 'ca');
  await openssl(dir, [
    'req',
    '-new',
    '-newkey',
    ...(tsaKey === 'rsa' ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256']),
    '-nodes',
    '-keyout',
    'tsa.key',
    '-out',
    'tsa.csr',
    '-subj',
    '/O=Guardian Tests/CN=Guardian Test TSA',
  ]);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tsa.crt',
    '-days',
    '30',
    '-extfile',
    'tsa-ext.cnf',
  ]);
}

async function writeTsaConfig(dir: string, digests: string[]): Promise<void> {
  const config = `[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = .
serial = ./tsaserial
crypto_device = builtin
signer_cert = ./tsa.crt
certs = ./ca.crt
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = ${digests.join(', ')}
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
`;
  await writeFile(join(dir, 'tsa.cnf'), config);
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd, timeout: 20_000 });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
