import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepRecords, pushViews } from './store-feeder.ts';

/** What the feeder keeps of a group's records gives back the same records, whatever buffers they were views of. */
const bytesList = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 40 });
const back = (records: Buffer[]) => {
  const views: Buffer[] = [];
  pushViews(keepRecords(records), views);
  return views.map((v) => [...v]);
};

describe('kept records', () => {
  it('views of one buffer (the commit log group): the same records, nothing copied', () => {
    fc.assert(
      fc.property(bytesList, fc.nat(64), (list, gap) => {
        const frame = Buffer.alloc(list.reduce((n, b) => n + b.length + gap, gap));
        let at = gap;
        const records = list.map((b) => {
          frame.set(b, at);
          const view = frame.subarray(at, at + b.length);
          at += b.length + gap;
          return view;
        });
        expect(back(records)).toEqual(list.map((b) => [...b]));
        expect(keepRecords(records).bytes.buffer).toBe(frame.buffer);
      }),
      { seed: 13, numRuns: 200 },
    );
  });

  it('records of separate buffers: one copy, the same records', () => {
    fc.assert(
      fc.property(bytesList, (list) => {
        // each a view of an ArrayBuffer of its own
        const records = list.map((b) => Buffer.from(new Uint8Array(b).buffer));
        expect(back(records)).toEqual(list.map((b) => [...b]));
        if (records.length > 1) expect(keepRecords(records).bytes.buffer).not.toBe(records[0]!.buffer);
      }),
      { seed: 13, numRuns: 200 },
    );
  });
});
