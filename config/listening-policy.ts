import { isIP } from 'node:net';
import { ConfigError } from './config-error.ts';
import type { PlatformConfig } from './platform-config.ts';
import { tlsEnabled } from './tls-config.ts';

/**
 * Where the platform may listen in plaintext. Device passwords, operator tokens and readings cross every
 * plaintext listener in the clear, so a production platform refuses to open one beyond this host unless
 * its config says so explicitly (`security.allowPlaintext`, for a network that is already encrypted, such
 * as a VPN or a reverse proxy on another host). The demo profile binds to loopback by default instead.
 */
export interface Listener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** the keys that set its address, for the message */
  readonly hostKey: string;
}

/** True for addresses that only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The listeners a config opens (what platform-listeners.ts starts). */
export function listenersOf(config: PlatformConfig): Listener[] {
  const tls = tlsEnabled(config.tls);
  const out: Listener[] = [
    {
      name: 'MQTT over TCP',
      host: config.mqtt.host,
      port: config.mqtt.port,
      tls: false,
      hostKey: 'mqtt.host (IOC_MQTT_HOST)',
    },
    {
      name:
        tls && config.tls.http
          ? 'HTTPS (API, console, WSS: /mqtt and the alert stream)'
          : 'HTTP (API, console, WebSocket: /mqtt and the alert stream)',
      host: config.http.host,
      port: config.http.port,
      tls: tls && config.tls.http,
      hostKey: 'http.host (IOC_HTTP_HOST)',
    },
  ];
  if (tls)
    out.push({
      name: 'MQTT over TLS',
      host: config.tls.mqttHost ?? config.mqtt.host,
      port: config.tls.mqttPort,
      tls: true,
      hostKey: 'tls.mqttHost (IOC_TLS_MQTT_HOST)',
    });
  return out;
}

export interface PolicyResult {
  /** plaintext listeners beyond loopback that the production profile refuses */
  refused: Listener[];
  /** plaintext listeners beyond loopback that the config allows explicitly (logged as a warning) */
  allowedPlaintext: Listener[];
  /** demo only: every listener is on loopback, so the log says how to open it */
  loopbackOnly: boolean;
}

export function evaluateListeningPolicy(config: PlatformConfig): PolicyResult {
  const listeners = listenersOf(config);
  const exposedPlaintext = listeners.filter((l) => !l.tls && !isLoopback(l.host));
  const refusing = config.profile === 'production' && !config.security.allowPlaintext;
  return {
    refused: refusing ? exposedPlaintext : [],
    allowedPlaintext: refusing ? [] : exposedPlaintext,
    loopbackOnly: listeners.every((l) => isLoopback(l.host)),
  };
}

/** Throws the ConfigError that stops a production start, naming each listener and how to fix it. */
export function enforceListeningPolicy(config: PlatformConfig): PolicyResult {
  const result = evaluateListeningPolicy(config);
  if (result.refused.length === 0) return result;
  const lines = result.refused.map(
    (l) => `${l.name} on ${l.host}:${l.port} is plaintext and reachable from the network (${l.hostKey})`,
  );
  throw new ConfigError(
    [
      'the production profile does not listen in plaintext beyond this machine:',
      ...lines.map((l) => `  - ${l}`),
      'Configure TLS: tls.cert and tls.key (IOC_TLS_CERT, IOC_TLS_KEY: PEM files; `npm run ioc -- tls ' +
        'dev-cert --out DIR` makes a trial pair)',
      'turn HTTP into HTTPS and WSS and open MQTT over TLS on tls.mqttPort (8883) at tls.mqttHost ' +
        '(IOC_TLS_MQTT_HOST=0.0.0.0); keep plain MQTT on loopback (IOC_MQTT_HOST=127.0.0.1).',
      'If the network is already encrypted (a VPN, a TLS proxy on another host), say so with ' +
        'security.allowPlaintext: true (IOC_ALLOW_PLAINTEXT=1).',
    ].join('\n'),
  );
}
