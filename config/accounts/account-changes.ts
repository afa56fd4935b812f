import { DomainError } from '../../core/domain-error.ts';
import { ACCOUNT_NAME, type AccountEntry, type AuthFile, type Role, type TokenEntry } from './auth-file.ts';
import { assertNotSensorName } from './account-name-policy.ts';
import { makeHash, newId, newSecret } from './secrets.ts';

/**
 * The changes an admin makes to accounts, tokens and device secrets, as plain functions over an AuthFile
 * (the caller reads and writes it: updateAuthFile). Passwords arrive already hashed: argon2 is async and
 * these stay synchronous inside the read-change-write. Errors are DomainErrors with stable codes, which the
 * API maps to HTTP and the CLI prints.
 */
export interface TokenCreated {
  id: string;
  name: string;
  account: string;
  token: string;
  expiresAt: string | null;
}

function find(auth: AuthFile, name: string): AccountEntry {
  const account = auth.accounts.find((a) => a.name === name);
  if (!account) throw new DomainError('not_found', 'account_not_found', `no account named ${name.slice(0, 64)}`);
  return account;
}

/** `sensorIds`: the city's sensors; the devices in auth.json are checked too (account-name-policy.ts). */
export function addAccount(
  auth: AuthFile,
  input: { name: string; role: Role; passwordHash?: string; iocDuty?: boolean },
  now: Date,
  sensorIds: Iterable<string> = [],
): AccountEntry {
  if (!ACCOUNT_NAME.test(input.name))
    throw new DomainError(
      'invalid',
      'invalid_account_name',
      'an account name is 2-64 characters: a-z first, then a-z, 0-9, ".", "_" or "-"',
    );
  assertNotSensorName(input.name, [...sensorIds, ...Object.keys(auth.devices)]);
  if (auth.accounts.some((a) => a.name === input.name))
    throw new DomainError('conflict', 'account_exists', `an account named ${input.name} exists already`);
  const at = now.toISOString();
  const account: AccountEntry = {
    name: input.name,
    role: input.role,
    disabled: false,
    passwordSetAt: at,
    createdAt: at,
    ...(input.passwordHash ? { password: input.passwordHash } : {}),
    // explicit, even when false: an absent value means "written before the duty role" (auth-file.ts)
    iocDuty: input.iocDuty === true,
  };
  auth.accounts.push(account);
  return account;
}

/** Every enabled admin but this one would be gone: refuse, or nobody could manage accounts any more. */
function keepAnAdmin(auth: AuthFile, name: string): void {
  const others = auth.accounts.filter((a) => a.name !== name && a.role === 'admin' && !a.disabled);
  if (others.length === 0) throw new DomainError('conflict', 'last_admin', `${name} is the last enabled admin account`);
}

export function setDisabled(auth: AuthFile, name: string, disabled: boolean): AccountEntry {
  const account = find(auth, name);
  if (disabled && account.role === 'admin') keepAnAdmin(auth, name);
  account.disabled = disabled;
  return account;
}

export function setRole(auth: AuthFile, name: string, role: Role): AccountEntry {
  const account = find(auth, name);
  if (account.role === 'admin' && role !== 'admin') keepAnAdmin(auth, name);
  account.role = role;
  return account;
}

/** Grants or withdraws the IOC duty role (acting on any agency's alerts). */
export function setIocDuty(auth: AuthFile, name: string, iocDuty: boolean): AccountEntry {
  const account = find(auth, name);
  account.iocDuty = iocDuty;
  return account;
}

/** A new password ends every session of the account (passwordSetAt changes); its tokens stay. */
export function setPassword(auth: AuthFile, name: string, passwordHash: string, now: Date): AccountEntry {
  const account = find(auth, name);
  account.password = passwordHash;
  // strictly later than the previous stamp, so two resets within one millisecond still differ
  const previous = Date.parse(account.passwordSetAt);
  account.passwordSetAt = new Date(Math.max(now.getTime(), previous + 1)).toISOString();
  return account;
}

export function createToken(
  auth: AuthFile,
  account: string,
  name: string,
  expiresAt: Date | null,
  now: Date,
): TokenCreated {
  find(auth, account);
  if (auth.tokens.some((t) => t.account === account && t.name === name)) {
    throw new DomainError('conflict', 'token_exists', `${account} has a token named ${name} already: revoke it first`);
  }
  if (expiresAt && expiresAt.getTime() <= now.getTime())
    throw new DomainError('invalid', 'token_expired', 'expiresAt is in the past');
  const secret = newSecret();
  const entry: TokenEntry = {
    id: newId(),
    account,
    name,
    ...makeHash(secret),
    createdAt: now.toISOString(),
    expiresAt: expiresAt?.toISOString() ?? null,
  };
  auth.tokens.push(entry);
  return { id: entry.id, name, account, token: `${entry.id}.${secret}`, expiresAt: entry.expiresAt };
}

/** By id or by name within the account. */
export function revokeToken(auth: AuthFile, account: string, idOrName: string): TokenEntry {
  const entry = auth.tokens.find((t) => t.account === account && (t.id === idOrName || t.name === idOrName));
  if (!entry) throw new DomainError('not_found', 'token_not_found', `${account} has no token ${idOrName.slice(0, 64)}`);
  auth.tokens = auth.tokens.filter((t) => t !== entry);
  return entry;
}

/** Replaces a device's secret; the old one is refused from now on. Unknown devices are an error. */
export function rotateDevice(auth: AuthFile, sensorId: string, knownSensor: boolean): string {
  if (!knownSensor && !Object.hasOwn(auth.devices, sensorId)) {
    throw new DomainError(
      'not_found',
      'sensor_not_found',
      `no sensor ${sensorId.slice(0, 64)} in the city or in auth.json`,
    );
  }
  const secret = newSecret();
  // the old secret and every client certificate issued before now stop working
  auth.devices[sensorId] = { ...makeHash(secret), rotatedAt: new Date().toISOString() };
  return secret;
}

/** What an account looks like to the API and the CLI: never a hash. */
export function presentAccount(a: AccountEntry, tokens: readonly TokenEntry[]) {
  return {
    name: a.name,
    role: a.role,
    disabled: a.disabled,
    hasPassword: a.password !== undefined,
    iocDuty: a.iocDuty === true,
    createdAt: a.createdAt,
    tokens: tokens.filter((t) => t.account === a.name).map(presentToken),
  };
}

export function presentToken(t: TokenEntry) {
  return { id: t.id, name: t.name, createdAt: t.createdAt, expiresAt: t.expiresAt };
}
