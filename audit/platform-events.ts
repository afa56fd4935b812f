import { createHash } from 'node:crypto';
import { canonicalJson } from './audit-entry.ts';
import type { AuditRecorder } from './audit-log.ts';
import { queryAudit } from './audit-query.ts';

/**
 * Start and stop of the platform, and what changed in its configuration since the last start: the
 * configuration is a file edited outside the platform, so a start is where a change becomes visible.
 * Only digests are kept (secrets redacted first), never values.
 */
const SYSTEM = { name: 'platform', role: 'system' } as const;
const SECRET_KEY = /secret|password|token/i;

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '(redacted)' : redact(v)]),
    );
  }
  return value;
}

/** One short digest per top-level key: enough to say which part of the configuration changed. */
export function configDigests(config: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(config)
      .sort()
      .map((k) => [
        k,
        createHash('sha256')
          .update(canonicalJson(redact(config[k])))
          .digest('hex')
          .slice(0, 16),
      ]),
  );
}

export async function recordPlatformStart(
  audit: AuditRecorder,
  dir: string,
  info: { version: string; profile: string; configFile: string; config: Record<string, unknown> },
): Promise<void> {
  const digests = configDigests(info.config);
  const previous = queryAudit(dir, { action: ['platform.start'] }, 1).entries[0]?.details?.config as
    | Record<string, string>
    | undefined;
  await audit.record({
    actor: SYSTEM,
    address: 'local',
    action: 'platform.start',
    target: info.configFile,
    details: { version: info.version, profile: info.profile, config: digests },
  });
  if (!previous) return;
  const keys = [...new Set([...Object.keys(previous), ...Object.keys(digests)])].sort();
  const changed = keys.filter((k) => previous[k] !== digests[k]);
  if (changed.length) {
    await audit.record({
      actor: SYSTEM,
      address: 'local',
      action: 'config.change',
      target: info.configFile,
      details: {
        changed,
        before: Object.fromEntries(changed.map((k) => [k, previous[k]])),
        after: Object.fromEntries(changed.map((k) => [k, digests[k]])),
      },
    });
  }
}

export function recordPlatformStop(audit: AuditRecorder): Promise<unknown> {
  return audit.record({ actor: SYSTEM, address: 'local', action: 'platform.stop' });
}

/** A configuration file the platform reloads while running (the TLS certificate) changed. */
export function recordConfigReload(
  audit: AuditRecorder,
  change: { target: string; outcome: 'success' | 'failure'; details?: Record<string, unknown> },
): Promise<unknown> {
  return audit.record({ actor: SYSTEM, address: 'local', action: 'config.reload', ...change });
}
