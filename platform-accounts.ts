import { existsSync } from 'node:fs';
import type { Logger } from 'pino';
import { createLiveAuth, type LiveAuth } from './config/accounts/live-auth.ts';
import { createLiveSessionRegistry, type LiveSessionRegistry } from './config/accounts/live-sessions.ts';
import { createLoginLimiter, type LoginGate } from './config/accounts/login-limiter.ts';
import { createWebSessions, type WebSession, type WebSessions } from './config/accounts/web-sessions.ts';
import type { AccountEntry } from './config/accounts/auth-file.ts';
import type { City } from './config/city-config.ts';
import { loadCredentials, readCredentialsFile, type CredentialsFile } from './config/credentials.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import type { Clock } from './core/clock.ts';
import { clusterLinkOf } from './cluster/cluster-node.ts';
import { createRedisWebSessions, type RedisWebSessions } from './cluster/redis-web-sessions.ts';
import { createSharedLimits, type SharedLimits } from './cluster/shared-limits.ts';
import type { Registry } from 'prom-client';

export interface PlatformAccounts {
  /** accounts, tokens and device secrets as the platform checks them now (reloaded when auth.json changes) */
  readonly accounts: LiveAuth;
  /** every open MQTT and WebSocket session, closed when the credential that opened it is revoked */
  readonly liveSessions: LiveSessionRegistry;
  readonly webSessions: WebSessions;
  /** cluster mode: console sessions kept in Redis too (started by the caller once the accounts are open) */
  readonly redisSessions: RedisWebSessions | undefined;
  /** failed sign-ins, limited per account, address and both (login-limiter.ts); in a cluster counted in Redis */
  readonly loginLimiter: LoginGate;
  /** cluster mode: sign-in and provisioning limits counted in Redis for every node (cluster/shared-limits.ts) */
  readonly sharedLimits: SharedLimits | undefined;
  readonly credentialsFile: string;
  /** the plain credentials: generated at this start, or the demo profile's file */
  readonly credentials: CredentialsFile | undefined;
}

/**
 * Who may connect, as the platform starts (the composition root's helper): the loud warning of the insecure
 * development mode, the hashed credentials (generated at the first start, with a warning for sensors that
 * have none), and revocation without a restart: a changed auth.json (CLI, admin API) closes the sessions
 * the old secrets opened, and signs out web sessions of accounts that are no longer current.
 */
export function openPlatformAccounts(deps: {
  config: PlatformConfig;
  city: City;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
}): PlatformAccounts {
  const { config, city, clock, logger } = deps;
  if (config.security.insecure) {
    const banner =
      '!!! INSECURE DEVELOPMENT MODE: any client may connect and publish anywhere without credentials. ' +
      'Never run this on a network. !!!';
    logger.warn(banner);
    process.stderr.write(`\n${'!'.repeat(banner.length)}\n${banner}\n${'!'.repeat(banner.length)}\n\n`);
  }
  const creds = loadCredentials(config.dataDir, city, config.profile);
  if (creds.missingDevices.length) {
    logger.warn(
      { sensors: creds.missingDevices },
      `${creds.missingDevices.length} sensors have no device credentials and cannot connect`,
    );
  }
  const liveSessions = createLiveSessionRegistry();
  // cluster mode: console sessions in Redis too, so a browser's next request may land on any node
  const link = clusterLinkOf(config);
  const redisSessions = link
    ? createRedisWebSessions({ ...link, logger: logger.child({ module: 'web-sessions' }) })
    : undefined;
  const webSessions = createWebSessions({
    clock,
    ttlMs: config.accounts.sessionHours * 3_600_000,
    ...(redisSessions
      ? {
          shared: redisSessions.store,
          onSharedError: (err: Error, what: string) =>
            logger.warn({ err: err.message, what }, 'console sessions: Redis did not answer; this node only'),
        }
      : {}),
  });
  const accounts = createLiveAuth({
    dataDir: config.dataDir,
    initial: creds.file,
    sessions: liveSessions,
    clock,
    logger: logger.child({ module: 'auth' }),
    alsoCurrent: (p) => p.credential?.scheme !== 'session' || webSessions.isLive(p.credential.id),
  });
  // each account as it stood at the last reload: those whose entry changed may have had sessions revoked
  const entryOf = (a: AccountEntry) => `${a.disabled} ${a.role} ${a.passwordSetAt}`;
  let seen = new Map(accounts.accounts.map((a) => [a.name, entryOf(a)]));
  accounts.onReload(() => {
    webSessions.prune((p) => accounts.isCurrent(p));
    if (!redisSessions) return;
    // in a cluster the shared copies of revoked sessions go too, judged by the accounts of this reload (a
    // later change must not save them), or they would come back when the account does (auth-state isCurrent)
    const now = new Map(accounts.accounts.map((a) => [a.name, a]));
    const changed = [...new Set([...seen.keys(), ...now.keys()])].filter(
      (name) => seen.get(name) !== (now.has(name) ? entryOf(now.get(name)!) : undefined),
    );
    seen = new Map([...now].map(([name, a]) => [name, entryOf(a)]));
    if (changed.length === 0) return;
    const valid = (s: WebSession) => {
      const a = now.get(s.account);
      return a !== undefined && !a.disabled && a.role === s.role && a.passwordSetAt === s.passwordSetAt;
    };
    void webSessions.revoke(changed, valid);
  });
  const loginLimits = {
    ...config.accounts,
    windowMs: config.accounts.failureWindowMinutes * 60_000,
    knownAddressMs: config.accounts.knownAddressDays * 86_400_000,
  };
  const localLimiter = createLoginLimiter(loginLimits, clock);
  // cluster mode: behind a round-robin balancer every node sees the same guesser, so the counts are the cluster's
  const sharedLimits = link
    ? createSharedLimits({
        ...link,
        logger: logger.child({ module: 'cluster' }),
        login: loginLimits,
        provisioning: { maxFailures: config.accounts.maxFailuresPerAddress, windowMs: loginLimits.windowMs },
        ...(deps.registry ? { registry: deps.registry } : {}),
      })
    : undefined;
  const loginLimiter = sharedLimits ? sharedLimits.login(localLimiter) : localLimiter;
  return {
    accounts,
    liveSessions,
    webSessions,
    redisSessions,
    loginLimiter,
    sharedLimits,
    credentialsFile: creds.credentialsFile,
    credentials:
      creds.generated ?? (existsSync(creds.credentialsFile) ? readCredentialsFile(creds.credentialsFile) : undefined),
  };
}
