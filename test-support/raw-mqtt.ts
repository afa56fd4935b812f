/** Hand-built MQTT 3.1.1 packets, for bytes a well-behaved client library refuses to send. */
export function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    bytes.push(b);
  } while (n > 0);
  return Buffer.from(bytes);
}

const field = (bytes: Buffer): Buffer => Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);

/** A PUBLISH with a topic given as raw bytes (invalid UTF-8, NUL, ...). */
export function rawPublish(topic: Buffer, payload: Buffer, qos: 0 | 1 | 2 = 0, retain = false, messageId = 1): Buffer {
  const body = Buffer.concat([
    field(topic),
    qos ? Buffer.from([messageId >> 8, messageId & 0xff]) : Buffer.alloc(0),
    payload,
  ]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1) | (retain ? 1 : 0)]), varint(body.length), body]);
}

/**
 * A CONNECT with raw clientId, username and password bytes (clean session, keepalive 30 s), of protocol level 4
 * (MQTT 3.1.1) unless told another: 6 or 2, say, which no MQTT version has and no client library sends.
 */
export function rawConnect(clientId: Buffer, username?: Buffer, password?: Buffer, level = 4): Buffer {
  const flags = 0x02 | (username ? 0x80 : 0) | (password ? 0x40 : 0);
  const body = Buffer.concat([
    field(Buffer.from('MQTT')),
    Buffer.from([level, flags, 0, 30]),
    field(clientId),
    username ? field(username) : Buffer.alloc(0),
    password ? field(password) : Buffer.alloc(0),
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}
