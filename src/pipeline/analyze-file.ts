import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
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

/**
 * A local file through the whole pipeline without a server: sniff, then the pipeline (intake check,
 * detectors) while the file is hashed, so a large file's hash does not hold back the first result.
 */
export async function analyzeFile(path: string, deps: AnalyzeFileDeps): Promise<AnalysisReport> {
  const { signal } = deps;
  const { sizeBytes, head } = await readHead(path);
  if (!sniffMedia(head)) {
    const what = describeNonMedia(head);
    if (sizeBytes === 0) throw new UnsupportedMediaError(`${path} is empty`);
    throw new UnsupportedMediaError(
      what
        ? `${path}: the file is ${what}, not media`
        : `${path}: not a recognised video, image or audio format`,
    );
  }
  const sha256 = hashFile(path, signal);
  // The run awaits it for the report; when the run fails first, its failure is the one to tell.
  sha256.catch(() => undefined);
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

/** The file's size and first bytes, for sniffing. */
async function readHead(path: string): Promise<{ sizeBytes: number; head: Buffer }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const { buffer, bytesRead } = await file.read({ buffer: Buffer.alloc(sniffLength), position: 0 });
    return { sizeBytes: size, head: buffer.subarray(0, bytesRead) };
  } finally {
    await file.close();
  }
}

/** Streaming SHA-256, in constant memory for any size. */
async function hashFile(path: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
