import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { openPlatform, type Platform } from '../../src/app/platform.js';
import { buildPlatformApp } from '../../src/app/server.js';
import { loadConfig } from '../../src/config/load-config.js';
import { bearer } from '../authorization/platform-app.js';
import { testLogger } from '../helpers/databases.js';
import { multipartBody } from '../http/fake-app.js';

export interface CachePlatform {
  platform: Platform;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** The real composition root (openPlatform + buildPlatformApp) with a settable clock, no workers. */
export async function openCachePlatform(
  env: Record<string, string>,
  now: () => Date,
): Promise<CachePlatform> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '0',
    MAX_UPLOAD_BYTES: String(3 * 1024 * 1024),
    ...env,
  });
  const platform = await openPlatform(config, testLogger(), { now });
  try {
    const app = await buildPlatformApp(platform);
    await app.ready();
    return {
      platform,
      app,
      close: async () => {
        await app.close();
        await platform.close();
      },
    };
  } catch (error) {
    await platform.close();
    throw error;
  }
}

export interface MediaItem {
  id: string;
  legalHold: boolean;
  uploader: { label: string | null } | null;
  latestAnalysis: { id: string; status: string; band: string | null } | null;
}

/** HTTP helpers over one app, each answer checked for its status. */
export function apiClient(app: FastifyInstance) {
  const request = async (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    key: string,
    body?: unknown,
  ) =>
    app.inject({
      method,
      url,
      headers: bearer(key),
      ...(body === undefined ? {} : { payload: body as object }),
    });
  return {
    request,
    async listBody(key: string, query = ''): Promise<string> {
      const response = await request('GET', `/api/v1/media${query}`, key);
      expect(response.statusCode, response.body).toBe(200);
      return response.body;
    },
    async list(key: string): Promise<MediaItem[]> {
      return (JSON.parse(await this.listBody(key)) as { items: MediaItem[] }).items;
    },
    async reportBody(analysisId: string, key: string): Promise<string> {
      const response = await request('GET', `/api/v1/analyses/${analysisId}`, key);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(response.headers['cache-control']).toMatch(/no-store/);
      return response.body;
    },
    async upload(clip: Buffer, key: string, name = 'clip.mp4'): Promise<{ id: string; analysisId: string }> {
      const { payload, headers } = multipartBody('file', clip, name);
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/media',
        payload,
        headers: { ...headers, ...bearer(key) },
      });
      expect(response.statusCode, response.body).toBe(201);
      return response.json();
    },
  };
}

/** Runs the `analysis.run` handler in this process, as a worker would (the real pipeline). */
export async function runAnalysis(platform: Platform, orgId: string, analysisId: string): Promise<void> {
  await platform.services.analysisService.run(
    { analysisId, orgId },
    { jobId: analysisId, attempt: 1, signal: new AbortController().signal, reportProgress: async () => {} },
  );
}
