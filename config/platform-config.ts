import { readFileSync } from 'node:fs';
import { projectPath } from '../core/project-root.ts';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { STORE_LIFECYCLE_DEFAULTS, storeLifecycleSchema } from './store-lifecycle-config.ts';
import { ConfigError, formatZodIssues } from './config-error.ts';
import { clusterProblem, clusterSchema } from './cluster-config.ts';
import { webhooksSchema } from './webhook-config.ts';
import { reportsSchema } from './reports-config.ts';
import { DEFAULT_LIMITS, limitsSchema } from './limits-config.ts';
import { splitProxyList, trustedProxiesSchema } from './trusted-proxies.ts';
import { resolveTlsPaths, tlsSchema } from './tls-config.ts';
import { ngsiLdSchema } from './ngsi-ld-config.ts';
import { moveRenamedKeys } from './deprecated-keys.ts';
import { integrationsSchema } from './integrations-config.ts';

// found from the project root: built, this module is part of dist/main.js
export const CONFIG_DIR = projectPath('config');
export const DEFAULT_CONFIG_FILE = resolve(CONFIG_DIR, 'default.yaml');

const port = z.number().int().min(0).max(65535);

// InfluxQL durations (retention policies: 90d, 12h, 1w, INF) and intervals (GROUP BY time of a continuous query)
const influxDuration = z
  .string()
  .regex(/^(INF|[1-9]\d*(ms|s|m|h|d|w))$/, 'expected an InfluxQL duration such as 90d, 12h, 1w or INF');
const influxInterval = z.string().regex(/^[1-9]\d*(s|m|h|d|w)$/, 'expected an InfluxQL interval such as 5m, 1h or 1d');

export const influxSchema = z
  .object({
    url: z.string().url().default('http://127.0.0.1:8086'),
    // v1 API (/write, /query): the database; 2.x maps it to a bucket (DBRP), 3.x calls it a database
    database: z.string().min(1).default('ioc'),
    // the retention policy written to and read from (1.x); unset = the database's default one
    retentionPolicy: z.string().min(1).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    // 2.x / 3.x token. Alone it authenticates /write and /query (v1 compatibility API); with org and bucket
    // as well, writes go through /api/v2/write (InfluxDB 2.x / 3.x, VictoriaMetrics)
    token: z.string().optional(),
    org: z.string().optional(),
    bucket: z.string().optional(),
    // the most lines sent in one HTTP write request
    batchSize: z.number().int().min(1).max(100_000).default(5000),
    // with fewer than a batch waiting, wait up to this long for more before writing (fewer, larger requests
    // when readings trickle in); a read through the API, a full batch and shutdown do not wait for it
    flushIntervalMs: z.number().int().min(0).max(60_000).default(200),
    timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    // quick retries inside one write (5xx, 429 with Retry-After, network errors); past them the write fails
    // and the store feeder retries it with its own backoff, the readings staying in the commit log
    writeRetries: z.number().int().min(0).max(10).default(2),
    // gzip write bodies: worth it over a slow link (a hosted InfluxDB); on a LAN it only costs CPU on both ends
    gzip: z.boolean().default(false),
    createDatabase: z.boolean().default(true),
    retention: z
      .object({
        // 1.x: duration of the retention policy the platform writes to, set at start; unset = left as it is
        duration: influxDuration.optional(),
        // 1.x: a continuous query keeps mean/min/max per `every` in a second retention policy kept for `keep`
        downsample: z.object({ every: influxInterval, keep: influxDuration }).strict().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export const platformConfigSchema = z
  .object({
    profile: z.enum(['demo', 'production']).default('demo'),
    city: z.string().default('cities/hue/city.yaml'),
    kindsDir: z.string().default('kinds'),
    dataDir: z.string().default('../data'),
    mqtt: z
      .object({
        port: port.default(1883),
        host: z.string().default('127.0.0.1'),
        maxPayloadBytes: z
          .number()
          .int()
          .min(256)
          .max(16 * 1024 * 1024)
          .default(65536),
        // load balancers that must open each MQTT connection with a PROXY protocol header naming the client
        // (config/trusted-proxies.ts); a PROXY header from any other peer is refused
        trustedProxies: trustedProxiesSchema,
      })
      .strict()
      .default({ port: 1883, host: '127.0.0.1', maxPayloadBytes: 65536, trustedProxies: [] }),
    http: z
      .object({
        port: port.default(8080),
        host: z.string().default('127.0.0.1'),
        // browser origins (scheme://host[:port]) besides the platform's own that may call the API (CORS) and
        // open its WebSockets; empty: closed
        cors: z
          .object({ origins: z.array(z.url({ protocol: /^https?$/ })).default([]) })
          .strict()
          .default({ origins: [] }),
        // load balancers whose X-Forwarded-For names the client (config/trusted-proxies.ts); nobody else's
        trustedProxies: trustedProxiesSchema,
      })
      .strict()
      .default({ port: 8080, host: '127.0.0.1', cors: { origins: [] }, trustedProxies: [] }),
    // where people and warning systems reach the platform (behind a proxy, say); links in the CAP feed and
    // the platform's own origin come from here, never from a request's Host header
    public: z
      .object({
        baseUrl: z.url({ protocol: /^https?$/ }).optional(),
        // what /public and /api/public/summary show with no login (issue 16 item 5); nothing unless chosen
        publish: z
          .object({
            openIncidents: z.boolean().default(false),
            handlingTimes: z.boolean().default(false),
            withinTarget: z.boolean().default(false),
            sensorIds: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    // shift handover reports: schedule and webhook (config/reports-config.ts)
    reports: reportsSchema,
    // the public CAP feed: sender (globally unique, no spaces or commas; default ioc.<city id>) and contact
    cap: z
      .object({
        sender: z
          .string()
          .regex(/^[^\s,<&]+$/, 'no spaces, commas, < or &')
          .optional(),
        contact: z.string().min(1).max(200).optional(),
        // the feed's bounds: alerts updated within windowHours, at most maxEntries of them (newest first)
        // per page; older ones are on the pages the feed links (RFC 5005), so a window hides nothing
        windowHours: z
          .number()
          .min(1)
          .max(24 * 31)
          .default(72),
        maxEntries: z.number().int().min(1).max(5000).default(50),
      })
      .strict()
      .prefault({}),
    security: z
      .object({
        insecure: z.boolean().default(false),
        // production refuses a plaintext listener on a non-loopback address unless this says so
        // (config/listening-policy.ts)
        allowPlaintext: z.boolean().default(false),
        // a webhook target added through the API may say allowPrivate: true (reach loopback, RFC 1918...) only
        // when this says so: an admin session, or a stolen one, must not turn the nodes into a proxy inside
        // the city network by default (alerts/delivery/webhook-target-store.ts)
        allowPrivateWebhookTargets: z.boolean().default(false),
      })
      .strict()
      .default({ insecure: false, allowPlaintext: false, allowPrivateWebhookTargets: false }),
    /** MQTT over TLS, HTTPS and WSS (config/tls-config.ts) */
    tls: tlsSchema,
    /** people's accounts: console sessions and sign-in limits (config/accounts/) */
    accounts: z
      .object({
        sessionHours: z
          .number()
          .min(0.05)
          .max(24 * 30)
          .default(12),
        maxFailuresPerAccount: z.number().int().min(1).default(5),
        maxFailuresPerAddress: z.number().int().min(1).default(50),
        // per account across all addresses; past it only addresses the account signed in from may still try
        maxFailuresPerAccountAllAddresses: z.number().int().min(1).default(100),
        knownAddressDays: z.number().min(0).default(30),
        failureWindowMinutes: z.number().min(1).default(15),
      })
      .strict()
      .prefault({}),
    ingest: z
      .object({
        maxFutureSkewSeconds: z.number().min(0).default(300),
        maxAgeDays: z.number().min(0).default(30),
        maxReadingsPerPublish: z.number().int().min(1).default(1000),
        // a line protocol write (POST /write, /api/v2/write), as sent and once decompressed
        lineProtocolMaxBytes: z
          .number()
          .int()
          .min(1024)
          .max(256 * 1024 * 1024)
          .default(10 * 1024 * 1024),
      })
      .strict()
      .default({
        maxFutureSkewSeconds: 300,
        maxAgeDays: 30,
        maxReadingsPerPublish: 1000,
        lineProtocolMaxBytes: 10 * 1024 * 1024,
      }),
    store: z
      .object({
        // the store adapter (store/store-adapters.ts: embedded, influxdb); an unknown name is refused at start;
        // `store.kind` is its deprecated name (config/deprecated-keys.ts)
        engine: z
          .string()
          .regex(/^[a-z][a-z0-9-]*$/, 'a store adapter name such as embedded or influxdb')
          .default('embedded'),
        log: z
          .object({
            maxBytes: z
              .number()
              .int()
              .min(1024 * 1024)
              .default(1024 ** 3),
            segmentBytes: z
              .number()
              .int()
              .min(64 * 1024)
              .default(16 * 1024 * 1024),
            // regular store checkpoints (store-feeder.ts): a restart replays at most about this much
            checkpointEveryRecords: z.number().int().min(1).default(10_000),
            checkpointEverySeconds: z.number().min(0.1).default(5),
          })
          .strict()
          .default({
            maxBytes: 1024 ** 3,
            segmentBytes: 16 * 1024 * 1024,
            checkpointEveryRecords: 10_000,
            checkpointEverySeconds: 5,
          }),
        influxdb: influxSchema.optional(),
        // the embedded store's writes (store/sqlite): with fewer than a batch waiting, wait up to this long for
        // more. One transaction of many readings dirties each series' last page once instead of once per small
        // transaction: a third of the CPU per reading at 10,000 readings/s, and a cost that grows far less as
        // the file grows (docs/benchmarks.md, "embedded write batches"). A read through the API, a full batch
        // and shutdown do not wait for it; what waits is durable already (the commit log).
        embedded: z
          .object({ flushIntervalMs: z.number().int().min(0).max(10_000).default(1000) })
          .strict()
          .prefault({}),
        // low-disk warning on the data dir's filesystem (store/disk-watch.ts): below either watermark is low
        disk: z
          .object({
            lowWatermarkBytes: z
              .number()
              .int()
              .min(0)
              .default(1024 ** 3),
            lowWatermarkPercent: z.number().min(0).max(100).default(5),
            checkSeconds: z.number().min(1).max(3600).default(5),
          })
          .strict()
          .prefault({}),
        // retention per kind, roll-ups, read connections, job schedules (config/store-lifecycle-config.ts)
        lifecycle: storeLifecycleSchema.prefault({}),
      })
      .strict()
      .default({
        engine: 'embedded',
        log: {
          maxBytes: 1024 ** 3,
          segmentBytes: 16 * 1024 * 1024,
          checkpointEveryRecords: 10_000,
          checkpointEverySeconds: 5,
        },
        embedded: { flushIntervalMs: 1000 },
        disk: { lowWatermarkBytes: 1024 ** 3, lowWatermarkPercent: 5, checkSeconds: 5 },
        lifecycle: STORE_LIFECYCLE_DEFAULTS,
      }),
    demo: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .default({ enabled: true }),
    map: z
      .object({
        // an {z}/{x}/{y} tile template, ideally a tile server inside the city network; none = offline map
        tileUrl: z
          .string()
          .regex(/^https?:\/\/\S+$/, 'an http(s) URL template such as https://tiles.example.vn/{z}/{x}/{y}.png')
          .optional(),
        tileAttribution: z.string().optional(),
      })
      .strict()
      .default({}),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent']).default('info'),
        // auto: readable lines (pino-pretty, city time) at a terminal, JSON lines otherwise
        format: z.enum(['auto', 'json', 'pretty']).default('auto'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' }),
    /** per account, address and session bounds (config/limits-config.ts) */
    limits: limitsSchema.default(DEFAULT_LIMITS),
    audit: z
      .object({
        // the active audit file is rotated past this size; the chain runs on across files
        maxFileBytes: z
          .number()
          .int()
          .min(4096)
          .default(16 * 1024 * 1024),
        // HTTP auth failures written to the audit log per client address and minute (the rest are counted)
        authFailuresPerMinute: z.number().int().min(1).max(10_000).default(20),
        // the HMAC key of the chain (audit/audit-key.ts), created 0600 on first start; outside the data dir
        // (default: <dataDir>.audit.key)
        keyFile: z.string().min(1).optional(),
        // the chain head goes to the log (an off-host witness) every so many entries, or minutes if any
        witnessEveryEntries: z.number().int().min(1).default(100),
        witnessEveryMinutes: z.number().min(0.1).default(10),
      })
      .strict()
      .prefault({}),
    /** receivers of signed alert webhooks (config/webhook-config.ts) */
    webhooks: webhooksSchema,
    /** NGSI-LD entities: access and the optional push to a context broker (config/ngsi-ld-config.ts) */
    ngsiLd: ngsiLdSchema.prefault({}),
    /** ChirpStack (LoRaWAN) and camera/NVR event sources (config/integrations-config.ts) */
    integrations: integrationsSchema.prefault({}),
    /** cluster mode on Redis + InfluxDB (config/cluster-config.ts, docs/cluster.md) */
    cluster: clusterSchema,
  })
  .strict();

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
type ParsedConfig = z.output<typeof platformConfigSchema>;
export type InfluxConfig = z.output<typeof influxSchema>;

/** The parsed, resolved and frozen configuration every module receives. Paths are absolute. */
export type PlatformConfig = Readonly<
  ParsedConfig & {
    configFile: string;
    cityFile: string;
    kindsDir: string;
    dataDir: string;
    /** one line per deprecated key the file or the environment used; the platform logs them at start */
    deprecations: readonly string[];
  }
>;

type Env = Record<string, string | undefined>;

function envNumber(env: Env, name: string, errors: string[]): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) errors.push(`${name}: expected a number, got "${raw}"`);
  return value;
}

function envBool(env: Env, name: string, errors: string[]): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  errors.push(`${name}: expected 1/0 or true/false, got "${raw}"`);
  return undefined;
}

type Json = Record<string, unknown>;
function setPath(target: Json, path: string[], value: unknown): void {
  if (value === undefined) return;
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null) node[key] = {};
    node = node[key] as Json;
  }
  node[path[path.length - 1]!] = value;
}

/** Applies the documented IOC_* environment overrides onto the raw config object. */
function applyEnv(raw: Json, env: Env, errors: string[]): void {
  const str = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  setPath(raw, ['profile'], str('IOC_PROFILE'));
  setPath(raw, ['city'], str('IOC_CITY'));
  setPath(raw, ['dataDir'], str('IOC_DATA_DIR'));
  setPath(raw, ['audit', 'keyFile'], str('IOC_AUDIT_KEY_FILE'));
  setPath(raw, ['mqtt', 'port'], envNumber(env, 'IOC_MQTT_PORT', errors));
  setPath(raw, ['mqtt', 'host'], str('IOC_MQTT_HOST'));
  setPath(raw, ['http', 'port'], envNumber(env, 'IOC_HTTP_PORT', errors));
  setPath(raw, ['http', 'host'], str('IOC_HTTP_HOST'));
  const proxies = (name: string) => {
    const text = env[name];
    return text === undefined ? undefined : splitProxyList(text);
  };
  setPath(raw, ['mqtt', 'trustedProxies'], proxies('IOC_MQTT_TRUSTED_PROXIES'));
  setPath(raw, ['http', 'trustedProxies'], proxies('IOC_HTTP_TRUSTED_PROXIES'));
  setPath(raw, ['security', 'insecure'], envBool(env, 'IOC_INSECURE', errors));
  setPath(raw, ['security', 'allowPlaintext'], envBool(env, 'IOC_ALLOW_PLAINTEXT', errors));
  setPath(raw, ['tls', 'cert'], str('IOC_TLS_CERT'));
  setPath(raw, ['tls', 'key'], str('IOC_TLS_KEY'));
  setPath(raw, ['tls', 'ca'], str('IOC_TLS_CA'));
  setPath(raw, ['tls', 'mqttPort'], envNumber(env, 'IOC_TLS_MQTT_PORT', errors));
  setPath(raw, ['tls', 'mqttHost'], str('IOC_TLS_MQTT_HOST'));
  setPath(raw, ['tls', 'requireClientCert'], envBool(env, 'IOC_TLS_REQUIRE_CLIENT_CERT', errors));
  setPath(raw, ['store', 'engine'], str('IOC_STORE'));
  setPath(raw, ['store', 'log', 'maxBytes'], envNumber(env, 'IOC_LOG_MAX_BYTES', errors));
  setPath(raw, ['store', 'embedded', 'flushIntervalMs'], envNumber(env, 'IOC_EMBEDDED_FLUSH_INTERVAL_MS', errors));
  setPath(raw, ['demo', 'enabled'], envBool(env, 'IOC_DEMO', errors));
  setPath(raw, ['log', 'level'], str('IOC_LOG_LEVEL'));
  setPath(raw, ['log', 'format'], str('IOC_LOG_FORMAT'));
  setPath(raw, ['map', 'tileUrl'], str('IOC_MAP_TILE_URL'));
  setPath(raw, ['cluster', 'redis'], str('IOC_REDIS_URL'));
  setPath(raw, ['cluster', 'nodeId'], str('IOC_NODE_ID'));
  setPath(raw, ['cluster', 'secret'], str('IOC_CLUSTER_SECRET'));
  setPath(raw, ['cluster', 'workers'], str('IOC_WORKERS') === 'auto' ? 'auto' : envNumber(env, 'IOC_WORKERS', errors));
  const influx: Array<[string, string, 'string' | 'number']> = [
    ['IOC_INFLUX_URL', 'url', 'string'],
    ['IOC_INFLUX_DATABASE', 'database', 'string'],
    ['IOC_INFLUX_USERNAME', 'username', 'string'],
    ['IOC_INFLUX_PASSWORD', 'password', 'string'],
    ['IOC_INFLUX_TOKEN', 'token', 'string'],
    ['IOC_INFLUX_ORG', 'org', 'string'],
    ['IOC_INFLUX_BUCKET', 'bucket', 'string'],
    ['IOC_INFLUX_BATCH_SIZE', 'batchSize', 'number'],
    ['IOC_INFLUX_FLUSH_INTERVAL_MS', 'flushIntervalMs', 'number'],
    ['IOC_INFLUX_RETENTION_POLICY', 'retentionPolicy', 'string'],
  ];
  for (const [name, key, type] of influx) {
    const value = type === 'number' ? envNumber(env, name, errors) : str(name);
    setPath(raw, ['store', 'influxdb', key], value);
  }
}

export interface LoadConfigOptions {
  env?: Env;
  /** Overrides applied after the file and the environment (used by tests and the CLI). */
  overrides?: PlatformConfigInput;
}

function deepMerge(base: Json, extra: Json): Json {
  const out: Json = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object'
        ? deepMerge(prev as Json, value as Json)
        : value;
  }
  return out;
}

/**
 * Reads the config file (IOC_CONFIG or config/default.yaml), applies IOC_* overrides, validates it,
 * and returns a frozen object. Every problem is reported at once in one ConfigError.
 */
export function loadPlatformConfig(options: LoadConfigOptions = {}): PlatformConfig {
  const env = options.env ?? process.env;
  const configFile = resolve(env.IOC_CONFIG || DEFAULT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(configFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${configFile}: ${(err as Error).message}`);
  }
  let raw: Json;
  try {
    raw = (parseYaml(text) ?? {}) as Json;
  } catch (err) {
    throw new ConfigError(`${configFile}: invalid YAML: ${(err as Error).message}`);
  }
  const errors: string[] = [];
  // renamed keys first, so the environment and the overrides (new names) still win over the file
  const deprecations = moveRenamedKeys(raw, errors);
  applyEnv(raw, env, errors);
  if (options.overrides) {
    const extra = structuredClone(options.overrides) as Json;
    deprecations.push(...moveRenamedKeys(extra, errors));
    raw = deepMerge(raw, extra);
  }
  const parsed = platformConfigSchema.safeParse(raw);
  if (!parsed.success) errors.push(...formatZodIssues(parsed.error));
  const cluster = parsed.success ? clusterProblem(parsed.data.cluster, parsed.data.store.engine) : undefined;
  if (cluster) errors.push(cluster);
  if (errors.length > 0 || !parsed.success) {
    throw new ConfigError(`${configFile}: invalid configuration:\n  - ${errors.join('\n  - ')}`);
  }
  const base = dirname(configFile);
  const config = parsed.data;
  if (config.store.engine === 'influxdb' && !config.store.influxdb) {
    config.store.influxdb = influxSchema.parse({});
  }
  const resolved = {
    ...config,
    configFile,
    cityFile: resolve(base, config.city),
    kindsDir: resolve(base, config.kindsDir),
    dataDir: resolve(base, config.dataDir),
    tls: resolveTlsPaths(config.tls, base),
    audit: { ...config.audit, ...(config.audit.keyFile ? { keyFile: resolve(base, config.audit.keyFile) } : {}) },
    deprecations,
  };
  return deepFreeze(resolved);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
