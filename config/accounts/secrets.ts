import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';

/**
 * Two kinds of secret, two kinds of hash. Machine secrets (device passwords, API tokens, session ids) are
 * 32 random bytes: a fast salted SHA-256 is as strong as a slow hash there, and 10,000 devices reconnecting
 * cost microseconds each. Passwords chosen by people are guessable: argon2id (the library's default
 * algorithm) with its default cost, so an offline guess costs ~20 MB of memory and tens of milliseconds.
 */
export interface SaltedHash {
  salt: string;
  hash: string;
}

export const newSecret = (): string => randomBytes(32).toString('base64url');
export const newId = (): string => randomBytes(6).toString('hex');

export function hashSecret(salt: string, secret: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest('hex');
}

export function makeHash(secret: string): SaltedHash {
  const salt = randomBytes(16).toString('hex');
  return { salt, hash: hashSecret(salt, secret) };
}

export function matchesHash(entry: SaltedHash, secret: string): boolean {
  const a = Buffer.from(hashSecret(entry.salt, secret), 'hex');
  const b = Buffer.from(entry.hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A session id is looked up by its digest, so the table in memory holds nothing a thief could replay. */
export const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export const hashPassword = (password: string): Promise<string> => argon2Hash(password);

export async function verifyPassword(phc: string, password: string): Promise<boolean> {
  try {
    return await argon2Verify(phc, password);
  } catch {
    return false; // a malformed stored hash refuses, it does not crash the login route
  }
}

/** Unknown accounts still pay one argon2 verification, so timing does not tell which names exist. */
let dummy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword(newSecret());
  await verifyPassword(await dummy, password);
}

/** Tokens are "<id>.<secret>": the id finds the entry without scanning every hash. */
export function splitToken(token: string): { id: string; secret: string } | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot === token.length - 1) return undefined;
  return { id: token.slice(0, dot), secret: token.slice(dot + 1) };
}

/** For set-up paths that are synchronous (first start, CLI): one hash, tens of milliseconds. */
export { hashSync as hashPasswordSync } from '@node-rs/argon2';
