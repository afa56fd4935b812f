import { existsSync, readFileSync } from 'node:fs';
import { preparePrivateDataDir } from './private-files.ts';
import { join } from 'node:path';
import type { City } from './city-config.ts';
import { ConfigError } from './config-error.ts';
import { addAccount, createToken, rotateDevice } from './accounts/account-changes.ts';
import {
  authFilePath,
  readAuthFile,
  updateAuthFile,
  writeAtomic,
  writeAuthFile,
  type AuthFile,
  type Role,
} from './accounts/auth-file.ts';
import { createAuthState } from './accounts/auth-state.ts';
import type { AuthStore } from './accounts/live-auth.ts';
import { hashPasswordSync, makeHash, newSecret } from './accounts/secrets.ts';

/**
 * Who may connect. `<dataDir>/auth.json` holds only hashes and is what the platform reads (and watches:
 * config/accounts/live-auth.ts). `<dataDir>/credentials.json` (mode 0600) holds the plain secrets made at
 * set-up, once, for the engineer and the tools (simulators, tests); deleting it revokes nothing.
 *
 * People have accounts (viewer, operator, admin) with an argon2id password for the console and named API
 * tokens for tools; devices have one random secret each (config/accounts/secrets.ts says why the hashes
 * differ). The account model lives in config/accounts/; this file is set-up: first start, init, rotation.
 */
export type { Role } from './accounts/auth-file.ts';
export type { Principal, Credential } from './accounts/principal.ts';
export type { AuthStore } from './accounts/live-auth.ts';
export { newSecret } from './accounts/secrets.ts';

export interface PersonCredentials {
  username: string;
  password: string;
  token: string;
}

export interface CredentialsFile {
  createdAt: string;
  note: string;
  /** demo accounts; `token` is a named API token ("demo") of that account */
  operator: PersonCredentials;
  admin: PersonCredentials;
  viewer?: PersonCredentials;
  devices: Array<{ sensorId: string; kind: string; username: string; password: string }>;
}

const NOTE =
  'Secrets of this platform, shown once. The platform keeps only hashes (auth.json). Keep this file private.';

export interface LoadCredentialsResult {
  /** the validated auth.json the platform starts with */
  file: AuthFile;
  /** a fixed view of it (the platform wraps `file` in a live, reloading one) */
  auth: AuthStore;
  /** the plain secrets, when this start generated them (print once) */
  generated?: CredentialsFile;
  credentialsFile: string;
  /** sensors of the city without device credentials (they cannot connect) */
  missingDevices: string[];
}

function fixedStore(file: AuthFile): AuthStore {
  const state = createAuthState(file);
  return {
    verifyDevice: state.verifyDevice,
    verifyToken: (t) => state.verifyToken(t, Date.now()),
    deviceCount: state.deviceCount,
    tokenCount: state.tokenCount,
  };
}

/**
 * Demo profile: creates credentials on a fresh data dir (and for sensors added since). Production:
 * refuses to start without them.
 */
export function loadCredentials(dataDir: string, city: City, profile: 'demo' | 'production'): LoadCredentialsResult {
  const authFile = authFilePath(dataDir);
  const credentialsFile = join(dataDir, 'credentials.json');
  if (!existsSync(authFile)) {
    if (profile === 'production') {
      throw new ConfigError(
        `no credentials: ${authFile} does not exist. A production platform never runs open. ` +
          `Create them with "npm run ioc -- credentials init --data-dir ${dataDir}" (prints them once), ` +
          'or start with profile: demo for a local trial.',
      );
    }
    preparePrivateDataDir(dataDir);
    const { plain, auth } = makeCredentials(city, ['operator', 'admin', 'viewer']);
    writeAuthFile(authFile, auth);
    writeAtomic(credentialsFile, JSON.stringify(plain, null, 2));
    return {
      file: auth,
      auth: fixedStore(auth),
      generated: plain as CredentialsFile,
      credentialsFile,
      missingDevices: [],
    };
  }
  const auth = readAuthFile(authFile);
  if (!auth.accounts.some((a) => !a.disabled && (a.role === 'operator' || a.role === 'admin'))) {
    throw new ConfigError(`${authFile} has no enabled operator or admin account: nobody could run the platform`);
  }
  const missing = city.sensors.filter((s) => !Object.hasOwn(auth.devices, s.id)).map((s) => s.id);
  if (missing.length && profile === 'demo') {
    // a sensor added to the demo city since the first start: give it a password and tell the engineer
    addDevices(auth, credentialsFile, city, missing);
  }
  // written back as read: a version 1 file becomes version 2 once, so token ids stay what they are now
  writeAuthFile(authFile, auth);
  return { file: auth, auth: fixedStore(auth), credentialsFile, missingDevices: profile === 'demo' ? [] : missing };
}

/** Accounts with a password and a token each, and every sensor's device secret. */
function makeCredentials(
  city: City,
  roles: ReadonlyArray<Exclude<Role, 'integration'>>,
): { plain: Partial<CredentialsFile> & Pick<CredentialsFile, 'devices' | 'createdAt' | 'note'>; auth: AuthFile } {
  const now = new Date();
  const auth: AuthFile = { version: 2, devices: {}, accounts: [], tokens: [] };
  const plain: Partial<CredentialsFile> & Pick<CredentialsFile, 'devices' | 'createdAt' | 'note'> = {
    createdAt: now.toISOString(),
    note: NOTE,
    devices: [],
  };
  for (const role of roles) {
    const password = newSecret().slice(0, 20);
    // the generated operator and admin hold the IOC duty role: before agencies existed they handled every alert
    addAccount(auth, { name: role, role, passwordHash: hashPasswordSync(password), iocDuty: role !== 'viewer' }, now);
    const { token } = createToken(auth, role, 'demo', null, now);
    plain[role] = { username: role, password, token };
  }
  for (const s of city.sensors) {
    const password = newSecret();
    auth.devices[s.id] = makeHash(password);
    plain.devices.push({ sensorId: s.id, kind: s.kind, username: s.id, password });
  }
  return { plain, auth };
}

/** Adds or replaces one device secret in auth.json; returns the new plain secret (shown once). */
export function rotateSecret(dataDir: string, target: { device: string }, city?: City): string {
  return updateAuthFile(dataDir, (auth) =>
    rotateDevice(auth, target.device, city?.sensorsById.has(target.device) ?? false),
  );
}

export interface InitResult {
  admin: PersonCredentials;
  devices: CredentialsFile['devices'];
  credentialsFile: string;
}

/**
 * Production set-up of a data directory that has none: the `admin` account (password and token) and every
 * sensor's secret. Other people get their own accounts from the admin (`ioc accounts add`, the API).
 */
export function initCredentials(dataDir: string, city: City): InitResult {
  const authFile = authFilePath(dataDir);
  if (existsSync(authFile))
    throw new ConfigError(
      `${authFile} exists already: rotate single secrets with "ioc credentials device" or "ioc accounts"`,
    );
  const { plain, auth } = makeCredentials(city, ['admin']);
  preparePrivateDataDir(dataDir);
  writeAuthFile(authFile, auth);
  const credentialsFile = join(dataDir, 'credentials.json');
  writeAtomic(credentialsFile, JSON.stringify(plain, null, 2));
  return { admin: plain.admin!, devices: plain.devices, credentialsFile };
}

function addDevices(auth: AuthFile, credentialsFile: string, city: City, ids: string[]): void {
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
  if (plain) writeAtomic(credentialsFile, JSON.stringify(plain, null, 2));
}

/** Reads the plain credentials file (simulators, CLI, tests). */
export function readCredentialsFile(file: string): CredentialsFile {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CredentialsFile;
  } catch (err) {
    throw new ConfigError(`cannot read credentials file ${file}: ${(err as Error).message}`);
  }
}
