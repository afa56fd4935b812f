import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { LoginGate, LoginLimit, LoginLimiter, LoginVerdict } from '../config/accounts/login-limiter.ts';
import type {
  ProvisioningGate,
  ProvisioningLimiter,
  ProvisioningVerdict,
} from '../config/sensors/provisioning-limiter.ts';
import { addressKey } from '../core/address-key.ts';
import { keyDigest } from './cluster-node.ts';
import { redisOutageLog } from './redis-outage.ts';

/**
 * Sign-in and provisioning-claim limits for the whole cluster (docs/security.md, "Cluster mode"): behind a
 * round-robin balancer a guesser reaches every node, so counters kept by each node would give N nodes N times
 * the guesses. Here each attempt is counted in Redis, atomically (one Lua script per attempt: the checks and the
 * increments together, so parallel guesses on several nodes cannot slip under a limit), under the same keys and
 * rules as the node's own limiters (config/accounts/login-limiter.ts, config/sensors/provisioning-limiter.ts):
 * by (account, address), by address and by account, an address IPv6 by its /64. Each window is a key's expiry.
 *
 * The node's own limiter counts every attempt too, and decides alone when Redis does not answer within
 * `timeoutMs`: then a guesser gets at most the node's own limit on each node (fail closed beyond it), never an
 * unlimited run. That is logged once per outage (never the Redis URL, which may hold a password) and counted.
 */
const LOGIN_ATTEMPT = `
local maxes = { tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]) }
local checks = 3
if redis.call('EXISTS', KEYS[4]) == 1 then checks = 1 end
for i = 1, checks do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= maxes[i] then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl <= 0 then
      ttl = tonumber(ARGV[4])
      redis.call('PEXPIRE', KEYS[i], ttl)
    end
    local first = redis.call('SET', KEYS[4 + i], '1', 'NX', 'PX', ttl)
    if first then return { i, ttl, 1 } end
    return { i, ttl, 0 }
  end
end
for i = 1, 3 do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
return { 0, 0, 0 }`;

const LOGIN_SUCCEEDED = `
redis.call('DEL', KEYS[1])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[1])
for i = 2, 3 do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then redis.call('DECR', KEYS[i]) end
end
return 0`;

const PROVISION_CHECK = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count < tonumber(ARGV[1]) then return { 0, 0 } end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then
  ttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ttl) then return { ttl, 1 } end
return { ttl, 0 }`;

const PROVISION_FAILED = `
if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`;

const LIMITS: Record<number, LoginLimit> = { 1: 'account_address', 2: 'address', 3: 'account' };

export interface SharedLimitsOptions {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly logger: Pick<Logger, 'warn' | 'info' | 'debug'>;
  readonly login: {
    readonly maxFailuresPerAccount: number;
    readonly maxFailuresPerAddress: number;
    readonly maxFailuresPerAccountAllAddresses: number;
    readonly windowMs: number;
    readonly knownAddressMs: number;
  };
  readonly provisioning: { readonly maxFailures: number; readonly windowMs: number };
  /** counts the attempts decided by the node alone: ioc_cluster_shared_limit_fallbacks_total{limit} */
  readonly registry?: Registry;
  /** how long Redis has to answer before the node's own limiter decides (default 1 s) */
  readonly timeoutMs?: number;
}

export interface SharedLimits {
  /** the cluster's sign-in limits, `local` deciding when Redis does not answer */
  login(local: LoginLimiter): LoginGate;
  provisioning(local: ProvisioningLimiter): ProvisioningGate;
  stop(): Promise<void>;
}

export function createSharedLimits(o: SharedLimitsOptions): SharedLimits {
  const redis = new Redis(o.redisUrl, { connectionName: `${o.nodeId}-limits`, maxRetriesPerRequest: 1 });
  redis.on('error', (err: Error) => o.logger.debug({ err: err.message }, 'shared limits: Redis connection error'));
  const fallbacks = o.registry
    ? new Counter({
        name: 'ioc_cluster_shared_limit_fallbacks_total',
        help: 'sign-in and provisioning attempts decided by this node alone: Redis did not answer in time',
        labelNames: ['limit'],
        registers: [o.registry],
      })
    : undefined;
  const timeoutMs = o.timeoutMs ?? 1000;
  const p = `${o.keyPrefix}limit:`;
  const outage = redisOutageLog(o.logger, {
    down: "shared sign-in and provisioning limits: Redis did not answer; this node's own limits decide until it does",
    up: 'shared sign-in and provisioning limits: Redis answers again, the cluster counts again',
  });

  /** Redis' answer, or undefined once it failed or took too long (logged once per outage) */
  const ask = async <T>(what: 'sign_in' | 'provisioning', command: () => Promise<T>): Promise<T | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      outage.answered();
      return answer;
    } catch (err) {
      fallbacks?.inc({ limit: what });
      outage.failed(err as Error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  const loginKeys = (account: string, address: string) => {
    const range = addressKey(address);
    const keys = [
      `${p}login:pair:${keyDigest(`${account}\u0000${range}`)}`,
      `${p}login:address:${keyDigest(range)}`,
      `${p}login:account:${keyDigest(account)}`,
      `${p}login:known:${keyDigest(`${account}\u0000${range}`)}`,
    ];
    return [...keys, ...keys.slice(0, 3).map((k) => `${k}:refused`)];
  };

  return {
    login(local) {
      return {
        async attempt(account, address): Promise<LoginVerdict> {
          // counted here too, so that the node's own limit holds at once if Redis goes away
          const own = local.attempt(account, address);
          const l = o.login;
          const answer = await ask(
            'sign_in',
            () =>
              redis.eval(
                LOGIN_ATTEMPT,
                7,
                ...loginKeys(account, address),
                l.maxFailuresPerAccount,
                l.maxFailuresPerAddress,
                l.maxFailuresPerAccountAllAddresses,
                l.windowMs,
              ) as Promise<[number, number, number]>,
          );
          if (answer === undefined) return own;
          const [limit, waitMs, first] = answer;
          const which = LIMITS[limit];
          return which ? { waitMs: Math.max(1, waitMs), limit: which, first: first === 1 } : { waitMs: 0 };
        },
        async succeeded(account, address) {
          local.succeeded(account, address);
          await ask('sign_in', () =>
            redis.eval(LOGIN_SUCCEEDED, 4, ...loginKeys(account, address).slice(0, 4), o.login.knownAddressMs),
          );
        },
      };
    },
    provisioning(local) {
      const keys = (address: string) => {
        const key = `${p}provision:${keyDigest(addressKey(address))}`;
        return [key, `${key}:refused`];
      };
      return {
        async check(address): Promise<ProvisioningVerdict> {
          const own = local.check(address);
          const answer = await ask(
            'provisioning',
            () =>
              redis.eval(
                PROVISION_CHECK,
                2,
                ...keys(address),
                o.provisioning.maxFailures,
                o.provisioning.windowMs,
              ) as Promise<[number, number]>,
          );
          if (answer === undefined) return own;
          const [waitMs, first] = answer;
          return waitMs > 0 ? { waitMs, first: first === 1 } : { waitMs: 0 };
        },
        async failed(address) {
          local.failed(address);
          await ask('provisioning', () => redis.eval(PROVISION_FAILED, 1, keys(address)[0]!, o.provisioning.windowMs));
        },
      };
    },
    async stop() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
