import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { heapGrowth, heapKinds, writeSoakHeapSnapshot } from './soak-heap.ts';

class SoakHeapProbe {
  constructor(readonly n: number) {}
}

describe('the soak’s heap snapshots', () => {
  it('counts a kind of object that grew between two snapshots of this process, and names it first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soak-heap-'));
    try {
      const held: SoakHeapProbe[] = [];
      for (let i = 0; i < 1_000; i++) held.push(new SoakHeapProbe(i));
      const before = heapKinds(readFileSync(writeSoakHeapSnapshot(dir, 1)));
      for (let i = 0; i < 50_000; i++) held.push(new SoakHeapProbe(i));
      const after = heapKinds(readFileSync(writeSoakHeapSnapshot(dir, 2)));
      expect(before.get('object SoakHeapProbe')?.count).toBe(1_000);
      expect(after.get('object SoakHeapProbe')?.count).toBe(51_000);
      const top = heapGrowth(before, after, 3);
      expect(top.map((row) => row.kind)).toContain('object SoakHeapProbe');
      expect(held.length).toBe(51_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a snapshot whose strings hold brackets and quotes', () => {
    const snapshot = Buffer.from(
      '{"snapshot":{"meta":{"node_fields":["type","name","id","self_size"],"node_types":[["object","string"]]},' +
        '"node_count":3},\n"nodes":[0,1,1,10\n,0,1,3,20\n,1,2,5,7],\n"edges":[],\n"strings":["","Probe","a]\\"}["]}',
    );
    const kinds = heapKinds(snapshot);
    expect(kinds.get('object Probe')).toEqual({ kind: 'object Probe', count: 2, bytes: 30 });
    expect(kinds.get('string')).toEqual({ kind: 'string', count: 1, bytes: 7 });
  });
});
