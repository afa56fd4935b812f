import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';

/**
 * What integrations (ChirpStack, camera sources) sent and what became of it, and one log line per refused
 * thing (a DevEUI, a camera, a label) rather than per message: a misconfigured fleet uplinks all day.
 */
export function createIntegrationMetrics(registry: Registry) {
  return {
    messages: new Counter({
      name: 'ioc_integration_messages_total',
      help:
        'Messages from integrations (ChirpStack, camera sources) by integration, event and outcome (accepted, ' +
        'refused, ignored, duplicate)',
      labelNames: ['integration', 'event', 'outcome'],
      registers: [registry],
    }),
    refused: new Counter({
      name: 'ioc_integration_refused_total',
      help: 'Integration messages refused, by integration and reason (the codes of the MQTT errors topic)',
      labelNames: ['integration', 'reason'],
      registers: [registry],
    }),
  };
}
export type IntegrationMetrics = ReturnType<typeof createIntegrationMetrics>;

/** Logs a refusal once per key (bounded memory: forgotten wholesale when full, then logged once more). */
export function createOnceLog(
  logger: Logger,
  max = 10_000,
): (key: string, fields: Record<string, unknown>, message: string) => void {
  const told = new Set<string>();
  return (key, fields, message) => {
    if (told.has(key)) return;
    if (told.size >= max) told.clear();
    told.add(key);
    logger.warn(fields, message);
  };
}
