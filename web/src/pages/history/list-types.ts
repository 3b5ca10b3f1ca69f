// TO REPLACE: these mirror GET /api/v1/media of branch h-web-api (src/http/history-schemas.ts), which is not on
// main yet. Once it lands, regenerate web/src/api/schema.d.ts (`npm run openapi && npm run web:api-types`),
// delete this file and take the types from paths['/api/v1/media'] (and call it through api.client.GET).
import type { Band } from '../../components/band-words.js';

export type AnalysisStatus = 'queued' | 'running' | 'done' | 'failed';

export interface Uploader {
  type: 'user' | 'api-key';
  id: string;
  /** The person's email or the API key's name; null once deleted. */
  label: string | null;
}

export interface MediaHistoryItem {
  id: string;
  sha256: string;
  sizeBytes: number;
  mimeType: string;
  originalFilename: string | null;
  createdAt: string;
  uploader: Uploader | null;
  latestAnalysis: { id: string; status: AnalysisStatus; band: Band | null } | null;
}

export interface MediaHistoryPage {
  items: MediaHistoryItem[];
  nextCursor: string | null;
}
