import { WebSocket } from 'ws';

/**
 * The soak's operators: plain WebSocket clients on the alert stream, signed in with an operator's token
 * through the platform's own auth, each counting the messages it gets (not parsing them: the generator's
 * CPU is measured against the platform's, and every operator gets the same events).
 */
export interface SoakOperators {
  /** messages received, per operator */
  readonly counts: Uint32Array;
  /** streams that closed before the end */
  closed(): number;
  stop(): void;
}

export async function startSoakOperators(wsUrl: string, token: string, count: number): Promise<SoakOperators> {
  const counts = new Uint32Array(count);
  let closed = 0;
  let stopping = false;
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      (_, i) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${wsUrl}/api/alerts/stream?token=${encodeURIComponent(token)}`);
          ws.on('message', () => {
            counts[i]!++;
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
          ws.once('close', () => {
            if (!stopping) closed++;
          });
        }),
    ),
  );
  return {
    counts,
    closed: () => closed,
    stop() {
      stopping = true;
      for (const s of sockets) s.terminate();
    },
  };
}
