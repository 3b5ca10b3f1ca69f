import { useEffect, useReducer } from 'react';
import {
  applyEvent,
  initialProgress,
  type AnalysisProgress,
  type EventsServerMessage,
} from '../live/analysis-progress';
import { followAnalysisEvents } from '../live/analysis-event-socket';

type Action = { message: EventsServerMessage; receivedAt: number } | { connectionError: string | null };

/**
 * One analysis's live progress over /api/v1/events?analysisId=, reconnecting by itself with backoff; each
 * (re)connection starts with the analysis's current state, so nothing is lost while disconnected.
 * `probe` answers whether reconnecting can help after a failed handshake (e.g. a REST read that 404s).
 */
export function useLiveAnalysis(
  analysisId: string | null,
  probe?: () => Promise<string | null>,
): AnalysisProgress & { reconnecting: boolean } {
  const [state, dispatch] = useReducer(
    (current: AnalysisProgress & { reconnecting: boolean }, action: Action) => {
      if ('connectionError' in action) {
        return action.connectionError === null
          ? { ...current, reconnecting: true }
          : { ...current, reconnecting: false, error: action.connectionError };
      }
      if (!analysisId) return current;
      return { ...applyEvent(current, action.message, analysisId, action.receivedAt), reconnecting: false };
    },
    { ...initialProgress, reconnecting: false },
  );

  useEffect(() => {
    if (!analysisId) return;
    return followAnalysisEvents<EventsServerMessage>(analysisId, {
      onMessage: (message) => dispatch({ message, receivedAt: Date.now() }),
      onConnection: (connection) => {
        if (connection === 'reconnecting') dispatch({ connectionError: null });
      },
      onRefused: (reason) => dispatch({ connectionError: reason }),
      isEnd: (message) => message.type !== 'subscribed' && message.type !== 'error' && isEnd(message),
      ...(probe ? { probe } : {}),
    });
  }, [analysisId, probe]);

  return state;
}

function isEnd(message: { type: string; status?: string }): boolean {
  return message.status === 'done' || message.status === 'failed';
}
