import type { components } from '../../api/schema.js';
import type { Band } from '../../components/band-words.js';

export type EventsServerMessage = components['schemas']['EventsServerMessage'];

/** What the page knows of a queued or running analysis from the events socket. */
export interface LiveStatus {
  status: 'queued' | 'running' | 'done' | 'failed';
  stage: string | null;
  /** 0–1. */
  progress: number;
  /** The early band from the first checks: never the result, shown marked as preliminary. */
  preliminaryBand: Band | null;
  /** Checks the preliminary band does not include yet. */
  pending: string[];
  /** The subscription was refused for good (deleted analysis...). */
  refused: string | null;
}

export function initialLiveStatus(
  status: LiveStatus['status'],
  stage: string | null,
  percent: number,
): LiveStatus {
  return { status, stage, progress: percent / 100, preliminaryBand: null, pending: [], refused: null };
}

/** Folds one server message into the status; messages about other analyses are ignored. */
export function applyLiveMessage(
  current: LiveStatus,
  message: EventsServerMessage,
  analysisId: string,
): LiveStatus {
  if (message.type === 'subscribed') return current;
  if (message.type === 'error') return { ...current, refused: message.detail };
  if (message.analysisId !== analysisId) return current;
  if (current.status === 'done' || current.status === 'failed') return current;
  if (message.type === 'analysis.preliminary')
    return { ...current, status: 'running', preliminaryBand: message.band, pending: message.pending };
  return {
    ...current,
    status: message.status,
    stage: message.stage,
    // Detectors run together, so progress can arrive out of order: never move the bar backwards.
    progress:
      message.status === current.status ? Math.max(current.progress, message.progress) : message.progress,
  };
}
