import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Broker } from './broker/create-broker.ts';
import type { Clock } from './core/clock.ts';
import { enforceListeningPolicy } from './config/listening-policy.ts';
import type { PlatformConfig } from './config/platform-config.ts';
import { tlsEnabled, type TlsFiles } from './config/tls-config.ts';
import { loadTlsMaterial, type TlsMaterial } from './config/tls-material.ts';
import { watchTlsFiles, type TlsReloader } from './config/tls-reloader.ts';

/**
 * The listening policy and TLS wiring, kept out of platform.ts: checks where the platform may listen
 * (config/listening-policy.ts) before anything starts, reads the certificate, opens MQTT over TLS beside
 * the broker's TCP listener, gives the HTTP server its certificate (HTTPS, and so WSS for /mqtt and the
 * alert stream) and swaps both certificates when the files change.
 */
export interface ListenersDeps {
  config: PlatformConfig;
  clock: Clock;
  logger: Logger;
}

export interface StartedListeners {
  /** mqtts://host:port, when TLS is configured */
  readonly mqttsUrl: string | undefined;
}

export interface PlatformListeners {
  /** for buildApp: the HTTP server serves HTTPS with this certificate */
  readonly https: { cert: string; key: string } | undefined;
  readonly httpScheme: 'http' | 'https';
  readonly wsScheme: 'ws' | 'wss';
  /** opens MQTT over TLS and starts watching the certificate files; call once the HTTP server listens */
  start(deps: {
    broker: Broker;
    httpServer: NetServer;
    registry: Registry;
    onReload?: (result: 'reloaded' | 'failed', subject?: { fingerprint256: string; notAfter: number }) => void;
  }): Promise<StartedListeners>;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Throws a ConfigError (the platform does not start) when the policy refuses a listener or the certificate fails a
 * check.
 */
export function prepareListeners(deps: ListenersDeps): PlatformListeners {
  const { config, clock, logger } = deps;
  const policy = enforceListeningPolicy(config);
  for (const l of policy.allowedPlaintext) {
    logger.warn(
      { listener: l.name, host: l.host, port: l.port },
      `${l.name} is plaintext on ${l.host}, reachable from the network` +
        `${config.security.allowPlaintext ? ' (security.allowPlaintext)' : ''}: configure tls.cert and tls.key`,
    );
  }
  if (config.profile === 'demo' && policy.loopbackOnly) {
    logger.info(
      'listening on this machine only (127.0.0.1); to open the platform to the network set ' +
        'IOC_HTTP_HOST=0.0.0.0 and IOC_MQTT_HOST=0.0.0.0 ' +
        '(mqtt.host, http.host), with TLS for anything beyond a trial',
    );
  }
  const tls = config.tls;
  if (!tlsEnabled(tls)) {
    return {
      https: undefined,
      httpScheme: 'http',
      wsScheme: 'ws',
      start: async () => ({ mqttsUrl: undefined }),
      close: async () => undefined,
    };
  }
  const files: TlsFiles = tls;
  const initial = loadTlsMaterial(files, clock.now());
  logger.info(
    {
      subject: initial.subject,
      fingerprint256: initial.fingerprint256,
      notAfter: new Date(initial.notAfter).toISOString(),
      clientCa: Boolean(files.ca),
    },
    'TLS certificate loaded',
  );
  const httpsOn = files.http;
  const serverPair = (m: TlsMaterial) => ({ cert: m.options.cert, key: m.options.key });

  let mqttServer: TlsServer | undefined;
  let rawServer: NetServer | undefined;
  // the raw sockets under MQTT over TLS: destroyed at close, so that close never waits on a wrapped one
  const rawSockets = new Set<Socket>();
  let reloader: TlsReloader | undefined;
  return {
    https: httpsOn ? serverPair(initial) : undefined,
    httpScheme: httpsOn ? 'https' : 'http',
    wsScheme: httpsOn ? 'wss' : 'ws',
    async start(startDeps) {
      const { broker, httpServer, registry } = startDeps;
      let applied: { fingerprint256: string; notAfter: number } | undefined;
      const handshakeFailures = new Counter({
        name: 'ioc_tls_handshake_failures_total',
        help:
          'TLS handshakes that failed (no common protocol, ' +
          'untrusted or missing client certificate, not TLS at all)',
        labelNames: ['listener'],
        registers: [registry],
      });
      const reloads = new Counter({
        name: 'ioc_tls_reloads_total',
        help: 'Certificate reloads after the files changed, by result (failed: the old certificate stayed)',
        labelNames: ['result'],
        registers: [registry],
      });
      const expiry = new Gauge({
        name: 'ioc_tls_certificate_expiry_timestamp_seconds',
        help: 'When the certificate in service expires (epoch seconds)',
        registers: [registry],
      });
      expiry.set(Math.floor(initial.notAfter / 1000));
      // the client's address of each raw socket, read from its PROXY header when a trusted balancer sent it
      // (broker.readClientAddress); a TLS socket made from an emitted connection keeps its raw one as _parent
      const clientAddresses = new WeakMap<object, string>();
      const addressOf = (socket: TLSSocket) => {
        const raw = (socket as unknown as { _parent?: Socket })._parent;
        return (raw && clientAddresses.get(raw)) ?? socket.remoteAddress ?? 'unknown';
      };
      const logHandshake = handshakeLogger(logger, clock, addressOf);

      // client certificates are asked for only when a CA can verify them; requireClientCert makes one mandatory
      mqttServer = createTlsServer(
        { ...initial.options, requestCert: Boolean(files.ca), rejectUnauthorized: files.requireClientCert },
        (socket) => {
          // a certificate that fails verification after the handshake (a forged issuer name, say) ends as an
          // OpenSSL error on the socket: count and log it like a refused handshake
          socket.on('error', (err: Error & { library?: string }) => {
            if (!err.library && !/ssl|tls|asn1|certificate/i.test(err.message)) return;
            handshakeFailures.inc({ listener: 'mqtts' });
            logHandshake('MQTT over TLS', err, socket);
          });
          broker.handleStream(socket, undefined, addressOf(socket));
        },
      );
      mqttServer.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        handshakeFailures.inc({ listener: 'mqtts' });
        logHandshake('MQTT over TLS', err, socket);
      });
      const host = files.mqttHost ?? config.mqtt.host;
      // the TLS server never listens itself: a plain TCP listener reads the PROXY preamble first (a trusted
      // balancer's header comes before the ClientHello), then hands the socket over as a new connection
      const tlsServer = mqttServer;
      const server = createNetServer((raw) => {
        rawSockets.add(raw);
        raw.once('close', () => rawSockets.delete(raw));
        broker.readClientAddress(raw, (address) => {
          clientAddresses.set(raw, address);
          tlsServer.emit('connection', raw);
        });
      });
      rawServer = server;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(files.mqttPort, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const mqttsUrl = `mqtts://${hostForUrl(host)}:${(server.address() as { port: number }).port}`;
      logger.info(
        `MQTT over TLS listening on ${mqttsUrl}` +
          `${files.ca ? ` (device client certificates ${files.requireClientCert ? 'required' : 'accepted'})` : ''}`,
      );

      const https = httpsOn ? (httpServer as TlsServer) : undefined;
      https?.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        handshakeFailures.inc({ listener: 'https' });
        logHandshake('HTTPS', err, socket);
      });
      reloader = watchTlsFiles({
        files,
        current: initial,
        clock,
        logger,
        apply(material) {
          tlsServer.setSecureContext(material.options);
          applied = { fingerprint256: material.fingerprint256, notAfter: material.notAfter };
          https?.setSecureContext(serverPair(material));
          expiry.set(Math.floor(material.notAfter / 1000));
        },
        onResult: (result) => {
          reloads.inc({ result });
          startDeps.onReload?.(result, result === 'reloaded' ? applied : undefined);
        },
      });
      return { mqttsUrl };
    },
    async close() {
      reloader?.close();
      const server = rawServer;
      // the broker has disconnected its clients by now, so close() does not wait for connections
      if (server?.listening) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const raw of rawSockets) raw.destroy();
        await closed;
      }
    },
  };
}

/**
 * Failed handshakes are mostly scanners and clients without the CA: one line at most every 10 s, with how
 * many were left out meanwhile, so that a scan cannot flood the log (each is counted in /metrics).
 */
function handshakeLogger(
  logger: Logger,
  clock: Clock,
  addressOf: (socket: TLSSocket) => string,
): (listener: string, err: Error, socket: TLSSocket) => void {
  let quietUntil = 0;
  let suppressed = 0;
  return (listener, err, socket) => {
    const now = clock.now();
    if (now < quietUntil) {
      suppressed++;
      return;
    }
    quietUntil = now + 10_000;
    logger.info(
      {
        listener,
        remote: listener === 'HTTPS' ? socket.remoteAddress : addressOf(socket),
        err: err.message.slice(0, 200),
        suppressed,
      },
      'TLS handshake refused',
    );
    suppressed = 0;
  };
}
