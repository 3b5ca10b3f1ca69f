import { useEffect, useReducer } from 'react';
import { followAnalysisEvents } from '../../live/analysis-event-socket';
import { applyLiveMessage, type EventsServerMessage, type LiveStatus } from './live-status.js';

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
    return followAnalysisEvents<EventsServerMessage>(analysisId, {
      onMessage: (message) => dispatch({ message }),
      onConnection: (connection) => dispatch({ connected: connection === 'open' }),
      onRefused: (refused) => dispatch({ refused }),
    });
  }, [analysisId, follow]);

  return state;
}
