import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { X509Certificate } from '@peculiar/x509';
import { JPEG } from '@trustnxt/c2pa-ts/asset';
import { CoseAlgorithmIdentifier, LocalSigner } from '@trustnxt/c2pa-ts/cose';
import { ActionAssertion, DataHashAssertion, ManifestStore, type Action } from '@trustnxt/c2pa-ts/manifest';

const execFileAsync = promisify(execFile);

/**
 * Content Credentials for tests, made offline: a throwaway CA and an ES256 signing certificate with the
 * extensions the C2PA certificate profile asks for (OpenSSL CLI), and JPEGs signed with c2pa-ts.
 */
export async function createTestSigner(dir: string): Promise<LocalSigner> {
  const file = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileAsync('openssl', args);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '30',
      '-subj',
      '/CN=Guardian Test CA',
    ].concat([
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-addext',
      'basicConstraints=critical,CA:true',
      '-addext',
      'subjectKeyIdentifier=hash',
    ]),
  );
  await openssl([
    'req',
    ...ec,
    '-keyout',
    file('signer.key'),
    '-out',
    file('signer.csr'),
    '-subj',
    '/CN=Guardian Test Signer/O=Guardian Tests',
  ]);
  await writeFile(
    file('signer.ext'),
    'keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nbasicConstraints=critical,CA:false\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n',
  );
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      file('signer.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
    ].concat(['-out', file('signer.pem'), '-days', '30', '-extfile', file('signer.ext')]),
  );
  await openssl(['pkcs8', '-topk8', '-nocrypt', '-in', file('signer.key'), '-out', file('signer.p8')]);
  const pem = await readFile(file('signer.p8'), 'utf8');
  const key = new Uint8Array(
    Buffer.from(pem.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s/g, ''), 'base64'),
  );
  return new LocalSigner(
    key,
    CoseAlgorithmIdentifier.ES256,
    new X509Certificate(await readFile(file('signer.pem'))),
    [new X509Certificate(await readFile(file('ca.pem')))],
  );
}

/** The JPEG with a signed manifest: a data-hash binding and, optionally, an actions assertion. */
export async function signJpeg(
  bytes: Buffer,
  signer: LocalSigner,
  options: { generator?: string; actions?: Action[] } = {},
): Promise<Buffer> {
  const asset = new JPEG(bytes);
  const store = new ManifestStore();
  const manifest = store.createManifest({
    assetFormat: 'image/jpeg',
    instanceID: 'xmp:iid:guardian-test',
    defaultHashAlgorithm: 'SHA-256',
    signer,
  });
  if (manifest.claim) manifest.claim.claimGeneratorName = options.generator ?? 'Guardian test camera';
  const binding = DataHashAssertion.create('SHA-256');
  manifest.addAssertion(binding);
  if (options.actions) {
    const actions = new ActionAssertion();
    actions.actions = options.actions;
    manifest.addAssertion(actions);
  }
  await asset.ensureManifestSpace(store.measureSize());
  await binding.updateWithAsset(asset);
  await manifest.sign(signer);
  await asset.writeManifestJUMBF(store.getBytes());
  return Buffer.from(await asset.getDataRange());
}
