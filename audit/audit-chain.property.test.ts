import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealEntry, serializeEntry, type AuditEntry } from './audit-entry.ts';
import { ChainVerifier } from './audit-verify.ts';

function chain(n: number): { text: string; head: { seq: number; hash: string } } {
  let prev = GENESIS_HASH;
  const lines: string[] = [];
  let last: AuditEntry | undefined;
  for (let i = 1; i <= n; i++) {
    last = sealEntry({
      seq: i,
      ts: 1_767_225_600_000 + i,
      actor: { name: `người ${i}`, role: 'operator' },
      address: '192.0.2.1',
      action: 'alert.acknowledge',
      target: `a-${i}`,
      outcome: 'success',
      details: { note: `ghi chú "${i}"` },
      prevHash: prev,
    });
    prev = last.hash;
    lines.push(serializeEntry(last));
  }
  return { text: `${lines.join('\n')}\n`, head: { seq: last!.seq, hash: last!.hash } };
}

const verify = (bytes: Buffer, head: { seq: number; hash: string }) => {
  const v = new ChainVerifier();
  v.feedFile('audit.log', bytes.toString('utf8'));
  return v.finish(head);
};

describe('audit chain (property)', () => {
  const { text, head } = chain(12);
  const original = Buffer.from(text);

  it('verifies the untouched chain', () => {
    expect(verify(original, head).ok).toBe(true);
  });

  it('detects any single-byte change', () => {
    fc.assert(
      fc.property(fc.nat({ max: original.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const bytes = Buffer.from(original);
        bytes[at] = (bytes[at]! + delta) % 256;
        expect(verify(bytes, head).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('detects the removal of any line', () => {
    const lines = text.trim().split('\n');
    fc.assert(
      fc.property(fc.nat({ max: lines.length - 1 }), (i) => {
        const rest = [...lines.slice(0, i), ...lines.slice(i + 1)];
        expect(verify(Buffer.from(`${rest.join('\n')}\n`), head).ok).toBe(false);
      }),
    );
  });
});
