import type { Socket } from 'node:net';
import type { Clock } from '../core/clock.ts';
import { plainAddress, type ProxyTrust } from '../config/trusted-proxies.ts';
import { parseProxyHeader } from './proxy-protocol.ts';

/**
 * The first bytes of an MQTT (or MQTT over TLS) connection, before the broker or TLS reads any: from a
 * trusted load balancer (mqtt.trustedProxies) they must be a PROXY protocol header, whose client address then
 * stands for the connection in every limit and log; from anyone else they must not be one (a client naming
 * its own address). The header is consumed; the bytes after it are put back for the broker or TLS.
 */
export type PreambleOutcome =
  | { ok: true; address: string; proxied: boolean }
  | { ok: false; reason: 'proxy_untrusted' | 'proxy_missing' | 'proxy_invalid' | 'proxy_timeout'; message: string }
  /** gone before its first bytes (a port scan, a TCP health check): nothing to refuse or log */
  | { ok: false; reason: 'closed'; message: string };

export interface PreambleOptions {
  trust: ProxyTrust;
  clock: Clock;
  /** how long a trusted balancer, or a client, may take to send the first bytes */
  timeoutMs: number;
}

export function readPreamble(socket: Socket, options: PreambleOptions, done: (outcome: PreambleOutcome) => void): void {
  const peer = plainAddress(socket.remoteAddress ?? 'unknown');
  const trusted = options.trust(peer);
  let held: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (outcome: PreambleOutcome, rest?: Buffer) => {
    if (finished) return;
    finished = true;
    timer.cancel();
    socket.off('readable', onReadable);
    socket.off('end', onEnd);
    socket.off('close', onEnd);
    if (rest && rest.length > 0) socket.unshift(rest);
    done(outcome);
  };
  const refuse = (reason: Extract<PreambleOutcome, { ok: false }>['reason'], message: string) =>
    finish({ ok: false, reason, message });
  const decide = () => {
    const header = parseProxyHeader(held);
    if (header.kind === 'incomplete') {
      // an MQTT client's first byte is CONNECT's (0x10) and a TLS client's 0x16: bytes that start like a PROXY
      // header come from a balancer, and from an untrusted peer they are refused without waiting for the rest
      if (!trusted && held.length > 0) {
        return refuse('proxy_untrusted', `PROXY protocol header from ${peer}, which is not in mqtt.trustedProxies`);
      }
      return;
    }
    if (header.kind === 'invalid') return refuse('proxy_invalid', `${header.reason} from ${peer}`);
    if (header.kind === 'none') {
      if (trusted) return refuse('proxy_missing', `trusted proxy ${peer} sent no PROXY protocol header`);
      return finish({ ok: true, address: peer, proxied: false }, held);
    }
    if (!trusted) {
      return refuse('proxy_untrusted', `PROXY protocol header from ${peer}, which is not in mqtt.trustedProxies`);
    }
    const address = header.source ? plainAddress(header.source.address) : peer;
    finish({ ok: true, address, proxied: true }, held.subarray(header.bytes));
  };
  const onReadable = () => {
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
      held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    }
    decide();
  };
  const onEnd = () => refuse('closed', `${peer} closed before its first bytes could be read`);
  const timer = options.clock.setTimeout(
    () => refuse('proxy_timeout', `${peer} sent no ${trusted ? 'PROXY protocol header' : 'bytes'} in time`),
    options.timeoutMs,
  );
  // a reset before the broker or TLS has the socket must not go unhandled (it would end the process); it
  // closes the socket, which ends the preamble. Kept after it: the socket is handed on in the same tick.
  socket.on('error', () => undefined);
  socket.on('readable', onReadable);
  socket.once('end', onEnd);
  socket.once('close', onEnd);
}
