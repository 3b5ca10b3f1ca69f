// Uploads a file with an API key, waits for its analysis, prints the band and saves the evidence bundle.
//   GUARDIAN_URL=https://guardian.example.org GUARDIAN_API_KEY=sag_… node --import tsx examples/analyze-file.ts clip.mp4
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { bandWords, createGuardianClient } from '@secureai-guardian/client';

const [file] = process.argv.slice(2);
const baseUrl = process.env.GUARDIAN_URL;
const apiKey = process.env.GUARDIAN_API_KEY;
if (!file || !baseUrl || !apiKey) {
  console.error('usage: GUARDIAN_URL=… GUARDIAN_API_KEY=… analyze-file FILE');
  process.exit(2);
}

const guardian = createGuardianClient({ baseUrl, apiKey });
const media = await guardian.uploadFile(new Blob([await readFile(file)]), basename(file));
const { analysisId } = media;
if (!analysisId) {
  console.error(`uploaded ${media.sha256}, but no analysis was started`);
  process.exit(1);
}
console.log(`uploaded ${media.sha256}; analysis ${analysisId}`);

const analysis = await guardian.waitForAnalysis(analysisId);
if (analysis.status !== 'done' || !analysis.band) {
  console.error(`analysis ${analysis.status}: ${analysis.error?.detail ?? 'no band'}`);
  process.exit(1);
}
console.log(`band: ${analysis.band} (${bandWords[analysis.band]})`);
for (const reason of analysis.reasons ?? []) console.log(`  - ${reason}`);

const bundlePath = `evidence-${analysisId}.json`;
await writeFile(bundlePath, await guardian.evidenceBundle(analysisId));
console.log(`evidence bundle: ${bundlePath} (check it with: guardian verify ${bundlePath} --media ${file})`);
