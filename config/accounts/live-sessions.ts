import type { Principal } from './principal.ts';

/**
 * Every live connection (MQTT over TCP or WebSocket, the alert stream) registered with the principal that
 * opened it, so that revoking a credential can close what it opened. The broker and the WebSocket routes
 * register; the auth reload closes through it. HTTP requests need no entry: each one is checked anew.
 */
export interface LiveSession {
  readonly principal: Principal;
  /** what it is, for the log: "mqtt", "alert-stream" */
  readonly channel: string;
  close(reason: string): void;
}

export interface LiveSessionRegistry {
  /** returns the function that removes the entry (call it when the connection ends) */
  register(session: LiveSession): () => void;
  /** closes and removes every session the predicate picks; returns them */
  closeWhere(pick: (principal: Principal) => boolean, reason: string): LiveSession[];
  readonly size: number;
}

export function createLiveSessionRegistry(): LiveSessionRegistry {
  const sessions = new Set<LiveSession>();
  return {
    register(session) {
      sessions.add(session);
      return () => {
        sessions.delete(session);
      };
    },
    closeWhere(pick, reason) {
      const closed = [...sessions].filter((s) => pick(s.principal));
      for (const s of closed) {
        sessions.delete(s);
        try {
          s.close(reason);
        } catch {
          // already closing: nothing else to do, and one broken socket must not keep the others open
        }
      }
      return closed;
    },
    get size() {
      return sessions.size;
    },
  };
}
