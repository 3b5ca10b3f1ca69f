import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { describeNonMedia, sniffLength, sniffMedia } from '../media/media-sniffer.js';
import { UnsupportedMediaError } from './analysis-errors.js';
import type { AnalysisPipeline, AnalysisRunRequest } from './analysis-pipeline.js';
import type { AnalysisReport } from './report.js';

export interface AnalyzeFileDeps {
  pipeline: AnalysisPipeline;
  signal: AbortSignal;
  onProgress?: AnalysisRunRequest['onProgress'];
  onPreliminary?: AnalysisRunRequest['onPreliminary'];
  /** Receives the bytes of each artifact the report lists as kept. */
  onArtifact?: AnalysisRunRequest['onArtifact'];
}

/** A local file through the whole pipeline without a server: hash, sniff, then the pipeline (intake check, detectors). */
export async function analyzeFile(path: string, deps: AnalyzeFileDeps): Promise<AnalysisReport> {
  const { signal } = deps;
  const { sha256, sizeBytes, head } = await hashFile(path, signal);
  if (!sniffMedia(head)) {
    const what = describeNonMedia(head);
    if (sizeBytes === 0) throw new UnsupportedMediaError(`${path} is empty`);
    throw new UnsupportedMediaError(
      what
        ? `${path}: the file is ${what}, not media`
        : `${path}: not a recognised video, image or audio format`,
    );
  }
  // Unreadable, cut or undecodable media comes back as a not_analyzable report with the reason.
  return deps.pipeline.run({
    input: path,
    sha256,
    sizeBytes,
    signal,
    onProgress: deps.onProgress,
    onPreliminary: deps.onPreliminary,
    onArtifact: deps.onArtifact,
  });
}

/** Streaming SHA-256 (constant memory for any size), keeping the first bytes for sniffing. */
async function hashFile(
  path: string,
  signal: AbortSignal,
): Promise<{ sha256: string; sizeBytes: number; head: Buffer }> {
  const hash = createHash('sha256');
  const headChunks: Buffer[] = [];
  let headLength = 0;
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    sizeBytes += chunk.length;
    if (headLength < sniffLength) {
      const part = chunk.subarray(0, sniffLength - headLength);
      headChunks.push(part);
      headLength += part.length;
    }
  }
  return { sha256: hash.digest('hex'), sizeBytes, head: Buffer.concat(headChunks) };
}
