import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import {
  type StoredWebhookTarget,
  storedWebhookTargetSchema,
  type WebhookTargetStore,
} from '../alerts/delivery/webhook-target-store.ts';
import { sharedSilenceSchema } from '../alerts/workflow/silence-model.ts';
import type { SilenceStore } from '../alerts/workflow/silence-store.ts';
import { applyAuthEntries, authEntries } from '../config/accounts/auth-entries.ts';
import type { LiveAuth } from '../config/accounts/live-auth.ts';
import { codeEntry, type ProvisioningCodes } from '../config/sensors/provisioning-codes.ts';
import { registryEntrySchema, type RegistryEntry } from '../config/sensors/registry-file.ts';
import type { SensorRegistry } from '../config/sensors/sensor-registry.ts';
import { canonicalJson, diffEntries, type EntryChanges } from '../core/entry-diff.ts';
import { type ClusterSync, createClusterSync, type SharedHandle } from './shared-entries.ts';
import { type SecretSeal, secretSeal } from './sealed-secret.ts';

/**
 * What a cluster's nodes must hold alike, shared through Redis (cluster/shared-entries.ts, docs/cluster.md):
 * - `auth`: accounts, API tokens and device secrets (hashes only). Disabling an account, revoking a token,
 *   rotating or deleting a device's secret on one node reaches every node at once, and each closes the live
 *   sessions the old credential opened (its auth reload sweeps them, as on one node);
 * - `sensors`: the device registry (a sensor disabled or deleted on one node is refused and disconnected on
 *   all; a new one is known everywhere);
 * - `rules`: the rules changed through the API, so every node evaluates the same rules;
 * - `silences`: a silence made or ended on one node holds for the alerts every node raises;
 * - `provisioning`: one-time codes (digests only); a claim is one compare-and-set in Redis, so a code made on
 *   one node is claimed on any node, and of two claims at once exactly one wins;
 * - `webhooks`: targets added through the API (with their signing secret, which the owner of an alert needs
 *   to sign what it sends; it is never logged, and sealed in Redis with a key derived from cluster.secret), so
 *   every node delivers the events of its alerts to them.
 * Each node keeps its own files (auth.json, sensors.json, rules/, silences.json, provisioning.json,
 * webhook-targets.json) as the copy the rest of the platform reads;
 * the Redis hash is the truth. A change made on this node (the API, or `ioc ...` on its data directory, which
 * the file watches pick up) is sent; a change from elsewhere is written to the files without being sent back.
 */
export interface SharedStateDeps {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly nodeId: string;
  readonly logger: Logger;
  readonly accounts: LiveAuth;
  readonly registry: SensorRegistry;
  readonly rules: {
    entries(): Map<string, string>;
    applyShared(changes: EntryChanges, by: string): void;
    onChange(listener: () => void): void;
  };
  readonly silences: SilenceStore;
  readonly codes: ProvisioningCodes;
  readonly webhookTargets: WebhookTargetStore;
  /** cluster.secret: webhook targets' secrets are sealed in Redis with a key derived from it */
  readonly clusterSecret: string;
}

export interface SharedState {
  start(): Promise<void>;
  /** resolves once this node's changes so far are in Redis (never rejects) */
  flushed(): Promise<void>;
  stop(): Promise<void>;
}

/** JSON text from Redis: a malformed entry is refused like an invalid one, not the whole change with it */
function parseOrUndefined(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** Follows a document's local changes: those made here are published, those taken from the cluster are not. */
function follower(name: string, local: () => Map<string, string>, logger: Logger) {
  let seen = local();
  let applying = false;
  let handle: SharedHandle | undefined;
  return {
    bind(h: SharedHandle) {
      handle = h;
    },
    /** call after every local change */
    changed() {
      const now = local();
      const changes = diffEntries(seen, now);
      seen = now;
      if (!applying && changes.size) handle?.publish(changes);
    },
    /** runs a change taken from the cluster */
    taking(fn: () => void) {
      applying = true;
      try {
        fn();
      } catch (err) {
        logger.error({ err: (err as Error).message, document: name }, 'a change from the cluster could not be applied');
      } finally {
        applying = false;
        seen = local();
      }
    },
    handle: () => handle,
  };
}

/**
 * A document whose entries another node sends are each checked here (`parse`: the value, or undefined when
 * invalid, which is skipped and logged by key only: a value may hold a secret) before the store takes them.
 */
function validated<T>(
  name: string,
  logger: Logger,
  parse: (key: string, value: unknown) => T | undefined,
  take: (entries: Map<string, T | null>) => void,
) {
  return (changes: EntryChanges) => {
    const entries = new Map<string, T | null>();
    for (const [key, json] of changes) {
      if (json === null) {
        entries.set(key, null);
        continue;
      }
      const value = parse(key, parseOrUndefined(json));
      if (value === undefined)
        logger.error({ document: name, entry: key.slice(0, 64) }, 'an entry from the cluster is invalid here: skipped');
      else entries.set(key, value);
    }
    take(entries);
  };
}

/** What a target's sealed secret is bound to: the rest of its entry, canonical (cluster/sealed-secret.ts). */
function targetContext(stored: Record<string, unknown>, target: Record<string, unknown>): string {
  const { secret: _secret, ...rest } = target;
  return canonicalJson({ ...stored, target: rest });
}

/** A stored target's entry as Redis holds it: canonical JSON, its secret sealed and bound to the rest. */
export function sealTargetSecret(json: string, seal: SecretSeal): string {
  const stored = JSON.parse(json) as { target: { secret?: string } };
  if (typeof stored.target.secret !== 'string') return json;
  const sealed = seal.seal(stored.target.secret, targetContext(stored, stored.target));
  return canonicalJson({ ...stored, target: { ...stored.target, secret: sealed } });
}

/** An entry from Redis with its secret opened; undefined when the secret is there and does not open. */
function openTargetSecret(value: unknown, seal: SecretSeal): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const target = (value as { target?: unknown }).target;
  if (typeof target !== 'object' || target === null || !('secret' in target)) return value;
  const sealed = (target as { secret: unknown }).secret;
  const context = targetContext(value as Record<string, unknown>, target as Record<string, unknown>);
  const secret = typeof sealed === 'string' ? seal.open(sealed, context) : undefined;
  return secret === undefined ? undefined : { ...value, target: { ...target, secret } };
}

export function createSharedState(deps: SharedStateDeps): SharedState {
  const logger = deps.logger.child({ module: 'cluster-shared' });
  const sync: ClusterSync = createClusterSync({
    redisUrl: deps.redisUrl,
    keyPrefix: deps.keyPrefix,
    nodeId: deps.nodeId,
    logger,
  });

  const authLocal = () => authEntries(deps.accounts.file);
  const auth = follower('auth', authLocal, logger);
  // every swap of the credentials: the API's changes and the CLI's (the file watch)
  deps.accounts.onReload(() => auth.changed());
  auth.bind(
    sync.share({
      name: 'auth',
      local: authLocal,
      // written to auth.json and reloaded: the reload closes what the old credentials opened
      apply: (changes) =>
        auth.taking(() => {
          const refused = deps.accounts.change((file) => applyAuthEntries(file, changes));
          // removed here, not kept as they were: the safe direction for a credential
          if (refused.length)
            logger.error(
              { entries: refused.slice(0, 20).map((k) => k.slice(0, 80)), count: refused.length },
              'entries from the cluster are invalid here: removed on this node',
            );
        }),
    }),
  );

  const sensorsLocal = () => new Map(deps.registry.all().map((e) => [e.id, canonicalJson(e)]));
  const sensors = follower('sensors', sensorsLocal, logger);
  deps.registry.onChange(() => sensors.changed());
  sensors.bind(
    sync.share({
      name: 'sensors',
      local: sensorsLocal,
      apply: (changes) =>
        sensors.taking(() => {
          const entries = new Map<string, RegistryEntry | null>();
          for (const [id, json] of changes) {
            if (json === null) {
              entries.set(id, null);
              continue;
            }
            const parsed = registryEntrySchema.safeParse(parseOrUndefined(json));
            if (parsed.success && parsed.data.id === id) entries.set(id, parsed.data);
            else logger.error({ sensor: id.slice(0, 64) }, 'a sensor from the cluster is invalid here: skipped');
          }
          deps.registry.applyShared(entries);
        }),
    }),
  );

  const rules = follower('rules', () => deps.rules.entries(), logger);
  deps.rules.onChange(() => rules.changed());
  rules.bind(
    sync.share({
      name: 'rules',
      local: () => deps.rules.entries(),
      apply: (changes) => rules.taking(() => deps.rules.applyShared(changes, 'cluster')),
    }),
  );

  /** a store with entries(), onChange() and applyShared(), its entries checked with `parse` */
  const shareStore = <T>(
    name: string,
    store: {
      entries(): Map<string, string>;
      onChange(listener: () => void): void;
      applyShared(changes: Map<string, T | null>): void;
    },
    parse: (key: string, value: unknown) => T | undefined,
  ) => {
    const f = follower(name, () => store.entries(), logger);
    store.onChange(() => f.changed());
    const take = validated(name, logger, parse, (entries) => store.applyShared(entries));
    f.bind(sync.share({ name, local: () => store.entries(), apply: (changes) => f.taking(() => take(changes)) }));
    return f;
  };
  const checked =
    <T extends object>(
      schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
      id: (v: T) => string,
    ) =>
    (key: string, value: unknown): T | undefined => {
      const parsed = schema.safeParse(value);
      return parsed.success && id(parsed.data) === key ? parsed.data : undefined;
    };
  const silences = shareStore(
    'silences',
    deps.silences,
    checked(sharedSilenceSchema, (s) => s.id),
  );
  const codes = shareStore(
    'provisioning',
    deps.codes,
    checked(codeEntry, (c) => c.digest),
  );
  // a claim is decided by Redis' copy, atomically (config/sensors/provisioning-codes.ts)
  const codesHandle = codes.handle()!;
  deps.codes.useLedger({
    read: (digest) => codesHandle.read(digest),
    swap: (digest, expected, next) => codesHandle.swap(digest, expected, next),
  });
  // a target's signing secret is sealed in Redis with a key from cluster.secret (cluster/sealed-secret.ts): one
  // that does not open (not sealed, or by another cluster's key) is refused like any invalid entry
  const seal = secretSeal(deps.clusterSecret, 'webhook target secret');
  const targets = deps.webhookTargets;
  const targetChecked = checked(storedWebhookTargetSchema, (t) => t.target.id);
  const webhooks = shareStore<StoredWebhookTarget>(
    'webhooks',
    {
      entries: () => new Map([...targets.entries()].map(([id, json]) => [id, sealTargetSecret(json, seal)])),
      onChange: (listener) => targets.onChange(listener),
      applyShared: (changes) => targets.applyShared(changes),
    },
    (key, value) => {
      const opened = openTargetSecret(value, seal);
      return opened === undefined ? undefined : targetChecked(key, opened);
    },
  );
  const followers = [auth, sensors, rules, silences, codes, webhooks];

  return {
    start: () => sync.start(),
    flushed: async () => {
      await Promise.all(followers.map((f) => f.handle()?.flushed()));
    },
    stop: () => sync.stop(),
  };
}

/**
 * An admin's change answers once Redis has it (every node applies it from there within milliseconds): a
 * client told "disabled" on one node is not refused a moment later by another that still lets the account in.
 * `current` is late-bound: the shared state starts after the routes are built. Without encapsulation, so the
 * hook sees every route.
 */
/** the routes that change what the cluster shares: accounts and tokens, sensors and their secrets, rules, silences,
 * provisioning codes, webhook targets */
const SHARED_ROUTES = [
  '/api/accounts',
  '/api/sensor',
  '/api/provision',
  '/api/rules',
  '/api/silences',
  '/api/webhooks/targets',
];

export function sharedChangesSettled(current: () => SharedState | undefined): FastifyPluginAsync {
  const plugin: FastifyPluginAsync = async (app) => {
    app.addHook('onSend', async (request, _reply, payload) => {
      const url = request.routeOptions.url ?? '';
      const changes = request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS';
      if (changes && SHARED_ROUTES.some((prefix) => url.startsWith(prefix))) await current()?.flushed();
      return payload;
    });
  };
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
