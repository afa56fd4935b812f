import { describe, expect, it } from 'vitest';
import { SampleWindow } from './sample-window.ts';

/** The plain definition the window must agree with. */
function naive(samples: Array<{ ts: number; value: number }>, windowMs: number) {
  const newest = Math.max(...samples.map((s) => s.ts));
  const inside = samples.filter((s) => s.ts > newest - windowMs).sort((a, b) => a.ts - b.ts);
  const values = inside.map((s) => s.value);
  return {
    sum: values.reduce((a, b) => a + b, 0),
    min: Math.min(...values),
    max: Math.max(...values),
    last: values.at(-1),
    count: values.length,
  };
}

describe('sample window', () => {
  it('keeps sum, min, max and last equal to recomputing over the window, through expiry and compaction', () => {
    const w = new SampleWindow(60_000);
    const all: Array<{ ts: number; value: number }> = [];
    let seed = 7;
    const rand = () => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 3000; i++) {
      const s = { ts: i * 1000, value: Math.round(rand() * 1000) / 10 };
      all.push(s);
      w.push(s);
      if (i % 97 === 0 || i > 2990) {
        const n = naive(all, 60_000);
        expect(w.size).toBe(n.count);
        expect(w.aggregate('sum')).toBeCloseTo(n.sum, 6);
        expect(w.aggregate('min')).toBe(n.min);
        expect(w.aggregate('max')).toBe(n.max);
        expect(w.aggregate('last')).toBe(n.last);
      }
    }
  });

  it('places a late sample in order and replaces a sample with the same timestamp', () => {
    const w = new SampleWindow(10_000);
    w.push({ ts: 1000, value: 1 });
    w.push({ ts: 3000, value: 3 });
    w.push({ ts: 2000, value: 10 });
    expect(w.samples().map((s) => s.value)).toEqual([1, 10, 3]);
    expect(w.change('fall')).toBe(7);
    w.push({ ts: 3000, value: 4 });
    expect(w.samples().map((s) => s.value)).toEqual([1, 10, 4]);
    expect(w.change('rise')).toBe(3);
  });
});
