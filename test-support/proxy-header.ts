import { connect, isIPv4 } from 'node:net';

/**
 * PROXY protocol headers as a balancer writes them (HAProxy's proxy-protocol.txt), built independently of
 * broker/proxy-protocol.ts, and a raw MQTT exchange from a chosen local address (127.0.0.0/8 is all local).
 */
export function proxyV1(source: string, sourcePort: number, dest: string, destPort: number): Buffer {
  const family = isIPv4(source) ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${source} ${dest} ${sourcePort} ${destPort}\r\n`, 'latin1');
}

export const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** v2 PROXY command over TCP; `source`/`dest` as 4 or 16 bytes; `tlvs` appended after the addresses. */
export function proxyV2(
  source: Uint8Array,
  sourcePort: number,
  dest: Uint8Array,
  destPort: number,
  tlvs: Uint8Array = new Uint8Array(0),
): Buffer {
  const v6 = source.length === 16;
  const block = Buffer.alloc(v6 ? 36 : 12);
  Buffer.from(source).copy(block, 0);
  Buffer.from(dest).copy(block, v6 ? 16 : 4);
  block.writeUInt16BE(sourcePort, v6 ? 32 : 8);
  block.writeUInt16BE(destPort, v6 ? 34 : 10);
  const head = Buffer.alloc(4);
  head[0] = 0x21; // version 2, PROXY
  head[1] = v6 ? 0x21 : 0x11; // TCP over IPv6 / IPv4
  head.writeUInt16BE(block.length + tlvs.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, block, Buffer.from(tlvs)]);
}

export const ipv4Bytes = (address: string): Uint8Array => Uint8Array.from(address.split('.').map(Number));

/**
 * Connects from `localAddress`, writes `bytes`, and reports the CONNACK return code, or undefined when the
 * socket was closed without one. With `hold`, a connection that got its CONNACK stays open: `close()` ends it.
 */
export function rawExchange(o: {
  host: string;
  port: number;
  localAddress: string;
  bytes: Buffer;
  timeoutMs?: number;
  hold?: boolean;
}): Promise<{ connack: number | undefined; close(): void }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: o.host, port: o.port, localAddress: o.localAddress }, () => socket.write(o.bytes));
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer from ${o.host}:${o.port} within ${o.timeoutMs ?? 5000} ms`));
    }, o.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      // CONNACK: 0x20, remaining length 2, flags, return code
      if (got.length >= 4 && got[0] === 0x20) {
        clearTimeout(timer);
        if (!o.hold) socket.destroy();
        resolve({ connack: got[3], close: () => socket.destroy() });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ connack: undefined, close: () => undefined });
    });
  });
}
