import type { Client, PublishPacket } from 'aedes';
import type { RefusalLog } from './refusal-log.ts';

type Deliver = (packet: PublishPacket, done: () => void) => void;
/** Aedes' per-client delivery functions (lib/client.js): every message for a client goes through one of them */
interface Deliveries {
  deliver0: Deliver;
  deliverQoS: Deliver;
}
interface StoredPacket {
  brokerId?: string;
  brokerCounter?: number | string;
  messageId?: number;
  dup?: boolean;
}
/** The part of aedes-persistence this relies on: Aedes replays a session's queue from it after the CONNACK. */
export interface ReplayPersistence {
  outgoingStream(client: { id: string }): AsyncIterable<StoredPacket>;
}

interface Resume {
  /** until the release (or the connection's close); read by every delivery, so kept here, not looked up */
  holding: boolean;
  held: Array<{ deliver: Deliver; packet: PublishPacket }>;
  /** the messages the queue's replay sent, by `brokerId:brokerCounter` (one publish, whichever node took it) */
  replayed: Set<string>;
}

const messageKey = (p: StoredPacket) => `${p.brokerId}:${p.brokerCounter}`;

/**
 * How a session resumes on the wire: the CONNACK first [MQTT-3.2.0-1], then the session's queue, then what was
 * published meanwhile, each message once, in the order it was published [MQTT-4.6.0-6].
 *
 * Aedes connects a client in steps: it re-subscribes a persistent session's filters, stores the will, writes the
 * CONNACK, then replays the session's queue (QoS 1/2 messages kept for it, sent or not). Its live deliveries run
 * from the re-subscription on, so a message published meanwhile was written before the CONNACK (with sessions in
 * Redis that window spans round trips; mqtt.js then stalls and never reads the CONNACK), or before older queued
 * messages, or twice: a QoS 1 message is queued for every persistent subscriber before it is delivered, so the
 * replay sends it too, and on the in-memory queue the second send, after the client's PUBACK cleared the first,
 * failed with "no such packet" and closed the connection.
 *
 * So every client's live deliveries are held from its CONNECT until Aedes has replayed its queue (`clientReady`),
 * then passed on in order, less those the replay sent. The emitter is not kept waiting meanwhile (its callbacks
 * are answered at once: one slow login must not stall every other client's messages). At most `bound` are held,
 * the bound of a client's queue; past it a message is dropped, as a full queue drops it (a persistent session
 * keeps its QoS 1 messages in its queue, sent at its next resume), and said once in the log.
 *
 * A queued message that was sent before (it has a packet identifier) goes out again with DUP set [MQTT-3.3.1-1].
 */
export class SessionResume {
  private readonly resuming = new WeakMap<Client, Resume>();

  constructor(
    private readonly bound: number,
    private readonly refusals: RefusalLog,
  ) {}

  /** Wraps the persistence's queue replay (in place) so that the replay of a resuming client is known. */
  install(persistence: ReplayPersistence): void {
    const stream = persistence.outgoingStream.bind(persistence);
    persistence.outgoingStream = (client) => {
      const resume = this.resuming.get(client as Client);
      return resume ? replay(stream(client), resume.replayed) : stream(client);
    };
  }

  /** From the client's CONNECT (Aedes' preConnect), before Aedes restores its session. */
  hold(client: Client): void {
    const c = client as Client & Deliveries;
    const resume: Resume = { holding: true, held: [], replayed: new Set() };
    this.resuming.set(client, resume);
    const wrap =
      (deliver: Deliver): Deliver =>
      (packet, done) => {
        if (!resume.holding) return deliver(packet, done);
        if (resume.held.length < this.bound) resume.held.push({ deliver, packet });
        else this.refusals.refuse('queue_full', client.id, this.fullMessage(client));
        done();
      };
    // Aedes' deliverQoS hands a QoS 0 message on to `this.deliver0`, the wrapper here: it is held once all the
    // same, as the release ends the hold before it passes anything on
    c.deliver0 = wrap(c.deliver0);
    c.deliverQoS = wrap(c.deliverQoS);
    // a connection that ends before it is ready drops what was held (a persistent session keeps its queue)
    client.conn.once('close', () => {
      resume.holding = false;
      this.resuming.delete(client);
    });
  }

  /** When Aedes has replayed the client's queue (its `clientReady`): what was held goes out, and nothing more is. */
  release(client: Client): void {
    const resume = this.resuming.get(client);
    if (!resume) return;
    resume.holding = false;
    this.resuming.delete(client);
    for (const { deliver, packet } of resume.held) {
      if (!resume.replayed.has(messageKey(packet as StoredPacket))) deliver(packet, noop);
    }
  }

  private fullMessage(client: Client): string {
    return (
      `client ${client.id.slice(0, 64)} was sent ${this.bound} messages while its session resumed: ` +
      'newer ones are dropped until it is connected'
    );
  }
}

async function* replay(source: AsyncIterable<StoredPacket>, replayed: Set<string>): AsyncIterable<StoredPacket> {
  for await (const packet of source) {
    replayed.add(messageKey(packet));
    // Aedes builds the PUBLISH from this packet and keeps its dup flag and packet identifier
    yield packet.messageId ? { ...packet, dup: true } : packet;
  }
}

function noop(): void {}
