import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

/**
 * Heap snapshots for the soak: whether memory that grows is the JavaScript heap holding more and more of
 * something (a leak shows as one kind of object whose count only rises) or memory outside it (SQLite, the
 * allocator, buffers).
 */

/** One kind of heap object: V8's node type and, for objects and closures, the constructor or function name. */
export interface HeapKind {
  kind: string;
  count: number;
  bytes: number;
}

const NAMED_TYPES = new Set(['object', 'closure', 'native', 'hidden', 'array']);

/** The body of the snapshot's array `key` (numbers only, or the string table, which comes last). */
function section(buf: Buffer, key: string): Buffer {
  const start = buf.indexOf(`"${key}":[`);
  if (start < 0) throw new Error(`heap snapshot has no "${key}" array`);
  const from = start + key.length + 4;
  return buf.subarray(from, key === 'strings' ? buf.lastIndexOf(']') : buf.indexOf(']', from));
}

/** The integers of a JSON array's body, without building a string of the whole (snapshots run to GBs). */
function integers(body: Buffer): Uint32Array {
  const out = new Uint32Array(body.length / 2 + 1);
  let n = 0;
  let value = -1;
  for (const byte of body) {
    if (byte >= 48 && byte <= 57) value = (value < 0 ? 0 : value * 10) + byte - 48;
    else if (value >= 0) {
      out[n++] = value;
      value = -1;
    }
  }
  if (value >= 0) out[n++] = value;
  return out.subarray(0, n);
}

/**
 * Counts and self sizes per kind of node in a V8 heap snapshot (the `.heapsnapshot` file): read as bytes, its
 * node array scanned in place and only its string table parsed as JSON.
 */
export function heapKinds(snapshot: Buffer): Map<string, HeapKind> {
  const metaEnd = snapshot.indexOf(',"nodes":[');
  const header = JSON.parse(`${snapshot.subarray(0, metaEnd).toString()}}`) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  };
  const fields = header.snapshot.meta.node_fields;
  const types = header.snapshot.meta.node_types[0];
  const nodes = integers(section(snapshot, 'nodes'));
  const strings = JSON.parse(`[${section(snapshot, 'strings').toString()}]`) as string[];
  const stride = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, HeapKind>();
  for (let i = 0; i + stride <= nodes.length; i += stride) {
    const type = types[nodes[i + typeAt]!] ?? 'unknown';
    const kind = NAMED_TYPES.has(type) ? `${type} ${strings[nodes[i + nameAt]!]}` : type;
    const entry = kinds.get(kind) ?? { kind, count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt]!;
    kinds.set(kind, entry);
  }
  return kinds;
}

/** The kinds whose bytes grew most from `before` to `after`, largest growth first. */
export function heapGrowth(
  before: Map<string, HeapKind>,
  after: Map<string, HeapKind>,
  top: number,
): Array<{ kind: string; countBefore: number; countAfter: number; bytesBefore: number; bytesAfter: number }> {
  const rows = [...after.values()].map((a) => {
    const b = before.get(a.kind);
    return {
      kind: a.kind,
      countBefore: b?.count ?? 0,
      countAfter: a.count,
      bytesBefore: b?.bytes ?? 0,
      bytesAfter: a.bytes,
    };
  });
  for (const b of before.values()) {
    if (!after.has(b.kind)) {
      rows.push({ kind: b.kind, countBefore: b.count, countAfter: 0, bytesBefore: b.bytes, bytesAfter: 0 });
    }
  }
  return rows.sort((x, y) => y.bytesAfter - y.bytesBefore - (x.bytesAfter - x.bytesBefore)).slice(0, top);
}

/** Writes this thread's heap snapshot to `dir`, named by the soak's second; returns its path. */
export function writeSoakHeapSnapshot(dir: string, second: number): string {
  return writeHeapSnapshot(join(dir, `soak-heap-${second}s.heapsnapshot`));
}

/** Prints the heap's totals in both snapshots and the kinds that grew most between them. */
export function reportHeapGrowth(beforePath: string, afterPath: string, top = 15): void {
  const before = heapKinds(readFileSync(beforePath));
  const after = heapKinds(readFileSync(afterPath));
  const total = (kinds: Map<string, HeapKind>) => [...kinds.values()].reduce((sum, k) => sum + k.bytes, 0);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  console.log(
    `heap snapshots: ${mb(total(before))} MB live in ${beforePath}, ${mb(total(after))} MB in ${afterPath}; ` +
      'the kinds that grew most (count, MB):',
  );
  for (const row of heapGrowth(before, after, top)) {
    const grew = row.bytesAfter - row.bytesBefore;
    console.log(
      `  ${grew >= 0 ? '+' : ''}${mb(grew).padStart(7)} MB  ${String(row.countBefore).padStart(9)} -> ` +
        `${String(row.countAfter).padEnd(9)} ${mb(row.bytesBefore)} -> ${mb(row.bytesAfter)} MB  ${row.kind}`,
    );
  }
}
