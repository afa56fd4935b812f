import { Counter, Histogram, type Registry } from 'prom-client';

/** Ingest counters, registered on the platform's own registry (never the global one). */
export function createIngestMetrics(registry: Registry) {
  return {
    messages: new Counter({
      name: 'ioc_messages_received_total',
      help: 'Device messages received, by channel',
      labelNames: ['channel'],
      registers: [registry],
    }),
    readingsStored: new Counter({
      name: 'ioc_readings_stored_total',
      help: 'Readings (one timestamped sample of a sensor) made durable',
      registers: [registry],
    }),
    valuesStored: new Counter({
      name: 'ioc_values_stored_total',
      help: 'Metric values made durable',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'ioc_readings_rejected_total',
      help: 'Rejected readings, values or publishes, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'ioc_commit_seconds',
      help: 'Time from a publish being validated to its readings being durable (the PUBACK wait)',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
