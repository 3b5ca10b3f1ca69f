import { useEffect, useReducer } from 'react';
import {
  applyLiveMessage,
  isRefusalClose,
  reconnectDelayMs,
  type EventsServerMessage,
  type LiveStatus,
} from './live-status.js';

type Action = { message: EventsServerMessage } | { connected: boolean } | { refused: string };

interface LiveState extends LiveStatus {
  connected: boolean;
}

/**
 * Follows one analysis over /api/v1/events?analysisId= while it is queued or running, reconnecting by itself;
 * every (re)connection opens with the analysis's current state, so nothing is missed while disconnected.
 */
export function useLiveStatus(analysisId: string, initial: LiveStatus, follow: boolean): LiveState {
  const [state, dispatch] = useReducer(
    (current: LiveState, action: Action): LiveState => {
      if ('connected' in action) return { ...current, connected: action.connected };
      if ('refused' in action) return { ...current, refused: action.refused };
      return { ...applyLiveMessage(current, action.message, analysisId), connected: true };
    },
    { ...initial, connected: false },
  );

  useEffect(() => {
    if (!follow) return;
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;
    const connect = () => {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const query = new URLSearchParams({ analysisId });
      socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/events?${query.toString()}`);
      socket.onopen = () => {
        attempt = 0;
        dispatch({ connected: true });
      };
      socket.onmessage = (event) => {
        const message = parseMessage(event.data);
        if (message) dispatch({ message });
      };
      socket.onclose = (event) => {
        socket = null;
        dispatch({ connected: false });
        if (stopped) return;
        if (isRefusalClose(event.code)) {
          dispatch({ refused: event.reason || 'The server stopped sending progress for this analysis.' });
          return;
        }
        timer = setTimeout(connect, reconnectDelayMs(attempt++));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      socket?.close(1000);
    };
  }, [analysisId, follow]);

  return state;
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
