import { useEffect, useReducer } from 'react';
import {
  applyEvent,
  initialProgress,
  type AnalysisProgress,
  type EventsServerMessage,
} from '../live/analysis-progress';
import { isFinalClose, reconnectDelayMs } from '../live/reconnect-backoff';

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
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    let ended = false;

    const connect = () => {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const url = `${scheme}://${window.location.host}/api/v1/events?analysisId=${encodeURIComponent(analysisId)}`;
      socket = new WebSocket(url);
      socket.onmessage = (event) => {
        attempt = 0;
        const message = parseMessage(event.data);
        if (!message) return;
        if (message.type !== 'subscribed' && message.type !== 'error' && isEnd(message)) ended = true;
        dispatch({ message, receivedAt: Date.now() });
      };
      socket.onclose = (event) => {
        socket = null;
        if (stopped || ended) return;
        if (isFinalClose(event.code)) {
          dispatch({ connectionError: event.reason || 'the analysis cannot be followed' });
          return;
        }
        dispatch({ connectionError: null });
        const delay = reconnectDelayMs(attempt++);
        timer = setTimeout(() => {
          void (probe?.() ?? Promise.resolve(null)).then((refusal) => {
            if (stopped) return;
            if (refusal) dispatch({ connectionError: refusal });
            else connect();
          });
        }, delay);
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000);
    };
  }, [analysisId, probe]);

  return state;
}

function isEnd(message: { type: string; status?: string }): boolean {
  return message.status === 'done' || message.status === 'failed';
}

function parseMessage(data: unknown): EventsServerMessage | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = JSON.parse(data) as { type?: unknown };
    return typeof parsed.type === 'string' ? (parsed as EventsServerMessage) : null;
  } catch {
    return null;
  }
}
