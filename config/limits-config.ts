import { z } from 'zod';

/**
 * `limits:` in the platform config: what one account, one source address and one MQTT session may hold
 * or send, so that one misbehaving (or hostile) client cannot starve or exhaust the others.
 * Documented key by key in config/default.yaml; enforced in broker/ and alerts/.
 */
const count = z.number().int().min(1);

export const limitsSchema = z
  .object({
    // live MQTT connections of one account (a device's sensor id, an operator or integration account)
    connectionsPerAccount: count.default(8),
    // live sockets (MQTT over TCP and WebSocket) from one source address, before any login; devices behind
    // one NAT or gateway share it, so it sits well above a fleet site (the 300-device fleet test runs from one)
    connectionsPerAddress: count.default(1024),
    // token bucket per device: sustained publishes per second, and the burst it may send at once
    devicePublishesPerSecond: z.number().positive().default(20),
    devicePublishBurst: count.default(1000),
    // publishes refused for rate in a row after which the device is disconnected as abusive
    abusiveRefusalsBeforeDisconnect: count.default(500),
    // bytes per second (and burst) of one device account's publishes, payloads included, and of one of its
    // connections; over any budget a publish is held (its PUBACK late, its connection not read meanwhile)
    deviceBytesPerSecond: count.default(256 * 1024),
    deviceByteBurst: count.default(4 * 1024 * 1024),
    connectionBytesPerSecond: count.default(256 * 1024),
    // the longest a publish over a budget is held; one that would wait longer is refused (acknowledged, not stored)
    rateHoldMaxMs: count.default(5000),
    // after an abusive disconnect the account is refused at CONNECT (code 3) this long, doubled at each new
    // abuse up to the maximum; with abusePenaltyByAddress its source address too (off: NAT sites share one)
    abusePenaltySeconds: count.default(10),
    abusePenaltyMaxSeconds: count.default(600),
    abusePenaltyByAddress: z.boolean().default(false),
    // QoS 2 publishes of one session awaiting PUBREL; one more closes the connection
    qos2InflightPerSession: count.max(65535).default(32),
    // messages and bytes queued for one client (offline persistent session, or a slow reader); newer ones
    // are dropped past either bound
    queuedMessagesPerClient: count.default(1000),
    queuedBytesPerClient: count.default(4 * 1024 * 1024),
    // a persistent session (clean: false) whose client stays away this long is dropped with its queue
    sessionExpirySeconds: count.default(3600),
    // persistent sessions one account may keep (connected or not); a new one past it is refused
    sessionsPerAccount: count.default(16),
    // MQTT topics and filters: longer or deeper ones are refused
    topicMaxBytes: count.max(65535).default(256),
    topicMaxLevels: count.max(100).default(8),
    clientIdMaxBytes: count.max(65535).default(128),
    // alerts: more than `alertFlapTransitions` state changes of one rule and sensor within
    // `alertFlapWindowSeconds` mark it flapping; it is not re-notified until it has been quiet for the window
    alertFlapTransitions: count.default(6),
    alertFlapWindowSeconds: count.default(600),
  })
  .strict();

export type LimitsConfig = z.output<typeof limitsSchema>;
export const DEFAULT_LIMITS: LimitsConfig = limitsSchema.parse({});
