import type { Clock } from '../../core/clock.ts';
import type { Role } from './auth-file.ts';
import type { Principal } from './principal.ts';
import { digest, newSecret } from './secrets.ts';

/**
 * Console sign-ins: a random id in an httpOnly cookie, kept here by its digest with the account, the role
 * and the password stamp it was made under. Each request re-checks the account (live-auth isCurrent), so
 * disabling it or resetting its password ends the session at once. Kept in memory: a restart signs
 * everybody out, which is the safe direction.
 */
export interface WebSession {
  readonly account: string;
  readonly role: Role;
  readonly passwordSetAt: string;
  readonly expiresAt: number;
}

export interface WebSessions {
  create(account: string, role: Role, passwordSetAt: string): { id: string; expiresAt: number };
  /** the principal of a cookie value, or undefined when unknown or expired */
  principal(id: string): Principal | undefined;
  end(id: string): void;
  /** whether the session with this key (a principal's credential id) is still signed in and unexpired */
  isLive(key: string): boolean;
  /** drops sessions the predicate rejects (after a reload) and the expired ones */
  prune(keep: (principal: Principal) => boolean): void;
  readonly size: number;
}

export function createWebSessions(deps: { clock: Clock; ttlMs: number; maxSessions?: number }): WebSessions {
  const sessions = new Map<string, WebSession>();
  const max = deps.maxSessions ?? 10_000;
  const toPrincipal = (s: WebSession, key: string): Principal => ({
    role: s.role,
    name: s.account,
    credential: { scheme: 'session', id: key, passwordSetAt: s.passwordSetAt },
  });

  const prune = (keep: (p: Principal) => boolean) => {
    const now = deps.clock.now();
    for (const [key, s] of sessions) if (s.expiresAt <= now || !keep(toPrincipal(s, key))) sessions.delete(key);
  };
  return {
    create(account, role, passwordSetAt) {
      if (sessions.size >= max) prune(() => true);
      // still full of live sessions: the oldest goes (Map keeps insertion order), memory stays bounded
      if (sessions.size >= max) sessions.delete(sessions.keys().next().value!);
      const id = newSecret();
      const expiresAt = deps.clock.now() + deps.ttlMs;
      sessions.set(digest(id), { account, role, passwordSetAt, expiresAt });
      return { id, expiresAt };
    },
    principal(id) {
      const key = digest(id);
      const s = sessions.get(key);
      if (!s) return undefined;
      if (s.expiresAt <= deps.clock.now()) {
        sessions.delete(key);
        return undefined;
      }
      return toPrincipal(s, key);
    },
    end: (id) => {
      sessions.delete(digest(id));
    },
    isLive: (key) => (sessions.get(key)?.expiresAt ?? 0) > deps.clock.now(),
    prune,
    get size() {
      return sessions.size;
    },
  };
}
