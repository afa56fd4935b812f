/**
 * A flapping alert: one rule and sensor changing state (pending, firing, resolved) more than
 * `transitions` times within `windowMs` (a value hovering around a threshold). The change that crosses
 * the bound is announced once, marked `flapping`; the changes after it are recorded in the history but
 * not announced to operators, integrations or webhooks until the pair has been quiet for the window.
 * The clock is the alert service's, so simulated-time tests drive it.
 */
export interface FlapBounds {
  readonly transitions: number;
  readonly windowMs: number;
}

export type FlapVerdict = 'announce' | 'announce-flapping' | 'hold';

export class FlapLimiter {
  private readonly changes = new Map<string, number[]>();
  private readonly flapping = new Set<string>();

  constructor(private readonly bounds: FlapBounds) {}

  /** Records one state change of `key` at `now` and says whether to announce it. */
  observe(key: string, now: number): FlapVerdict {
    const list = (this.changes.get(key) ?? []).filter((t) => t > now - this.bounds.windowMs);
    const last = list[list.length - 1];
    // settled: quiet for a whole window since the last change
    if (this.flapping.has(key) && (last === undefined || now - last >= this.bounds.windowMs)) this.flapping.delete(key);
    list.push(now);
    this.changes.set(key, list);
    if (this.flapping.has(key)) return 'hold';
    if (list.length > this.bounds.transitions) {
      this.flapping.add(key);
      return 'announce-flapping';
    }
    return 'announce';
  }

  isFlapping(key: string): boolean {
    return this.flapping.has(key);
  }

  forget(key: string): void {
    if (!this.flapping.has(key)) this.changes.delete(key);
  }
}
