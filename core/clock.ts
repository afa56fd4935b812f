/**
 * Time as a dependency: everything time-based (`for` durations, no-data timers, simulators, spool
 * retries) takes a Clock, so tests run in simulated time instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** epoch milliseconds */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  setInterval(fn: () => void, ms: number): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    return { cancel: () => clearInterval(t) };
  },
};

export interface ManualClock extends Clock {
  /** Moves time forward, firing due timers in order (a timer set by a timer fires too if due). */
  advance(ms: number): void;
  set(epochMs: number): void;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  every?: number;
  cancelled: boolean;
}

export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let now = start;
  let seq = 0;
  const timers: Timer[] = [];
  const add = (fn: () => void, ms: number, every?: number): TimerHandle => {
    const timer: Timer = { at: now + Math.max(0, ms), seq: seq++, fn, every, cancelled: false };
    timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  };
  const runUntil = (target: number): void => {
    for (;;) {
      let next: Timer | undefined;
      for (const t of timers) {
        if (t.cancelled || t.at > target) continue;
        if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
      }
      if (!next) break;
      now = next.at;
      if (next.every !== undefined && next.every > 0) {
        next.at += next.every;
        next.seq = seq++;
      } else {
        next.cancelled = true;
      }
      next.fn();
    }
    for (let i = timers.length - 1; i >= 0; i--) if (timers[i]!.cancelled) timers.splice(i, 1);
    now = Math.max(now, target);
  };
  return {
    now: () => now,
    setTimeout: (fn, ms) => add(fn, ms),
    setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
    advance: (ms) => runUntil(now + ms),
    set: (epochMs) => runUntil(epochMs),
  };
}
