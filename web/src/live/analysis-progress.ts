import type { components } from '../api/schema.js';
import type { Band } from '../components/band-words.js';

export type EventsServerMessage = components['schemas']['EventsServerMessage'];
type AnalysisStatus = components['schemas']['EventsAnalysisStateMessage']['status'];

export interface StageProgress {
  name: string;
  /** Epoch ms (this browser's clock) when this page saw the stage start. */
  startedAt: number | null;
  finishedAt: number | null;
}

/** What one page knows about one analysis, built from the messages of its WebSocket. */
export interface AnalysisProgress {
  status: AnalysisStatus | 'connecting';
  /** 0–1 */
  progress: number;
  stage: string | null;
  stages: StageProgress[];
  band: Band | null;
  preliminaryBand: Band | null;
  /** When this page first saw the analysis running, for the total time elapsed. */
  startedAt: number | null;
  finishedAt: number | null;
  error: string | null;
}

export const initialProgress: AnalysisProgress = {
  status: 'connecting',
  progress: 0,
  stage: null,
  stages: [],
  band: null,
  preliminaryBand: null,
  startedAt: null,
  finishedAt: null,
  error: null,
};

/** Folds one server message into the analysis's progress; messages of other analyses are ignored. */
export function applyEvent(
  state: AnalysisProgress,
  message: EventsServerMessage,
  analysisId: string,
  receivedAt: number,
): AnalysisProgress {
  if (message.type === 'subscribed') return state;
  if (message.type === 'error') return { ...state, error: message.detail };
  if (message.analysisId !== analysisId) return state;
  // This browser's clock throughout: elapsed times are then never skewed against the server's.
  const at = receivedAt;
  const base: AnalysisProgress = {
    ...state,
    status: message.status,
    // A state message after a reconnect may carry less than we saw live: keep the furthest.
    progress: Math.max(state.progress, message.progress),
    stage: message.stage,
    startedAt: state.startedAt ?? (message.status === 'running' ? at : null),
  };
  switch (message.type) {
    case 'analysis.state':
      return {
        ...base,
        band: message.band ?? state.band,
        finishedAt: isEnded(message.status) ? (state.finishedAt ?? at) : null,
      };
    case 'analysis.preliminary':
      return { ...base, preliminaryBand: message.band };
    case 'analysis.done':
      return {
        ...base,
        progress: 1,
        band: message.band ?? null,
        finishedAt: at,
        stages: closeAll(state.stages, at),
      };
    case 'analysis.failed':
      return { ...base, finishedAt: at, stages: closeAll(state.stages, at) };
    case 'analysis.progress':
      return {
        ...base,
        // A stage under way means the analysis runs, whatever status the event carried.
        startedAt: base.startedAt ?? at,
        stages: message.stage ? markStage(state.stages, message.stage, message.phase, at) : state.stages,
      };
  }
}

function isEnded(status: AnalysisStatus): boolean {
  return status === 'done' || status === 'failed';
}

function markStage(
  stages: StageProgress[],
  name: string,
  phase: 'started' | 'finished' | undefined,
  at: number,
): StageProgress[] {
  const existing = stages.find((stage) => stage.name === name);
  if (!existing) {
    return [...stages, { name, startedAt: at, finishedAt: phase === 'finished' ? at : null }];
  }
  if (phase !== 'finished') return stages;
  return stages.map((stage) => (stage.name === name ? { ...stage, finishedAt: at } : stage));
}

/** At the end, a stage whose finish this page missed is over too. */
function closeAll(stages: StageProgress[], at: number): StageProgress[] {
  return stages.map((stage) => (stage.finishedAt === null ? { ...stage, finishedAt: at } : stage));
}

/** Seconds as a person reads them: "0.4 s", "12 s", "2 min 5 s". */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  if (seconds < 9.95) return `${seconds.toFixed(1)} s`;
  // Rounded first, so 59.6 s reads "1 min 0 s" rather than "60 s".
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

/** A stage name in words: `detector:gop-double-compression` → "Detector gop-double-compression". */
export function stageWords(name: string): string {
  const known: Record<string, string> = {
    start: 'Starting',
    probe: 'Reading the container',
    frames: 'Decoding frames',
    faces: 'Finding faces',
    preliminary: 'Preliminary band',
    fusion: 'Combining the detectors',
    report: 'Writing the report',
  };
  if (name.startsWith('detector:')) return `Detector ${name.slice('detector:'.length)}`;
  return known[name] ?? name;
}
