import type { Sensor } from '../config/city-config.ts';
import type { SimulatedEvent } from './simulator-contract.ts';

/** One device's output at one simulated instant, as the runner hands it to a sink. */
export interface SimStep {
  /** simulated epoch ms */
  readonly ts: number;
  readonly values?: Readonly<Record<string, number>>;
  readonly events?: readonly SimulatedEvent[];
  readonly status?: 'online' | 'offline';
}

export interface SinkStats {
  /** readings handed to the transport */
  readonly readings: number;
  /** readings the platform acknowledged (QoS 1 PUBACK) */
  readonly acknowledged: number;
  /** readings the platform rejected (a message on ioc/{kind}/{id}/errors) */
  readonly rejected: number;
  /** readings that could not be sent (connection lost before the acknowledgement) */
  readonly failed: number;
  readonly events: number;
  /** devices connected now */
  readonly connected: number;
}

/** Where simulated readings go: an MQTT fleet, or memory for tests. */
export interface SimulationSink {
  /** connects the devices; resolves once they can publish */
  open(sensors: readonly Sensor[]): Promise<void>;
  write(sensor: Sensor, step: SimStep): void;
  /** the runner's tick is over: a sink may send each device's steps of the tick as one message */
  endTick(): void;
  /** true while a device has too much unacknowledged: the runner holds back that device's time */
  isBusy(sensorId: string): boolean;
  /** resolves when everything written is acknowledged or failed, and late rejections had time to arrive */
  drain(): Promise<void>;
  close(): Promise<void>;
  stats(): SinkStats;
}
