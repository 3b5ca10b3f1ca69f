import type { WebSocket } from 'ws';
import { AppError } from '../services/errors.js';
import { actorRefOf, type Principal } from './access-control.js';

/** Counts open WebSockets per principal and in all, so idle sockets cannot pile up without end. */
export interface WebSocketLimiter {
  /** Why one more socket of this principal is refused (checked before the upgrade), or null while there is room. */
  refusal(principal: Principal): AppError | null;
  /** Takes a slot for an upgraded socket and returns its release; null when full since the check. */
  acquire(principal: Principal): (() => void) | null;
  /** Sockets open now. */
  openCount(): number;
}

export function createWebSocketLimiter(limits: { perPrincipal: number; total: number }): WebSocketLimiter {
  const perPrincipal = new Map<string, number>();
  let total = 0;
  const keyOf = (principal: Principal) => {
    const actor = actorRefOf(principal);
    return `${actor.type}:${actor.id}`;
  };
  const refusal = (principal: Principal): AppError | null => {
    if ((perPrincipal.get(keyOf(principal)) ?? 0) >= limits.perPrincipal) {
      return new AppError(
        429,
        'too-many-websockets',
        'Too many WebSockets',
        `at most ${limits.perPrincipal} open event sockets per API key or person; close one first`,
      );
    }
    if (total >= limits.total) {
      return new AppError(
        503,
        'websocket-capacity',
        'WebSocket capacity reached',
        'this server holds as many event sockets as it may; try again later',
        { retryAfterSeconds: 30 },
      );
    }
    return null;
  };
  return {
    refusal,
    acquire: (principal) => {
      if (refusal(principal)) return null;
      const key = keyOf(principal);
      perPrincipal.set(key, (perPrincipal.get(key) ?? 0) + 1);
      total += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total -= 1;
        const left = (perPrincipal.get(key) ?? 1) - 1;
        if (left > 0) perPrincipal.set(key, left);
        else perPrincipal.delete(key);
      };
    },
    openCount: () => total,
  };
}

/** Pings every `intervalMs`; a socket that did not answer the previous ping is terminated (a half-open peer). */
export function terminateUnresponsive(socket: WebSocket, intervalMs: number): void {
  let answered = true;
  socket.on('pong', () => (answered = true));
  const timer = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, intervalMs);
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}
