import { JPEG, PNG, type Asset } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import {
  ManifestStore,
  ValidationResult,
  type Manifest,
  type ValidationStatusEntry,
} from '@trustnxt/c2pa-ts/manifest';
import { readMetadataBlocks } from '../../media/image-metadata/metadata-blocks.js';
import { readJpegStructure } from '../../media/jpeg/jpeg-structure.js';
import { openByteReader, WindowedReader } from '../../media/media-bytes.js';
import type { Detector, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import { readAllBytes } from '../../media/read-all-bytes.js';
import { stillImageFormat } from './still-image.js';

/** Manifests are validated in memory: larger files are not loaded. */
export const maxProvenanceBytes = 64 * 1024 * 1024;

// Weak-strength scores: listed as cues, never setting the band. A declaration is the maker's own statement.
const generatedScore = 0.5;
const editedScore = 0.3;
const invalidScore = 0.5;

const generatedSourceTypes =
  /trainedAlgorithmicMedia|compositeWithTrainedAlgorithmicMedia|algorithmicMedia|compositeSynthetic|c2pa\.trainedAlgorithmicData/i;
const editActions =
  /^c2pa\.(edited|cropped|filtered|color_adjustments|adjustedColor|resized|drawing|placed|removed|transcoded|repackaged|converted|orientation|changed)/i;
// Codes about the signer's certificate profile or trust, not about whether the content matches the claim.
const credentialCodes = /^(signingCredential|timeStamp)\./;

export function createC2paProvenanceDetector(): Detector {
  return {
    id: 'c2pa-provenance',
    version: '1.0.0',
    needs: ['probe'],
    strength: 'weak',
    description:
      'C2PA Content Credentials: whether a manifest is embedded, whether its signature and hash bindings validate, who signed it, and which actions (edits, AI generation) it declares.',
    applicable({ probe }) {
      const format = stillImageFormat(probe);
      if (format === null)
        return { applicable: false, reason: 'not a still image (C2PA in video is not read yet)' };
      if (format === 'gif' || format === 'bmp')
        return { applicable: false, reason: `C2PA manifests in ${format.toUpperCase()} files are not read` };
      return { applicable: true };
    },
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const format = stillImageFormat(context.probe);
  const coverage = (analysed: number) => ({ unit: 'manifests', analysed, total: 1, fraction: analysed });
  const abstain = (reason: string, measurements: DetectorFinding['measurements'] = {}): DetectorFinding => ({
    score: null,
    abstainReason: reason,
    coverage: coverage(0),
    evidence: [],
    explanation: `${reason}. Content Credentials are positive evidence when present; their absence says nothing either way.`,
    measurements: { manifestPresent: false, ...measurements },
  });
  if (context.sizeBytes > maxProvenanceBytes)
    return abstain(`the file is larger than ${maxProvenanceBytes / 1024 / 1024} MiB: provenance not read`);
  const reader = await openByteReader(context.input, context.sizeBytes);
  let bytes: Buffer;
  try {
    if (format === 'webp') {
      const blocks = await readMetadataBlocks('webp', new WindowedReader(reader, 256 * 1024));
      return blocks.structures.includes('C2PA')
        ? abstain('a C2PA chunk is present but manifests in WebP cannot be validated yet', {
            manifestPresent: true,
          })
        : abstain('no C2PA manifest: provenance unknown');
    }
    bytes = await readAllBytes(reader, maxProvenanceBytes);
  } finally {
    await reader.close();
  }
  let asset: Asset;
  let jumbf: Uint8Array | undefined;
  try {
    asset = format === 'png' ? new PNG(bytes) : new JPEG(bytes);
    jumbf = asset.getManifestJUMBF();
  } catch (error) {
    return invalidManifest('the file structure around the manifest could not be read', error);
  }
  if (!jumbf) {
    // c2pa-ts skips JUMBF it cannot assemble: C2PA data the library does not see is a damaged manifest.
    return embedsC2paData(format === 'png' ? 'png' : 'jpeg', bytes)
      ? invalidManifest('its JUMBF boxes cannot be assembled into a manifest store', null)
      : abstain('no C2PA manifest: provenance unknown');
  }
  let store: ManifestStore;
  let result: ValidationResult;
  try {
    store = ManifestStore.read(SuperBox.fromBuffer(jumbf as Uint8Array<ArrayBuffer>));
    result = await store.validate(asset);
  } catch (error) {
    return invalidManifest('the embedded C2PA data is not a readable manifest store', error);
  }
  return judge(store, result);
}

/** APP11 JPEG XT segments naming C2PA, or PNG caBX chunks, whatever c2pa-ts made of them. */
function embedsC2paData(format: 'jpeg' | 'png', bytes: Buffer): boolean {
  if (format === 'png') {
    for (let offset = 8, count = 0; offset + 8 <= bytes.length && count < 100_000; count += 1) {
      if (bytes.toString('latin1', offset + 4, offset + 8) === 'caBX') return true;
      offset += 12 + bytes.readUInt32BE(offset);
    }
    return false;
  }
  try {
    return readJpegStructure(bytes).segments.some(
      (segment) =>
        segment.marker === 0xeb &&
        segment.data.toString('latin1', 0, 2) === 'JP' &&
        segment.data.includes('c2pa', 0, 'latin1'),
    );
  } catch {
    return false;
  }
}

function invalidManifest(what: string, error: unknown): DetectorFinding {
  const result =
    error === null
      ? null
      : ValidationResult.fromError(error instanceof Error ? error : new Error(String(error)));
  const codes = result?.statusEntries.map((entry) => entry.code) ?? [];
  return {
    score: invalidScore,
    coverage: { unit: 'manifests', analysed: 1, total: 1, fraction: 1 },
    evidence: [
      {
        kind: 'c2pa-invalid',
        summary: `C2PA data is embedded but ${what} (${codes.join(', ') || 'unreadable'}): the credentials were damaged, forged or stripped in part`,
        data: { codes },
      },
    ],
    explanation: `A C2PA manifest is embedded but ${what}, so its provenance claims cannot be relied on. A broken manifest is an alteration trace, not proof of manipulation.`,
    measurements: { manifestPresent: true, manifestValid: false, statusCodes: codes.join(', ') },
  };
}

function judge(store: ManifestStore, result: ValidationResult): DetectorFinding {
  const manifest = store.getActiveManifest();
  const failures = result.statusEntries.filter((entry) => entry.success === false);
  const contentFailures = failures.filter((entry) => !credentialCodes.test(entry.code));
  const credentialFailures = failures.filter((entry) => credentialCodes.test(entry.code));
  const facts = manifestFacts(manifest);
  const evidence: Evidence[] = [];
  if (contentFailures.length > 0)
    evidence.push({
      kind: 'c2pa-validation-failed',
      summary: `the manifest does not validate: ${describeCodes(contentFailures)}${contentFailures.some((entry) => /hash.*mismatch/i.test(entry.code)) ? ' (the picture changed after it was signed)' : ''}`,
      data: { codes: contentFailures.map((entry) => entry.code) },
    });
  if (credentialFailures.length > 0)
    evidence.push({
      kind: 'c2pa-credential-problem',
      summary: `the signing certificate does not meet the C2PA profile: ${describeCodes(credentialFailures)}`,
      data: { codes: credentialFailures.map((entry) => entry.code) },
    });
  const generated = facts.actions.filter(
    (action) => action.digitalSourceType && generatedSourceTypes.test(action.digitalSourceType),
  );
  if (generated.length > 0)
    evidence.push({
      kind: 'c2pa-declares-generation',
      summary: `the manifest declares AI or algorithmic generation (${[...new Set(generated.map((action) => action.digitalSourceType?.split('/').pop()))].join(', ')})`,
      data: { actions: generated },
    });
  const edits = facts.actions.filter((action) => editActions.test(action.action));
  if (edits.length > 0)
    evidence.push({
      kind: 'c2pa-declares-edits',
      summary: `the manifest declares edits: ${[...new Set(edits.map((action) => action.action))].join(', ')}${edits.some((action) => action.softwareAgent) ? ` by ${[...new Set(edits.map((action) => action.softwareAgent).filter(Boolean))].join(', ')}` : ''}`,
      data: { actions: edits },
    });
  const valid = failures.length === 0;
  const score =
    contentFailures.length > 0 || credentialFailures.length > 0
      ? invalidScore
      : generated.length > 0
        ? generatedScore
        : edits.length > 0
          ? editedScore
          : 0;
  const who = `claim generator ${facts.generator ?? 'unnamed'}, signed by ${facts.signer ?? 'an unnamed certificate'}${facts.signedAt ? ` at ${facts.signedAt}` : ''}`;
  const trustNote =
    "The signer's identity is not checked against a trust list: a valid signature shows the file is unchanged since someone signed it, not who that someone is.";
  const explanation = valid
    ? generated.length + edits.length === 0
      ? `Provenance verified: a C2PA manifest (${who}) validates — signature and hash bindings match — and declares no edits or AI generation. ${trustNote}`
      : `A C2PA manifest (${who}) validates and declares ${[generated.length ? 'AI or algorithmic generation' : null, edits.length ? 'edits' : null].filter(Boolean).join(' and ')}: the maker says so itself. ${trustNote}`
    : `A C2PA manifest (${who}) is embedded but does not validate: ${describeCodes(failures)}. Its provenance claims cannot be relied on; a broken manifest is an alteration trace, not proof of manipulation.`;
  return {
    score,
    coverage: { unit: 'manifests', analysed: 1, total: 1, fraction: 1 },
    evidence,
    explanation,
    measurements: {
      manifestPresent: true,
      manifestValid: valid,
      manifests: store.manifests.length,
      claimGenerator: facts.generator,
      signer: facts.signer,
      signedAt: facts.signedAt,
      actions: facts.actions.map((action) => action.action).join(', ') || null,
      statusCodes: result.statusEntries
        .map((entry) => `${entry.code}${entry.success === false ? ' (failed)' : ''}`)
        .join(', '),
    },
  };
}

interface DeclaredAction {
  action: string;
  digitalSourceType?: string;
  softwareAgent?: string;
}

function manifestFacts(manifest: Manifest | undefined): {
  generator: string | null;
  signer: string | null;
  signedAt: string | null;
  actions: DeclaredAction[];
} {
  const claim = manifest?.claim;
  const generator = claim
    ? [claim.claimGeneratorName, claim.claimGeneratorVersion].filter(Boolean).join(' ') ||
      claim.claimGeneratorInfo ||
      null
    : null;
  const signature = manifest?.signature?.signatureData;
  const actions: DeclaredAction[] = (manifest?.assertions?.getActionAssertions() ?? []).flatMap((assertion) =>
    assertion.actions.map((action) => ({
      action: String(action.action),
      ...(action.digitalSourceType ? { digitalSourceType: String(action.digitalSourceType) } : {}),
      ...(action.softwareAgent?.name ? { softwareAgent: action.softwareAgent.name } : {}),
    })),
  );
  return {
    generator,
    signer: signature?.certificate?.subject ?? null,
    signedAt: signature?.timestamp?.toISOString() ?? null,
    actions,
  };
}

function describeCodes(entries: ValidationStatusEntry[]): string {
  return [...new Set(entries.map((entry) => entry.code))].join(', ');
}
