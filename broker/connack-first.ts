import type { Client, PublishPacket } from 'aedes';
import type { RefusalLog } from './refusal-log.ts';

type Deliver = (packet: PublishPacket, done: () => void) => void;
/** Aedes' per-client delivery functions (lib/client.js): every message for a client goes through one of them */
interface Deliveries {
  deliver0: Deliver;
  deliverQoS: Deliver;
}

/**
 * The CONNACK before any message [MQTT-3.2.0-1]. When a persistent session resumes, Aedes re-subscribes its
 * filters, stores the will and only then writes the CONNACK; with sessions in Redis (cluster mode) that is a
 * few round trips, and a message published meanwhile was written to the client first. mqtt.js, for one, then
 * stalls: it holds the PUBACK of that PUBLISH until it is connected, stops reading, never reads the CONNACK,
 * and gives up on the connection (cluster/two-nodes.test.ts failed that way under load).
 *
 * So every client's deliveries are held from its CONNECT until its CONNACK is written, then passed on in order.
 * The emitter is not kept waiting meanwhile (its callbacks are answered at once: one slow login must not stall
 * every other client's messages); a QoS 1 message for a persistent session is also in the session's queue,
 * which Aedes replays after the CONNACK, so the client gets it either way. At most `bound` are held, the bound
 * of a client's queue; past it a message is dropped, as a full queue drops it, and said once in the log.
 */
export class ConnackFirst {
  /** per client still before its CONNACK: passes on what was held and ends the hold */
  private readonly releases = new WeakMap<Client, () => void>();

  constructor(
    private readonly bound: number,
    private readonly refusals: RefusalLog,
  ) {}

  /** From the client's CONNECT (Aedes' preConnect), before Aedes restores its session. */
  hold(client: Client): void {
    const c = client as Client & Deliveries;
    let held: Array<{ deliver: Deliver; packet: PublishPacket }> | undefined = [];
    const wrap =
      (deliver: Deliver): Deliver =>
      (packet, done) => {
        if (!held) return deliver(packet, done);
        if (held.length < this.bound) held.push({ deliver, packet });
        else this.refusals.refuse('queue_full', client.id, this.fullMessage(client));
        done();
      };
    // Aedes' deliverQoS hands a QoS 0 message on to `this.deliver0`, the wrapper here: it is held once all the
    // same, as the release ends the hold before it passes anything on
    c.deliver0 = wrap(c.deliver0);
    c.deliverQoS = wrap(c.deliverQoS);
    this.releases.set(client, () => {
      const queue = held ?? [];
      held = undefined;
      for (const { deliver, packet } of queue) deliver(packet, noop);
    });
    // a connection that ends before its CONNACK drops what was held (a persistent session keeps its queue)
    client.conn.once('close', () => {
      held = undefined;
      this.releases.delete(client);
    });
  }

  /** When the CONNACK is written (Aedes' connackSent): what was held goes out, in order, and nothing more is. */
  release(client: Client): void {
    const release = this.releases.get(client);
    this.releases.delete(client);
    release?.();
  }

  private fullMessage(client: Client): string {
    return (
      `client ${client.id.slice(0, 64)} was sent ${this.bound} messages before its CONNACK: ` +
      'newer ones are dropped until it is connected'
    );
  }
}

function noop(): void {}
