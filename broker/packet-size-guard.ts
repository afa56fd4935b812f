import type { Client } from 'aedes';

/**
 * A hard cap on the size of one MQTT packet, checked as soon as its length header is read, so a client
 * cannot make the broker buffer up to the protocol's 256 MB before anything looks at it. The usual
 * payload limit (mqtt.maxPayloadBytes) is enforced later, with a reason on the device's errors topic;
 * this guard is for packets far beyond it, and closes the connection.
 *
 * Aedes does not pass a maximum to its parser (mqtt-packet), so this wraps the parser's length step.
 * It relies on mqtt-packet's internal `_parseLength`/`_emitError`; broker/broker-limits.test.ts fails if
 * an upgrade changes them.
 */
interface PacketParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(err: Error): void;
}

export function guardPacketSize(client: Client, maxBytes: number): void {
  const parser = (client as unknown as { _parser?: PacketParser })._parser;
  if (!parser || typeof parser._parseLength !== 'function') return;
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const done = parseLength();
    if (done && parser.packet.length > maxBytes) {
      parser._emitError(new Error(`packet of ${parser.packet.length} bytes exceeds the ${maxBytes}-byte limit`));
      return false;
    }
    return done;
  };
}
