import { connect as tcpConnect } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

/**
 * An MQTT 3.1.1 client over a raw socket that records every packet the broker sends, in wire order: for tests of
 * what goes on the wire (order, packet identifiers, DUP), which a client library hides or handles on its own.
 */
export interface WireClient {
  /** every packet received, in order; `close` when the socket closed */
  readonly received: Array<Packet | { cmd: 'close' }>;
  /** the PUBLISHes received */
  publishes(): mqttPacket.IPublishPacket[];
  /** resolves with the first received packet for which `test` holds, or rejects after `ms` naming `what` */
  waitFor(what: string, test: (packet: Packet | { cmd: 'close' }) => boolean, ms?: number): Promise<Packet>;
  /** CONNACK 0, or rejects with what came instead */
  connected(): Promise<mqttPacket.IConnackPacket>;
  subscribe(topic: string, qos: 0 | 1): Promise<void>;
  send(packet: Packet): void;
  /** DISCONNECT and close; `drop` closes the socket without one, as a lost network does */
  end(drop?: boolean): Promise<void>;
}

export function wireClient(
  mqttUrl: string,
  connect: {
    clientId: string;
    username: string;
    password: string;
    clean: boolean;
    will?: { topic: string; payload: Buffer; qos: 0 | 1; retain: boolean };
  },
  options: { autoAck?: boolean } = {},
): WireClient {
  const { hostname, port } = new URL(mqttUrl);
  const socket = tcpConnect(Number(port), hostname);
  const parser = mqttPacket.parser();
  const received: WireClient['received'] = [];
  const listeners = new Set<() => void>();
  const send = (packet: Packet) => {
    if (!socket.destroyed) socket.write(mqttPacket.generate(packet));
  };
  const arrived = (packet: Packet | { cmd: 'close' }) => {
    received.push(packet);
    for (const listener of [...listeners]) listener();
  };
  parser.on('packet', (packet) => {
    if (options.autoAck && packet.cmd === 'publish' && packet.qos === 1) {
      send({ cmd: 'puback', messageId: packet.messageId! });
    }
    arrived(packet);
  });
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.on('error', () => undefined); // a refused or reset socket shows as its `close`
  socket.on('close', () => arrived({ cmd: 'close' }));
  let nextId = 1;
  const client: WireClient = {
    received,
    publishes: () => received.filter((p): p is mqttPacket.IPublishPacket => p.cmd === 'publish'),
    waitFor(what, test, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.find(test);
          if (!found) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found as Packet);
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${what} within ${ms} ms; received ${received.map((p) => p.cmd).join(', ')}`));
        }, ms);
        listeners.add(check);
        check();
      });
    },
    async connected() {
      const first = await client.waitFor('CONNACK', () => true);
      if (first.cmd !== 'connack' || first.returnCode !== 0) {
        throw new Error(`expected CONNACK 0 first, got ${first.cmd} ${JSON.stringify(first)}`);
      }
      return first;
    },
    async subscribe(topic, qos) {
      const messageId = nextId++;
      send({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] });
      await client.waitFor('SUBACK', (p) => p.cmd === 'suback' && p.messageId === messageId);
    },
    send,
    end(drop = false) {
      return new Promise((resolve) => {
        if (socket.destroyed) return resolve();
        socket.once('close', () => resolve());
        if (drop) socket.destroy();
        else socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      });
    },
  };
  send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    keepalive: 30,
    ...connect,
    password: Buffer.from(connect.password),
  });
  return client;
}
