import type { WindowAggregate } from './rule-schema.ts';

export interface WindowSample {
  readonly ts: number;
  readonly value: number;
}

/**
 * The samples of one sensor's metric within a sliding time window (newest - windowMs, newest], with the
 * sum and, through monotonic deques, the min and max kept as samples come and go: a reading costs O(1)
 * amortised however dense the data, where recomputing over the window made a 1-hour window of 1-second
 * readings cost 3600 steps per reading. A late (out-of-order) sample rebuilds the window, which is rare.
 *
 * The window is owned by one rule state and mutated in place; evaluators hand it on in the next state and
 * never read an old state again.
 */
export class SampleWindow {
  private ts: number[] = [];
  private values: number[] = [];
  private head = 0;
  private total = 0;
  // monotonic deques of indices, each with its own head (Array.shift is O(n))
  private minQ: number[] = [];
  private minHead = 0;
  private maxQ: number[] = [];
  private maxHead = 0;

  constructor(readonly windowMs: number) {}

  get size(): number {
    return this.ts.length - this.head;
  }

  newestTs(): number | undefined {
    return this.size ? this.ts[this.ts.length - 1] : undefined;
  }

  push(sample: WindowSample): void {
    const newest = this.newestTs();
    if (newest !== undefined && sample.ts <= newest) {
      this.rebuild([...this.samples().filter((s) => s.ts !== sample.ts), sample].sort((a, b) => a.ts - b.ts));
      return;
    }
    this.append(sample);
    this.expire(sample.ts);
  }

  /** Drops samples at or before `asOf - windowMs` (another sensor's newer reading moves time on). */
  expire(asOf: number): void {
    const cutoff = asOf - this.windowMs;
    while (this.head < this.ts.length && this.ts[this.head]! <= cutoff) {
      this.total -= this.values[this.head]!;
      this.head++;
    }
    while (this.minHead < this.minQ.length && this.minQ[this.minHead]! < this.head) this.minHead++;
    while (this.maxHead < this.maxQ.length && this.maxQ[this.maxHead]! < this.head) this.maxHead++;
    if (this.head > 256 && this.head * 2 > this.ts.length) this.rebuild(this.samples());
    if (this.size === 0) this.total = 0;
  }

  samples(): WindowSample[] {
    const out: WindowSample[] = [];
    for (let i = this.head; i < this.ts.length; i++) out.push({ ts: this.ts[i]!, value: this.values[i]! });
    return out;
  }

  aggregate(fn: WindowAggregate): number | undefined {
    if (this.size === 0) return undefined;
    switch (fn) {
      case 'last':
        return this.values[this.values.length - 1];
      case 'mean':
        return this.total / this.size;
      case 'sum':
        return this.total;
      case 'min':
        return this.values[this.minQ[this.minHead]!];
      case 'max':
        return this.values[this.maxQ[this.maxHead]!];
    }
  }

  /** A rise is the newest value less the window's lowest; a fall the highest less the newest. */
  change(direction: 'rise' | 'fall'): number | undefined {
    if (this.size < 2) return undefined;
    const newest = this.values[this.values.length - 1]!;
    return direction === 'rise' ? newest - this.aggregate('min')! : this.aggregate('max')! - newest;
  }

  private append(sample: WindowSample): void {
    const i = this.ts.length;
    this.ts.push(sample.ts);
    this.values.push(sample.value);
    this.total += sample.value;
    while (this.minQ.length > this.minHead && this.values[this.minQ[this.minQ.length - 1]!]! >= sample.value)
      this.minQ.pop();
    this.minQ.push(i);
    while (this.maxQ.length > this.maxHead && this.values[this.maxQ[this.maxQ.length - 1]!]! <= sample.value)
      this.maxQ.pop();
    this.maxQ.push(i);
  }

  private rebuild(sorted: readonly WindowSample[]): void {
    this.ts = [];
    this.values = [];
    this.head = 0;
    this.total = 0;
    this.minQ = [];
    this.minHead = 0;
    this.maxQ = [];
    this.maxHead = 0;
    for (const s of sorted) this.append(s);
    const newest = this.newestTs();
    if (newest !== undefined) this.expire(newest);
  }
}
