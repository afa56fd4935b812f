import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { preparePrivateDataDir } from './private-files.ts';
import { join } from 'node:path';
import { z } from 'zod';
import type { City } from './city-config.ts';
import { ConfigError, formatZodIssues } from './config-error.ts';

/**
 * Who may connect. `<dataDir>/auth.json` holds only salted hashes and is what the platform reads.
 * `<dataDir>/credentials.json` (mode 0600) holds the plain secrets once, for the engineer and the tools
 * (simulators, integrations); deleting it does not revoke anything.
 *
 * Secrets are 32 random bytes, so a fast salted SHA-256 is as strong as a slow password hash here, and a
 * fleet of 10,000 devices reconnecting at once costs microseconds each instead of seconds of scrypt.
 */
export type Role = 'operator' | 'admin';

const hashed = z.object({ salt: z.string().min(16), hash: z.string().length(64) }).strict();
const authFileSchema = z.object({
  version: z.literal(1),
  devices: z.record(z.string(), hashed),
  tokens: z.array(hashed.extend({ name: z.string().min(1), role: z.enum(['operator', 'admin']) })),
}).strict();
type AuthFile = z.infer<typeof authFileSchema>;

export interface CredentialsFile {
  createdAt: string;
  note: string;
  operator: { username: string; token: string };
  admin: { username: string; token: string };
  devices: Array<{ sensorId: string; kind: string; username: string; password: string }>;
}

export interface Principal {
  readonly role: 'device' | Role;
  readonly name: string;
  readonly sensorId?: string;
}

export interface AuthStore {
  verifyDevice(username: string, password: string): Principal | undefined;
  verifyToken(token: string): Principal | undefined;
  readonly deviceCount: number;
  readonly tokenCount: number;
}

function hashSecret(salt: string, secret: string): string {
  return createHash('sha256').update(salt).update('\u0000').update(secret).digest('hex');
}

function makeHash(secret: string): { salt: string; hash: string } {
  const salt = randomBytes(16).toString('hex');
  return { salt, hash: hashSecret(salt, secret) };
}

function matches(entry: { salt: string; hash: string }, secret: string): boolean {
  const a = Buffer.from(hashSecret(entry.salt, secret), 'hex');
  const b = Buffer.from(entry.hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export const newSecret = (): string => randomBytes(32).toString('base64url');

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}

function readAuthFile(file: string): AuthFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: cannot read credentials: ${(err as Error).message}`);
  }
  const parsed = authFileSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`${file}: invalid credentials file:\n  - ${formatZodIssues(parsed.error).join('\n  - ')}`);
  return parsed.data;
}

function toStore(auth: AuthFile): AuthStore {
  // Keyed by what a client sends: a Map, so that "constructor" or "__proto__" is just an unknown name.
  const devices = new Map(Object.entries(auth.devices));
  return {
    verifyDevice(username, password) {
      const entry = devices.get(username);
      return entry && matches(entry, password) ? { role: 'device', name: username, sensorId: username } : undefined;
    },
    verifyToken(token) {
      const entry = auth.tokens.find((t) => matches(t, token));
      return entry ? { role: entry.role, name: entry.name } : undefined;
    },
    deviceCount: Object.keys(auth.devices).length,
    tokenCount: auth.tokens.length,
  };
}

export interface LoadCredentialsResult {
  auth: AuthStore;
  /** the plain secrets, when this start generated them (print once) */
  generated?: CredentialsFile;
  credentialsFile: string;
  /** sensors of the city without device credentials (they cannot connect) */
  missingDevices: string[];
}

/**
 * Demo profile: creates credentials on a fresh data dir (and for sensors added since). Production:
 * refuses to start without them.
 */
export function loadCredentials(dataDir: string, city: City, profile: 'demo' | 'production'): LoadCredentialsResult {
  const authFile = join(dataDir, 'auth.json');
  const credentialsFile = join(dataDir, 'credentials.json');
  if (!existsSync(authFile)) {
    if (profile === 'production') {
      throw new ConfigError(
        `no credentials: ${authFile} does not exist. A production platform never runs open. ` +
        `Create them with "npm run ioc -- credentials init --data-dir ${dataDir}" (prints them once), ` +
        'or start with profile: demo for a local trial.',
      );
    }
    const generated = generateCredentials(city);
    preparePrivateDataDir(dataDir);
    writeAtomic(authFile, JSON.stringify(hashCredentials(generated), null, 1), 0o600);
    writeAtomic(credentialsFile, JSON.stringify(generated, null, 2), 0o600);
    return { auth: toStore(readAuthFile(authFile)), generated, credentialsFile, missingDevices: [] };
  }
  const auth = readAuthFile(authFile);
  if (!auth.tokens.some((t) => t.role === 'operator' || t.role === 'admin')) {
    throw new ConfigError(`${authFile} has no operator or admin token: nobody could read the platform`);
  }
  const missing = city.sensors.filter((s) => !Object.hasOwn(auth.devices, s.id)).map((s) => s.id);
  if (missing.length && profile === 'demo') {
    // a sensor added to the demo city since the first start: give it a password and tell the engineer
    const added = addDevices(auth, credentialsFile, city, missing);
    writeAtomic(authFile, JSON.stringify(auth, null, 1), 0o600);
    return { auth: toStore(auth), credentialsFile, missingDevices: [], generated: added };
  }
  return { auth: toStore(auth), credentialsFile, missingDevices: missing };
}

export function generateCredentials(city: City): CredentialsFile {
  return {
    createdAt: new Date().toISOString(),
    note: 'Secrets of this platform, shown once. The platform keeps only hashes (auth.json). Keep this file private.',
    operator: { username: 'operator', token: newSecret() },
    admin: { username: 'admin', token: newSecret() },
    devices: city.sensors.map((s) => ({ sensorId: s.id, kind: s.kind, username: s.id, password: newSecret() })),
  };
}

export function hashCredentials(c: CredentialsFile): AuthFile {
  return {
    version: 1,
    devices: Object.fromEntries(c.devices.map((d) => [d.username, makeHash(d.password)])),
    tokens: [
      { name: c.operator.username, role: 'operator', ...makeHash(c.operator.token) },
      { name: c.admin.username, role: 'admin', ...makeHash(c.admin.token) },
    ],
  };
}

/** Adds or replaces one secret in an existing auth.json; returns the new plain secret (shown once). */
export function rotateSecret(dataDir: string, target: { device: string } | { token: Role }): string {
  const authFile = join(dataDir, 'auth.json');
  if (!existsSync(authFile)) throw new ConfigError(`${authFile} does not exist: run "ioc credentials init" first`);
  const auth = readAuthFile(authFile);
  const secret = newSecret();
  if ('device' in target) {
    auth.devices[target.device] = makeHash(secret);
  } else {
    auth.tokens = auth.tokens.filter((t) => t.role !== target.token);
    auth.tokens.push({ name: target.token, role: target.token, ...makeHash(secret) });
  }
  writeAtomic(authFile, JSON.stringify(auth, null, 1), 0o600);
  return secret;
}

/** Creates credentials for a data directory that has none (production set-up). */
export function initCredentials(dataDir: string, city: City): CredentialsFile {
  const authFile = join(dataDir, 'auth.json');
  if (existsSync(authFile)) throw new ConfigError(`${authFile} exists already: rotate single secrets with "ioc credentials device|token"`);
  const generated = generateCredentials(city);
  preparePrivateDataDir(dataDir);
  writeAtomic(authFile, JSON.stringify(hashCredentials(generated), null, 1), 0o600);
  writeAtomic(join(dataDir, 'credentials.json'), JSON.stringify(generated, null, 2), 0o600);
  return generated;
}

function addDevices(auth: AuthFile, credentialsFile: string, city: City, ids: string[]): CredentialsFile | undefined {
  let plain: CredentialsFile | undefined;
  try {
    plain = JSON.parse(readFileSync(credentialsFile, 'utf8')) as CredentialsFile;
  } catch {
    plain = undefined;
  }
  for (const id of ids) {
    const password = newSecret();
    auth.devices[id] = makeHash(password);
    plain?.devices.push({ sensorId: id, kind: city.sensorsById.get(id)!.kind, username: id, password });
  }
  if (plain) writeAtomic(credentialsFile, JSON.stringify(plain, null, 2), 0o600);
  return undefined;
}

/** Reads the plain credentials file (simulators, CLI, tests). */
export function readCredentialsFile(file: string): CredentialsFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CredentialsFile;
  } catch (err) {
    throw new ConfigError(`cannot read credentials file ${file}: ${(err as Error).message}`);
  }
}
