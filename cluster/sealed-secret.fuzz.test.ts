import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { isSealed, secretSeal } from './sealed-secret.ts';

/**
 * Webhook secrets sealed in Redis with a key from cluster.secret (cluster/sealed-secret.ts): what a node reads
 * back from Redis is outside input, so opening never throws and opens only what this cluster's key sealed.
 */
const KEY = 'khoa-cum-thu-nghiem-0123456789abcdef';
const seal = secretSeal(KEY, 'webhook target secret');

describe('sealed secrets', () => {
  it('opens what it sealed, the same text always to the same string; another key or purpose does not open it', () => {
    const text = 'bí-mật-ký-webhook-0123456789';
    const sealed = seal.seal(text);
    expect(isSealed(sealed)).toBe(true);
    expect(sealed).not.toContain(text);
    expect(seal.seal(text)).toBe(sealed);
    expect(seal.open(sealed)).toBe(text);
    expect(secretSeal(`${KEY}x`, 'webhook target secret').open(sealed)).toBeUndefined();
    expect(secretSeal(KEY, 'another purpose').open(sealed)).toBeUndefined();
    expect(seal.open(text)).toBeUndefined();
    // bound to its context: the same secret moved into another entry does not open there
    const bound = seal.seal(text, '{"id":"that"}');
    expect(seal.open(bound, '{"id":"that"}')).toBe(text);
    expect(seal.open(bound, '{"id":"other"}')).toBeUndefined();
    expect(seal.open(bound)).toBeUndefined();
    expect(seal.seal(text, '{"id":"other"}')).not.toBe(bound);
    // only the exact encoding: characters Buffer would skip, or another spelling of the last bits, do not open
    expect(seal.open(`${sealed}!`)).toBeUndefined();
    expect(seal.open(`${sealed}=`)).toBeUndefined();
  });

  it('round-trips any text in any context, and never opens it in another or with any byte changed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.string({ maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (text, context, at, flip) => {
          const sealed = seal.seal(text, context);
          expect(seal.open(sealed, context)).toBe(text);
          expect(seal.open(sealed, `${context}x`)).toBeUndefined();
          const bytes = Buffer.from(sealed.slice('sealed.v1.'.length), 'base64url');
          bytes[at % bytes.length]! ^= flip;
          expect(seal.open(`sealed.v1.${bytes.toString('base64url')}`, context)).toBeUndefined();
        },
      ),
      fuzzParameters(300),
    );
  });

  it('never throws on what Redis may hold instead', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `sealed.v1.${s}`),
          fc.uint8Array({ maxLength: 200 }).map((b) => `sealed.v1.${Buffer.from(b).toString('base64url')}`),
        ),
        (text) => {
          expect(seal.open(text)).toBeUndefined();
        },
      ),
      fuzzParameters(1000),
    );
  });
});
