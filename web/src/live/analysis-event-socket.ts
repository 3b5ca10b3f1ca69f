import { isFinalClose, reconnectDelayMs } from './reconnect-backoff';

export interface AnalysisEventHandlers<Message extends { type: string }> {
  onMessage(message: Message): void;
  /** `open` once (re)connected; `reconnecting` after a drop, before the next attempt. */
  onConnection(state: 'open' | 'reconnecting'): void;
  /** The server refused the subscription (close 44xx), or `probe` said reconnecting cannot help. */
  onRefused(reason: string): void;
  /** Before reconnecting after a drop: a reason not to (e.g. the analysis is gone), or null to go on. */
  probe?: () => Promise<string | null>;
  /** A message after which the stream is complete, so a close is not a drop. */
  isEnd?: (message: Message) => boolean;
}

/**
 * Follows one analysis over /api/v1/events?analysisId=, reconnecting by itself with jittered backoff; each
 * (re)connection opens with the analysis's current state, so nothing is lost while disconnected.
 * Returns the function that stops following.
 */
export function followAnalysisEvents<Message extends { type: string }>(
  analysisId: string,
  handlers: AnalysisEventHandlers<Message>,
): () => void {
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let stopped = false;
  let ended = false;

  const connect = () => {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const query = new URLSearchParams({ analysisId });
    socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/events?${query.toString()}`);
    socket.onopen = () => {
      attempt = 0;
      handlers.onConnection('open');
    };
    socket.onmessage = (event) => {
      const message = parseMessage<Message>(event.data);
      if (!message) return;
      if (handlers.isEnd?.(message)) ended = true;
      handlers.onMessage(message);
    };
    socket.onclose = (event) => {
      socket = null;
      if (stopped || ended) return;
      if (isFinalClose(event.code)) {
        handlers.onRefused(event.reason || 'The server stopped sending progress for this analysis.');
        return;
      }
      handlers.onConnection('reconnecting');
      timer = setTimeout(() => {
        void (handlers.probe?.() ?? Promise.resolve(null)).then((refusal) => {
          if (stopped) return;
          if (refusal) handlers.onRefused(refusal);
          else connect();
        });
      }, reconnectDelayMs(attempt++));
    };
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    socket?.close(1000);
  };
}

function parseMessage<Message extends { type: string }>(data: unknown): Message | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = JSON.parse(data) as { type?: unknown };
    return typeof parsed.type === 'string' ? (parsed as Message) : null;
  } catch {
    return null;
  }
}
