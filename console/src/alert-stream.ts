import type { Alert, AlertEvent } from './api-types.ts';

export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'offline'; retryAt: number; code: number };

export interface StreamHandlers {
  onSnapshot(alerts: Alert[]): void;
  onEvent(event: AlertEvent): void;
  onStatus(status: StreamStatus): void;
  /** called when a connection closed before it ever opened: the token may have been revoked */
  onRejected?(): void;
}

export interface AlertStream {
  retryNow(): void;
  close(): void;
}

type StreamMessage =
  | { type: 'snapshot'; seq: number; alerts: Alert[] }
  | { type: 'resume'; seq: number; events: AlertEvent[] }
  | { type: 'event'; event: AlertEvent }
  | { type: 'events'; events: AlertEvent[] }
  | { type: string };

const MIN_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;
/** the server closes a consumer that falls behind with 4008: catch up with a fresh snapshot at once */
const SLOW_CONSUMER = 4008;

/** Exponential backoff with jitter, so a restarted platform is not hit by every wall screen at once. */
export function backoffDelay(attempt: number, random: number = Math.random()): number {
  const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** attempt);
  return Math.round(base * (0.5 + random / 2));
}

function withSince(url: string, seq: number): string {
  return `${url}${url.includes('?') ? '&' : '?'}since=${seq}`;
}

export function connectAlertStream(url: string, handlers: StreamHandlers): AlertStream {
  let socket: WebSocket | undefined;
  let attempt = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  // the seq of the last event held: a reconnect asks for what followed (`?since=`), from any node of a cluster
  let lastSeq: number | undefined;
  let resumable = false;

  const schedule = (code: number) => {
    // a consumer dropped for falling behind catches up with a fresh snapshot, not with everything it missed
    resumable = code !== SLOW_CONSUMER;
    const delay = code === SLOW_CONSUMER ? 250 : backoffDelay(attempt++);
    handlers.onStatus({ state: 'offline', retryAt: Date.now() + delay, code });
    timer = setTimeout(open, delay);
  };

  function open(): void {
    clearTimeout(timer);
    if (closed) return;
    handlers.onStatus({ state: 'connecting' });
    let opened = false;
    const ws = new WebSocket(resumable && lastSeq !== undefined ? withSince(url, lastSeq) : url);
    socket = ws;
    ws.onopen = () => {
      opened = true;
      handlers.onStatus({ state: 'open' });
    };
    ws.onmessage = (message) => {
      let parsed: StreamMessage;
      try {
        parsed = JSON.parse(String(message.data)) as StreamMessage;
      } catch {
        return; // a malformed frame is dropped, the stream goes on
      }
      if (parsed.type === 'snapshot' && 'alerts' in parsed) {
        attempt = 0;
        lastSeq = parsed.seq;
        handlers.onSnapshot(parsed.alerts);
      } else if (parsed.type === 'event' && 'event' in parsed) {
        lastSeq = parsed.event.seq;
        handlers.onEvent(parsed.event);
      } else if ((parsed.type === 'events' || parsed.type === 'resume') && 'events' in parsed) {
        // events raised together (one reading crossing two levels, a burst) come in one frame; `resume`
        // carries what was missed while offline
        if (parsed.type === 'resume') attempt = 0;
        for (const event of parsed.events) handlers.onEvent(event);
        lastSeq = 'seq' in parsed ? parsed.seq : (parsed.events.at(-1)?.seq ?? lastSeq);
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws || closed) return;
      socket = undefined;
      if (!opened) handlers.onRejected?.();
      schedule(event.code);
    };
  }

  // A laptop waking from sleep or a cable plugged back in: no need to wait out the backoff.
  const onOnline = () => {
    if (!socket) open();
  };
  window.addEventListener('online', onOnline);
  open();

  return {
    retryNow() {
      if (!socket) open();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      window.removeEventListener('online', onOnline);
      socket?.close(1000);
      socket = undefined;
    },
  };
}
