import { createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The audit chain's key (`audit.keyFile`, default `<dataDir>.audit.key`, beside the data directory and
 * never inside it): 32 random bytes, hex, mode 0600, made on first start. Each entry carries
 * `mac = HMAC-SHA256(key, hash)`; since `hash` covers the entry and the previous hash, someone who can
 * write the audit files but not read the key can no longer rewrite an entry and recompute the chain.
 * Keep the key out of backups of the data directory and, in production, owned apart from it.
 */
export type AuditKey = Buffer;

const KEY_RE = /^[0-9a-f]{64}$/;

export function macOf(key: AuditKey, hash: string): string {
  return createHmac('sha256', key).update(hash).digest('hex');
}

/** Reads the key; a missing or malformed file is an error naming the path. */
export function readAuditKey(file: string): AuditKey {
  if (!existsSync(file)) {
    throw new Error(`no audit key at ${file} (audit.keyFile): the platform creates it on first start`);
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!KEY_RE.test(text)) throw new Error(`${file} is not an audit key (64 hex characters expected)`);
  return Buffer.from(text, 'hex');
}

/** The key, created 0600 if missing; `created` says so (worth a log line), `loose` if others may read it. */
export function loadOrCreateAuditKey(file: string): { key: AuditKey; created: boolean; loose: boolean } {
  let created = false;
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      // 'wx': two processes starting at once cannot both write a key; the loser reads the winner's
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
      } finally {
        closeSync(fd);
      }
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new Error(`cannot create the audit key ${file} (audit.keyFile): ${(err as Error).message}`);
      }
    }
  }
  const key = readAuditKey(file);
  return { key, created, loose: (statSync(file).mode & 0o077) !== 0 };
}

/** `audit.keyFile` as configured (already resolved), else beside the data directory: `<dataDir>.audit.key`. */
export function auditKeyFileOf(keyFile: string | undefined, dataDir: string): string {
  return keyFile ?? `${dataDir.replace(/\/+$/, '')}.audit.key`;
}

/** At start: the key, with one line when it was made or when others may read it. */
type KeyLogger = { info(o: object, m: string): void; warn(o: object, m: string): void };

/**
 * `keyedLog`: whether the audit log already holds MAC'd entries. Then a missing key is not a first start:
 * making a new one would report the whole log as tampered with and go on under a key nobody kept, so the
 * start is refused with what to do instead (review F5).
 */
export function openAuditKey(file: string, logger: KeyLogger, keyedLog = false): AuditKey {
  if (keyedLog && !existsSync(file)) {
    throw new Error(
      `the audit key ${file} (audit.keyFile) is missing, but the audit log holds entries signed with a key: ` +
        'restore the key file from where it is kept (it is not in data directory backups), or point audit.keyFile ' +
        'at it; to start a new chain deliberately, move the audit folder aside first',
    );
  }
  const { key, created, loose } = loadOrCreateAuditKey(file);
  if (created) {
    logger.info({ keyFile: file }, 'audit: created the audit chain key (keep it out of data directory backups)');
  }
  if (loose) logger.warn({ keyFile: file }, 'audit: the audit key file is readable by group or others: chmod 600 it');
  return key;
}
