import mqttPacket from 'mqtt-packet';

/**
 * The soak load generator's MQTT 3.1.1 wire code. The generator must cost far less CPU than the platform it
 * measures (both share two cores), so it does not run a client library per device: CONNECT comes from
 * mqtt-packet once per connection, a QoS 1 PUBLISH is a topic prefix built once per device plus the packet
 * id and the payload, and of what the broker sends only CONNACK and PUBACK are decoded.
 */

/** A device's CONNECT (MQTT 3.1.1, clean session, no keepalive: the generator sends nothing idle). */
export function encodeConnect(clientId: string, username: string, password: string): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 0,
    username,
    password: Buffer.from(password),
  });
}

/** The topic's length-prefixed bytes, computed once per device. */
export function encodeTopic(topic: string): Buffer {
  const bytes = Buffer.from(topic, 'utf8');
  const field = Buffer.allocUnsafe(2 + bytes.length);
  field.writeUInt16BE(bytes.length, 0);
  bytes.copy(field, 2);
  return field;
}

/** A QoS 1 PUBLISH of `payload` (ASCII: the generator writes numbers and JSON punctuation only). */
export function encodePublish(topicField: Buffer, packetId: number, payload: string): Buffer {
  const remaining = topicField.length + 2 + payload.length;
  const lengthBytes = remaining < 128 ? 1 : remaining < 16_384 ? 2 : 3;
  const packet = Buffer.allocUnsafe(1 + lengthBytes + remaining);
  packet[0] = 0x32; // PUBLISH, QoS 1, no DUP, no RETAIN
  let at = 1;
  for (let n = remaining; ; ) {
    const digit = n & 0x7f;
    n >>>= 7;
    packet[at++] = n > 0 ? digit | 0x80 : digit;
    if (n === 0) break;
  }
  at += topicField.copy(packet, at);
  packet[at++] = packetId >> 8;
  packet[at++] = packetId & 0xff;
  packet.write(payload, at, 'latin1');
  return packet;
}

export interface WireListener {
  connack(returnCode: number): void;
  puback(packetId: number): void;
}

/**
 * Splits the broker's byte stream into packets (TCP delivers them cut anywhere) and reports CONNACKs and
 * PUBACKs; other packets are skipped by their length. A malformed length throws: the connection is bad.
 */
export class WireScanner {
  private pending: Buffer | undefined;

  constructor(private readonly listener: WireListener) {}

  push(chunk: Buffer): void {
    const data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    while (data.length - at >= 2) {
      let remaining = 0;
      let multiplier = 1;
      let header = 1;
      let complete = false;
      while (at + header < data.length) {
        const byte = data[at + header]!;
        remaining += (byte & 0x7f) * multiplier;
        header++;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
        multiplier *= 128;
        if (header > 4) throw new Error('malformed MQTT remaining length');
      }
      if (!complete || data.length - at < header + remaining) break;
      const type = data[at]! >> 4;
      if (type === 4 && remaining >= 2) this.listener.puback(data.readUInt16BE(at + header));
      else if (type === 2 && remaining >= 2) this.listener.connack(data[at + header + 1]!);
      at += header + remaining;
    }
    this.pending = at < data.length ? data.subarray(at) : undefined;
  }
}
