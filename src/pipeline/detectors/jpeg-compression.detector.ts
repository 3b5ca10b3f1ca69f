import { standardLuminanceTable } from '../../media/jpeg/ijg-tables.js';
import {
  componentBlockCount,
  decodeCoefficients,
  UnsupportedJpegError,
  type ComponentCoefficients,
} from '../../media/jpeg/jpeg-coefficients.js';
import {
  JpegFormatError,
  readJpegStructure,
  type JpegComponent,
  type JpegFrame,
  type JpegStructure,
} from '../../media/jpeg/jpeg-structure.js';
import { openByteReader } from '../../media/media-bytes.js';
import { readAllBytes } from '../../media/read-all-bytes.js';
import type { Detector, DetectorArtifact, DetectorContext, DetectorFinding, Evidence } from '../detector.js';
import {
  analyseDoubleQuantisation,
  summariseDoubleQuantisation,
  type DoubleQuantisationSummary,
  type FrequencyFit,
} from './double-quantisation.js';
import {
  evidenceMapPgm,
  mapDoubleQuantisation,
  type DecodedComponent,
  type DoubleQuantisationMap,
} from './double-quantisation-map.js';
import { qualityOfScale, quantisationTraces, type QuantisationTraces } from './jpeg-quantisation-tables.js';
import { round } from './statistics.js';
import { stillImageFormat } from './still-image.js';

/** JPEGs are decoded in memory: larger files abstain. */
export const maxJpegBytes = 64 * 1024 * 1024;
/** Luminance samples decoded at most (2 bytes each as coefficients). */
export const maxLuminancePixels = 40_000_000;
/** Coefficients of all components kept at most (2 bytes each): beyond it only the luminance is decoded. */
const maxCoefficientSamples = 80_000_000;

// Measured on 70 textured pictures per class (docs/detectors.md): single saves stay below 0.02
// nats per coefficient; a coarser earlier save (q75 → q90, q85 → q95) gives 0.6–1.4.
const weakTrace = 0.02;
const strongTrace = 0.1;
// Below this much texture the histograms cannot show a trace either way.
const minNonZero = 3000;
const minFrequencies = 4;
// Natural pictures fit one of the models to within ~0.3 nats of deviance per coefficient (measured);
// graphics with flat areas and hard edges (charts, chessboards, renders) go far beyond. A misfit is
// tolerated while the double model explains more than is left unexplained (encoders that round with a
// dead zone, like FFmpeg's, fit less well but leave a strong trace).
const maxMisfit = 0.6;
// A region only counts where the whole-picture trace is clear enough to map.
const mappableTrace = 0.05;

export function createJpegCompressionDetector(): Detector {
  return {
    id: 'jpeg-compression',
    version: '1.0.0',
    needs: ['probe'],
    strength: 'standard',
    description:
      'JPEG quantisation traces: the tables (camera-specific or a library such as libjpeg at a given quality), and double compression from the DCT coefficient histograms, mapped per 8×8 block to find a region that lacks the trace the rest carries.',
    applicable({ probe }) {
      return stillImageFormat(probe) === 'jpeg'
        ? { applicable: true }
        : { applicable: false, reason: 'not a JPEG still image' };
    },
    analyze,
  };
}

async function analyze(context: DetectorContext): Promise<DetectorFinding> {
  const abstain = (reason: string, partial: Partial<DetectorFinding> = {}): DetectorFinding => ({
    score: null,
    abstainReason: reason,
    coverage: { unit: '8×8 luminance blocks', analysed: 0, total: 0, fraction: 0 },
    evidence: [],
    explanation: reason,
    measurements: {},
    ...partial,
  });
  if (context.sizeBytes > maxJpegBytes)
    return abstain(`the JPEG is larger than ${maxJpegBytes / 1024 / 1024} MiB: not decoded`);
  const reader = await openByteReader(context.input, context.sizeBytes);
  let bytes: Buffer;
  try {
    bytes = await readAllBytes(reader, maxJpegBytes);
  } finally {
    await reader.close();
  }
  let structure: JpegStructure;
  try {
    structure = readJpegStructure(bytes);
  } catch (error) {
    if (error instanceof JpegFormatError)
      return abstain(`the JPEG structure cannot be read: ${error.message}`);
    throw error;
  }
  const frame = structure.frame;
  if (!frame) return abstain('the JPEG has no frame header');
  const tables = quantisationTraces(structure);
  const tableEvidence = describeTables(tables);
  const base = {
    evidence: [tableEvidence.evidence],
    measurements: {
      coding: frame.coding,
      width: frame.width,
      height: frame.height,
      ...tableEvidence.measurements,
    },
  };
  const blocks = componentBlockCount(frame, 0);
  if (blocks * 64 > maxLuminancePixels)
    return abstain(
      `the picture has more than ${maxLuminancePixels / 1e6} million luminance samples: not decoded`,
      {
        ...base,
        explanation: `${tableEvidence.sentence} Double compression was not examined: the picture is too large to decode here.`,
      },
    );
  const luminanceTable = structure.quantTables.get(frame.components[0]?.quantTableId ?? -1)?.values;
  if (!luminanceTable) return abstain('the luminance quantisation table is missing', base);
  // Colour is decoded too (to tell clipped colours), when the memory budget allows.
  const colour =
    frame.components.length === 3 &&
    [0, 1, 2].reduce((sum, index) => sum + componentBlockCount(frame, index) * 64, 0) <=
      maxCoefficientSamples;
  let decoded: ComponentCoefficients[];
  try {
    decoded = decodeCoefficients(bytes, structure, colour ? [0, 1, 2] : [0]);
  } catch (error) {
    if (error instanceof UnsupportedJpegError || error instanceof JpegFormatError)
      return abstain(`the JPEG data cannot be decoded here: ${error.message}`, {
        ...base,
        explanation: `${tableEvidence.sentence} Double compression was not examined: ${error.message}.`,
      });
    throw error;
  }
  const coefficients = decoded[0] as ComponentCoefficients;
  if (coefficients.truncatedScans > 0)
    return abstain(
      'the entropy-coded data ends before the last blocks: the coefficients are incomplete',
      base,
    );
  const totalBlocks = coefficients.blocksWide * coefficients.blocksHigh;
  const coverage = { unit: '8×8 luminance blocks', analysed: totalBlocks, total: totalBlocks, fraction: 1 };
  const analysis = analyseDoubleQuantisation(coefficients, luminanceTable);
  const summary = summariseDoubleQuantisation(analysis.fits, standardLuminanceTable);
  const measurements = {
    ...base.measurements,
    blocks: totalBlocks,
    frequenciesFitted: analysis.fits.length,
    coefficientsAnalysed: summary.nonZero,
    doubleCompressionStatistic: round(summary.statistic, 4),
    freeFitStatistic: round(summary.freeStatistic, 4),
    tableFitStatistic: round(summary.tableStatistic, 4),
    modelMisfit: round(summary.misfit, 3),
  };
  if (summary.nonZero < minNonZero || analysis.fits.length < minFrequencies)
    return abstain(
      `too little texture for the coefficient histograms: ${summary.nonZero} non-zero low-frequency coefficients in ${analysis.fits.length} frequencies (at least ${minNonZero} in ${minFrequencies} are needed)`,
      {
        ...base,
        coverage,
        measurements,
        explanation: `${tableEvidence.sentence} Double compression could not be judged: the picture is too small or too flat.`,
      },
    );

  if (summary.misfit > maxMisfit && summary.misfit > summary.statistic)
    return abstain(
      `the DCT histograms follow neither a single nor a double save (misfit ${round(summary.misfit, 2)} per coefficient): graphics, text, screenshots or renders, whose statistics the model does not describe`,
      {
        ...base,
        coverage,
        measurements,
        explanation: `${tableEvidence.sentence} Double compression was not judged: the picture does not have natural-image DCT statistics.`,
      },
    );
  const picture = { width: frame.width, height: frame.height };
  const mapped =
    summary.statistic >= mappableTrace
      ? mapDoubleQuantisation(
          { coefficients, table: luminanceTable, scaleX: 1, scaleY: 1 },
          colour ? chromaComponents(structure, decoded) : [],
          strongFits(analysis.fits),
          picture,
        )
      : null;

  const judged = judge(summary, analysis.fits, mapped, tables);
  return {
    score: judged.score,
    coverage,
    evidence: [tableEvidence.evidence, ...judged.evidence],
    explanation: `${judged.sentence} ${tableEvidence.sentence}`,
    measurements: {
      ...measurements,
      ...(summary.tableScale !== null ? { earlierTableScale: summary.tableScale } : {}),
      ...(mapped
        ? {
            mapWindowBlocks: mapped.window,
            blocksFavouringDouble: mapped.doubleBlocks,
            blocksFavouringSingle: mapped.singleBlocks,
            clippedBlocks: mapped.clippedBlocks,
          }
        : {}),
      score: judged.score,
    },
    artifacts: mapped ? artifacts(mapped, analysis.fits, summary) : undefined,
  };
}

function chromaComponents(structure: JpegStructure, decoded: ComponentCoefficients[]): DecodedComponent[] {
  const frame = structure.frame as JpegFrame;
  const luma = frame.components[0] as JpegComponent;
  return [1, 2].flatMap((index) => {
    const component = frame.components[index] as JpegComponent;
    const table = structure.quantTables.get(component.quantTableId)?.values;
    const coefficients = decoded[index];
    if (!table || !coefficients) return [];
    return [
      {
        coefficients,
        table,
        scaleX: component.horizontalSampling / luma.horizontalSampling,
        scaleY: component.verticalSampling / luma.verticalSampling,
      },
    ];
  });
}

/** Frequencies whose fit clearly prefers an earlier step: the ones that can tell blocks apart. */
function strongFits(fits: readonly FrequencyFit[]): FrequencyFit[] {
  return fits.filter(
    (fit) => fit.q1 !== null && fit.alpha >= 0.3 && fit.gain >= 20 && fit.separation >= 0.05,
  );
}

function judge(
  summary: DoubleQuantisationSummary,
  fits: readonly FrequencyFit[],
  mapped: DoubleQuantisationMap | null,
  tables: QuantisationTraces,
): { score: number; evidence: Evidence[]; sentence: string } {
  const earlier = earlierSave(summary, fits);
  const resaved = `re-saved: the DCT histograms carry the periodic gaps or peaks of an earlier JPEG save${earlier}`;
  const caveat =
    'Re-saving is itself an edit trace (an editor, an app or a platform wrote the file again) but not proof of manipulation.';
  if (mapped?.region) {
    const { box, meanEvidence, consistencyOutside } = mapped.region;
    const score = round(Math.min(0.95, 0.7 + 0.25 * Math.min(1, -meanEvidence / (4 * 5))));
    return {
      score,
      evidence: [
        doubleEvidence(summary, fits, resaved),
        {
          kind: 'double-compression-inconsistent-region',
          summary: `a ${box.width}×${box.height} px region at (${box.x}, ${box.y}) lacks the double-compression trace that ${Math.round(consistencyOutside * 100)}% of the rest of the picture carries: it was not in the picture when it was first saved (pasted, retouched or re-rendered)`,
          data: {
            box,
            blocks: mapped.region.blocks,
            meanEvidence: round(meanEvidence, 2),
            consistencyOutside: round(consistencyOutside),
          },
        },
      ],
      sentence: `The picture was ${resaved}, except in a ${box.width}×${box.height} px region at (${box.x}, ${box.y}) that looks saved only once: content inserted or changed between the saves.`,
    };
  }
  if (summary.statistic >= weakTrace) {
    const strong = summary.statistic >= strongTrace;
    const score = strong ? 0.6 : 0.45;
    return {
      score,
      evidence: [doubleEvidence(summary, fits, resaved)],
      sentence: `The picture was ${resaved} (${strong ? 'clear' : 'weak'} trace, ${round(summary.statistic, 3)} nats per coefficient). ${mapped ? 'The trace is spread over the whole picture, with no region lacking it. ' : ''}${caveat}`,
    };
  }
  return {
    score: tables.standard ? 0.15 : 0.05,
    evidence: [],
    sentence: `No double-compression trace: the coefficient histograms fit a single save (${round(summary.statistic, 4)} nats per coefficient, below ${weakTrace}). A re-save at the same or a much finer quality, or after cropping off the 8×8 grid, leaves no such trace.`,
  };
}

function doubleEvidence(
  summary: DoubleQuantisationSummary,
  fits: readonly FrequencyFit[],
  resaved: string,
): Evidence {
  const steps = strongFits(fits)
    .slice(0, 8)
    .map((fit) => ({
      zigzag: fit.zigzag,
      earlierStep: fit.q1,
      finalStep: fit.q2,
      share: round(fit.alpha, 2),
    }));
  return {
    kind: 'double-compression',
    summary: `${resaved} (${round(summary.statistic, 3)} nats per coefficient)`,
    data: { statistic: round(summary.statistic, 4), tableScale: summary.tableScale, steps },
  };
}

/** "at about IJG quality 75" when one scaled standard table explains the histograms, else the steps found. */
function earlierSave(summary: DoubleQuantisationSummary, fits: readonly FrequencyFit[]): string {
  if (summary.tableScale !== null && summary.tableStatistic >= 0.8 * summary.freeStatistic) {
    const quality = qualityOfScale(summary.tableScale);
    if (quality !== null) return ` at about IJG quality ${quality}`;
  }
  const steps = strongFits(fits).slice(0, 3);
  return steps.length
    ? ` (earlier steps ${steps.map((fit) => `${fit.q1} where the file has ${fit.q2}`).join(', ')})`
    : '';
}

function describeTables(tables: QuantisationTraces): {
  evidence: Evidence;
  sentence: string;
  measurements: Record<string, number | string | boolean>;
} {
  const luminance = tables.tables.find((table) => table.role === 'luminance');
  const list = tables.tables
    .map(
      (table) =>
        `${table.role} ${table.exact ? `= IJG quality ${table.quality}` : `≈ IJG quality ${table.quality} (mean difference ${table.meanDifference})`}`,
    )
    .join(', ');
  const sentence = tables.standard
    ? `The quantisation tables are libjpeg's standard tables (${list}): the file was written by software using the IJG library (editors, web services, Python or OpenCV), which many cameras do not use; on its own this is a weak cue.`
    : `The quantisation tables are custom (${list}), as cameras and phones write them; custom tables do not rule out editing.`;
  return {
    evidence: {
      kind: tables.standard ? 'standard-quantisation-tables' : 'custom-quantisation-tables',
      summary: sentence,
      data: { tables: tables.tables },
    },
    sentence,
    measurements: {
      standardTables: tables.standard,
      ...(luminance ? { luminanceQuality: luminance.quality, luminanceTableExact: luminance.exact } : {}),
    },
  };
}

function artifacts(
  mapped: DoubleQuantisationMap,
  fits: readonly FrequencyFit[],
  summary: DoubleQuantisationSummary,
): DetectorArtifact[] {
  const frequencies = fits.map(({ logRatio: _logRatio, gainByStep: _gainByStep, ...fit }) => ({
    ...fit,
    alpha: round(fit.alpha, 3),
    gain: round(fit.gain, 1),
    separation: round(fit.separation, 3),
  }));
  return [
    {
      name: 'double-compression-map.pgm',
      contentType: 'image/x-portable-graymap',
      description: `Per 8×8 block, double-compression evidence over a ${mapped.window}×${mapped.window}-block window: white favours an earlier save, black a single save, grey no information.`,
      data: evidenceMapPgm(mapped),
    },
    {
      name: 'double-compression-fit.json',
      contentType: 'application/json',
      description:
        'Per DCT frequency: the file step, the most likely earlier step, the share explained and the likelihood gain.',
      data: Buffer.from(JSON.stringify({ summary, region: mapped.region, frequencies })),
    },
  ];
}
