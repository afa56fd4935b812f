import fc from 'fast-check';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { fuzzParameters } from '../test-support/fuzz.ts';
import { encodePublish, encodeTopic, WireScanner } from './soak-wire.ts';

/**
 * The soak generator writes its own PUBLISH bytes and reads the broker's bytes itself; mqtt-packet (the
 * parser Aedes runs) is the reference for both, so the soak measures real MQTT and not a look-alike.
 */
const params = fuzzParameters(300);
const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) });

function parseAll(bytes: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const packets: mqttPacket.Packet[] = [];
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (err) => {
    throw err;
  });
  parser.parse(bytes);
  return packets;
}

describe('soak wire', () => {
  it('a PUBLISH reads back in mqtt-packet as the same QoS 1 topic, packet id and payload', () => {
    fc.assert(
      fc.property(
        ascii.filter((t) => t.length > 0),
        fc.integer({ min: 1, max: 65_535 }),
        // up to 20,000 characters: remaining lengths of one, two and three bytes
        fc.oneof(
          ascii,
          fc.integer({ min: 100, max: 20_000 }).map((n) => 'x'.repeat(n)),
        ),
        (topic, id, payload) => {
          const packets = parseAll(encodePublish(encodeTopic(topic), id, payload));
          expect(packets).toHaveLength(1);
          const p = packets[0] as mqttPacket.IPublishPacket;
          expect(p).toMatchObject({ cmd: 'publish', qos: 1, retain: false, dup: false, topic, messageId: id });
          expect(Buffer.from(p.payload).toString('latin1')).toBe(payload);
        },
      ),
      params,
    );
  });

  it("reports every PUBACK and CONNACK of the broker's stream, however TCP cuts it, and skips the rest", () => {
    const packet = fc.oneof(
      fc.integer({ min: 1, max: 65_535 }).map((messageId) => ({ cmd: 'puback' as const, messageId })),
      fc.integer({ min: 0, max: 5 }).map((returnCode) => ({ cmd: 'connack' as const, returnCode })),
      fc.constant({ cmd: 'pingresp' as const }),
      fc
        .tuple(
          ascii.filter((t) => t.length > 0),
          fc.integer({ min: 0, max: 300 }),
        )
        .map(([topic, n]) => ({ cmd: 'publish' as const, topic, payload: 'p'.repeat(n), qos: 0 as const })),
    );
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 10 }), (packets, cuts) => {
        const stream = Buffer.concat(
          packets.map((p) => mqttPacket.generate({ ...p, sessionPresent: false } as mqttPacket.Packet)),
        );
        const seen: string[] = [];
        const scanner = new WireScanner({
          connack: (code) => seen.push(`connack ${code}`),
          puback: (id) => seen.push(`puback ${id}`),
        });
        const points = [...new Set(cuts.map((c) => (stream.length ? c % stream.length : 0)))].sort((a, b) => a - b);
        let from = 0;
        for (const at of [...points, stream.length]) {
          scanner.push(stream.subarray(from, at));
          from = at;
        }
        const expected = packets.flatMap((p) =>
          p.cmd === 'puback' ? [`puback ${p.messageId}`] : p.cmd === 'connack' ? [`connack ${p.returnCode}`] : [],
        );
        expect(seen).toEqual(expected);
      }),
      params,
    );
  });

  it('refuses a remaining length longer than four bytes instead of reading on', () => {
    const scanner = new WireScanner({ connack: () => undefined, puback: () => undefined });
    expect(() => scanner.push(Buffer.from([0x40, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(/remaining length/);
  });
});
