import { connect, type Socket } from 'node:net';
import type { RecordableHistogram } from 'node:perf_hooks';
import { encodeConnect, encodePublish, encodeTopic, WireScanner } from './soak-wire.ts';

/**
 * One soak device: a raw TCP connection speaking just enough MQTT 3.1.1 to authenticate, publish QoS 1
 * readings and time each PUBACK. Packet ids cycle through a window of MAX_IN_FLIGHT; a device that far
 * behind skips readings (counted) rather than reuse an id still in flight.
 */
export const MAX_IN_FLIGHT = 1024;

export interface SoakDeviceSpec {
  sensorId: string;
  kind: string;
  username: string;
  password: string;
}

export interface FleetCounters {
  published: number;
  acked: number;
  /** in flight on a connection that closed: never acknowledged */
  failed: number;
  /** due while the device was not connected, or its window was full */
  skipped: number;
  inFlight: number;
  disconnects: number;
  /** CONNACK with a non-zero return code */
  refused: number;
  /** a PUBACK for no packet in flight: the broker acknowledged something twice or wrongly */
  strayAcks: number;
}

export function emptyCounters(): FleetCounters {
  return { published: 0, acked: 0, failed: 0, skipped: 0, inFlight: 0, disconnects: 0, refused: 0, strayAcks: 0 };
}

export class SoakDevice {
  private socket: Socket | undefined;
  private connected = false;
  private everConnected = false;
  private stopping = false;
  private readonly sentAt = new Float64Array(MAX_IN_FLIGHT + 1);
  private nextId = 1;
  private inFlight = 0;
  private lastTs = 0;
  private readonly topicField: Buffer;
  private readonly connectPacket: Buffer;
  /** pm25, a random walk that now and then crosses the rules' thresholds so alerts fire and resolve */
  private level: number;

  constructor(
    spec: SoakDeviceSpec,
    index: number,
    private readonly address: { host: string; port: number },
    private readonly counters: FleetCounters,
    private readonly latency: RecordableHistogram,
  ) {
    this.topicField = encodeTopic(`ioc/${spec.kind}/${spec.sensorId}/readings`);
    this.connectPacket = encodeConnect(`${spec.sensorId}-soak-${process.pid}`, spec.username, spec.password);
    this.level = 20 + (index % 30);
  }

  /** Resolves once the broker accepted the CONNECT; rejects if it refused or the socket failed first. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.address);
      this.socket = socket;
      socket.setNoDelay(true);
      const scanner = new WireScanner({
        connack: (code) => {
          if (code === 0) {
            this.connected = true;
            this.everConnected = true;
            resolve();
            return;
          }
          this.counters.refused++;
          socket.destroy();
          reject(new Error(`CONNACK return code ${code}`));
        },
        puback: (id) => this.acknowledged(id),
      });
      socket.on('connect', () => socket.write(this.connectPacket));
      socket.on('data', (chunk: Buffer) => scanner.push(chunk));
      socket.on('error', (err) => reject(err));
      socket.on('close', () => this.closed(reject));
    });
  }

  publish(now: number): void {
    const id = this.nextId;
    if (!this.connected || this.sentAt[id] !== 0) {
      this.counters.skipped++;
      return;
    }
    this.level = Math.min(
      400,
      Math.max(
        1,
        this.level + (Math.random() - 0.5) * 8 + (Math.random() < 0.0005 ? 150 : 0) - (this.level > 120 ? 10 : 0),
      ),
    );
    // one timestamp per reading and device: the store keeps one point per series and time
    const ts = now > this.lastTs ? now : this.lastTs + 1;
    this.lastTs = ts;
    const body =
      `{"ts":${ts},"pm25":${this.level.toFixed(1)},` + `"pm10":${(this.level * 1.6).toFixed(1)},"temperature":27.5}`;
    this.sentAt[id] = performance.now();
    this.nextId = id === MAX_IN_FLIGHT ? 1 : id + 1;
    this.inFlight++;
    this.counters.inFlight++;
    this.counters.published++;
    this.socket!.write(encodePublish(this.topicField, id, body));
  }

  /** Waits (up to `ms`) for what is in flight, then disconnects cleanly. */
  async stop(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (this.inFlight > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.stopping = true;
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(Buffer.from([0xe0, 0x00])); // DISCONNECT: a clean goodbye, no last will
    });
  }

  private acknowledged(id: number): void {
    const sent = this.sentAt[id];
    if (sent === undefined || sent === 0) {
      this.counters.strayAcks++;
      return;
    }
    this.latency.record(Math.max(1, Math.round((performance.now() - sent) * 1000)));
    this.sentAt[id] = 0;
    this.inFlight--;
    this.counters.inFlight--;
    this.counters.acked++;
  }

  private closed(reject: (err: Error) => void): void {
    const wasConnected = this.connected;
    this.connected = false;
    this.counters.failed += this.inFlight;
    this.counters.inFlight -= this.inFlight;
    this.inFlight = 0;
    this.sentAt.fill(0);
    reject(new Error('connection closed'));
    // a device that never got in fails the start-up instead; one that was in keeps trying
    if (this.stopping || !this.everConnected) return;
    if (wasConnected) this.counters.disconnects++;
    // as a device would: come back after a second, with a new session
    setTimeout(() => this.connect().catch(() => undefined), 1000);
  }
}
