import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { createS3Client, S3Objects, type S3Settings } from '../../src/storage/s3-objects.js';

export interface LocalS3 {
  settings: S3Settings;
  /** The S3_* environment of a guardian process using this bucket. */
  env: Record<string, string>;
  objects: S3Objects;
  /** Every object key in the bucket. */
  listAll(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A real S3 HTTP server (s3rver, on 127.0.0.1, a free port, a temp directory) with one empty bucket.
 * It does not verify SigV4 signatures: any credentials are accepted.
 */
export async function startLocalS3(options: { prefix?: string } = {}): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'guardian-s3rver-'));
  const bucket = 'guardian-test';
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const settings: S3Settings = {
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
    prefix: options.prefix ?? '',
  };
  const client = createS3Client(settings);
  const objects = new S3Objects(client, bucket);
  return {
    settings,
    env: {
      S3_ENDPOINT: settings.endpoint!,
      S3_REGION: settings.region,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: settings.accessKeyId,
      S3_SECRET_ACCESS_KEY: settings.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
      ...(settings.prefix ? { S3_PREFIX: settings.prefix } : {}),
    },
    objects,
    async listAll() {
      const keys: string[] = [];
      for await (const object of objects.list('')) keys.push(object.Key ?? '');
      return keys.sort();
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
