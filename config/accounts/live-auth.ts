import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import {
  authFilePath,
  readAuthFile,
  updateAuthFile,
  type AccountEntry,
  type AuthFile,
  type TokenEntry,
} from './auth-file.ts';
import { createAuthState, type AuthState } from './auth-state.ts';
import type { LiveSessionRegistry } from './live-sessions.ts';
import type { Principal } from './principal.ts';

/**
 * The credentials the running platform checks, kept current without a restart. `ioc accounts ...` and
 * `ioc credentials ...` run in another process and rewrite auth.json; this watches it, validates the new
 * file, swaps it in and closes every live connection whose credential is gone. A bad file keeps the old
 * state and logs one error per bad version (not per watch event). The admin API changes the file through
 * `change`, which reloads at once instead of waiting for the watch.
 */
export interface AuthStore {
  verifyDevice(username: string, password: string): Principal | undefined;
  /** a device's secret entry (client-certificate logins are bound to it); absent in stores that have none */
  device?(sensorId: string): { readonly hash: string; readonly rotatedAt?: string } | undefined;
  verifyToken(token: string): Principal | undefined;
  readonly deviceCount: number;
  readonly tokenCount: number;
}

export interface LiveAuth extends AuthStore {
  account(name: string): AccountEntry | undefined;
  tokensOf(account: string): readonly TokenEntry[];
  readonly accounts: readonly AccountEntry[];
  /** the whole validated file now (a cluster node compares it with the cluster's: cluster/shared-state.ts) */
  readonly file: AuthFile;
  isCurrent(principal: Principal): boolean;
  /** read-change-write auth.json, then reload (closing what the change revoked) */
  change<T>(fn: (auth: AuthFile) => T): T;
  /** re-read the file now; false when it was invalid (the old state stays) */
  reload(): boolean;
  /** called after each successful reload, e.g. to drop web sessions */
  onReload(listener: () => void): void;
  /** closes the live connections whose credential is no longer current (after a sign-out, say) */
  sweep(): void;
  close(): void;
}

export interface LiveAuthLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LiveAuthDeps {
  dataDir: string;
  initial: AuthFile;
  sessions: LiveSessionRegistry;
  clock: Clock;
  logger: LiveAuthLogger;
  /** false in tests that drive reload() by hand */
  watch?: boolean;
  /** a further check a credential must pass (console sessions: not signed out, not expired) */
  alsoCurrent?: (principal: Principal) => boolean;
  /** how often live connections are re-checked, for tokens and sessions that expire (default 60 s) */
  sweepMs?: number;
}

export function createLiveAuth(deps: LiveAuthDeps): LiveAuth {
  const file = authFilePath(deps.dataDir);
  let state: AuthState = createAuthState(deps.initial);
  let lastText = JSON.stringify(deps.initial);
  let lastBadError: string | undefined;
  const listeners: Array<() => void> = [];

  const current = (p: Principal): boolean => state.isCurrent(p, deps.clock.now()) && (deps.alsoCurrent?.(p) ?? true);
  const sweep = (): void => {
    const closed = deps.sessions.closeWhere((p) => !current(p), 'credentials revoked or expired');
    if (closed.length) {
      deps.logger.info(
        {
          closed: closed.map((s) => ({ principal: s.principal.name, channel: s.channel })).slice(0, 50),
          count: closed.length,
        },
        'closed live connections whose credentials were revoked',
      );
    }
  };
  const swap = (next: AuthFile): void => {
    state = createAuthState(next);
    for (const l of listeners) l();
    sweep();
  };
  // tokens and sessions also end by time, with no file change to notice
  const sweeper = deps.clock.setInterval(sweep, deps.sweepMs ?? 60_000);

  const reload = (): boolean => {
    let next: AuthFile;
    try {
      next = readAuthFile(file);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== lastBadError)
        deps.logger.error(
          { file, err: message },
          'auth.json changed but is invalid: keeping the credentials loaded before',
        );
      lastBadError = message;
      return false;
    }
    lastBadError = undefined;
    const text = JSON.stringify(next);
    if (text === lastText) return true;
    lastText = text;
    swap(next);
    deps.logger.info(
      { file, accounts: next.accounts.length, tokens: next.tokens.length, devices: Object.keys(next.devices).length },
      'credentials reloaded',
    );
    return true;
  };

  // Watch the directory, not the file: an atomic rename replaces the inode a file watch would follow.
  // Events come in bursts (tmp write, rename); one reload a moment after the last is enough.
  let watcher: FSWatcher | undefined;
  let pending: TimerHandle | undefined;
  if (deps.watch !== false) {
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file)) return;
      pending?.cancel();
      pending = deps.clock.setTimeout(() => {
        pending = undefined;
        reload();
      }, 50);
    });
    watcher.on('error', (err) =>
      deps.logger.error({ err: err.message }, 'cannot watch auth.json: credential changes need a restart'),
    );
  }

  const now = () => deps.clock.now();
  return {
    verifyDevice: (u, p) => state.verifyDevice(u, p),
    device: (id) => state.device(id),
    verifyToken: (t) => state.verifyToken(t, now()),
    get deviceCount() {
      return state.deviceCount;
    },
    get tokenCount() {
      return state.tokenCount;
    },
    account: (name) => state.account(name),
    tokensOf: (account) => state.tokensOf(account),
    get accounts() {
      return state.file.accounts;
    },
    get file() {
      return state.file;
    },
    isCurrent: current,
    sweep,
    change(fn) {
      const result = updateAuthFile(deps.dataDir, fn);
      reload();
      return result;
    },
    reload,
    onReload: (l) => {
      listeners.push(l);
    },
    close() {
      pending?.cancel();
      sweeper.cancel();
      watcher?.close();
    },
  };
}
