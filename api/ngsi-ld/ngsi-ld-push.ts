import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Clock, TimerHandle } from '../../core/clock.ts';
import type { NgsiLdConfig } from '../../config/ngsi-ld-config.ts';
import { CONTEXT } from './ngsi-ld-context.ts';
import type { Entity } from './ngsi-ld-entities.ts';
import type { NgsiLdSource } from './ngsi-ld-source.ts';

/**
 * Keeps an external context broker up to date: every `intervalSeconds` (on the platform's clock) the
 * entities that changed since they were last accepted are sent by batch upsert (ETSI GS CIM 009 5.6.8,
 * POST /ngsi-ld/v1/entityOperations/upsert). An entity the broker did not accept (an error, a timeout,
 * an entry in a 207's errors) stays changed and goes again next time; a failing broker is logged once
 * per outage, not once per tick. Entities of deleted sensors are not deleted upstream.
 */
export interface NgsiLdPush {
  /** one round now (tests, shutdown); resolves when it is done */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface NgsiLdPushDeps {
  source: NgsiLdSource;
  config: NonNullable<NgsiLdConfig['push']>;
  clock: Clock;
  logger: Logger;
  registry?: Registry;
}

interface BatchResult {
  success?: unknown;
  errors?: Array<{ entityId?: unknown; error?: { title?: unknown; detail?: unknown } }>;
}

export function startNgsiLdPush(deps: NgsiLdPushDeps): NgsiLdPush {
  const { config, logger } = deps;
  const endpoint = `${config.url.replace(/\/+$/, '')}/ngsi-ld/v1/entityOperations/upsert`;
  const registers = deps.registry ? [deps.registry] : [];
  const sentCount = new Counter({
    name: 'ioc_ngsild_push_entities_total',
    help: 'Entities the context broker accepted',
    registers,
  });
  const failed = new Counter({
    name: 'ioc_ngsild_push_failures_total',
    help: 'Upsert requests or entities the context broker refused or did not answer',
    labelNames: ['reason'],
    registers,
  });
  /** what the broker holds, as last accepted: id -> JSON */
  const accepted = new Map<string, string>();
  let failing = false;
  let running: Promise<void> | undefined;
  let stopped = false;

  const noteFailure = (reason: string, detail: Record<string, unknown>) => {
    failed.inc({ reason });
    if (!failing)
      logger.warn(
        { endpoint, reason, ...detail },
        'NGSI-LD push: the context broker did not take the entities; they are sent again next round',
      );
    failing = true;
  };

  const send = async (batch: Array<{ entity: Entity; json: string }>): Promise<void> => {
    let res: Response;
    try {
      res = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/ld+json',
          ...(config.tenant ? { 'NGSILD-Tenant': config.tenant } : {}),
        },
        body: `[${batch.map((b) => b.json).join(',')}]`,
        signal: AbortSignal.timeout(config.timeoutSeconds * 1000),
      });
    } catch (err) {
      return noteFailure('unreachable', { err: (err as Error).message });
    }
    const text = await res.text().catch(() => '');
    let ok: Set<string>;
    if (res.status === 201 || res.status === 204 || res.status === 200) {
      ok = new Set(batch.map((b) => b.entity.id));
    } else if (res.status === 207) {
      // multi-status: the BatchOperationResult says which went in
      let result: BatchResult = {};
      try {
        result = JSON.parse(text) as BatchResult;
      } catch {
        /* an unreadable 207: nothing counts as accepted */
      }
      const refused = new Set((result.errors ?? []).map((e) => String(e.entityId)));
      ok = new Set(batch.map((b) => b.entity.id).filter((id) => !refused.has(id)));
      if (refused.size > 0)
        noteFailure('entity_refused', {
          refused: [...refused].slice(0, 5),
          detail: String(result.errors?.[0]?.error?.detail ?? result.errors?.[0]?.error?.title ?? '').slice(0, 200),
        });
    } else {
      return noteFailure(`http_${res.status}`, { status: res.status, body: text.slice(0, 200) });
    }
    for (const b of batch) if (ok.has(b.entity.id)) accepted.set(b.entity.id, b.json);
    sentCount.inc(ok.size);
    if (ok.size === batch.length && failing) {
      failing = false;
      logger.info({ endpoint }, 'NGSI-LD push: the context broker takes entities again');
    }
  };

  const round = async (): Promise<void> => {
    const changed: Array<{ entity: Entity; json: string }> = [];
    for (const entity of deps.source.entities()) {
      const json = JSON.stringify({ ...entity, '@context': CONTEXT });
      if (accepted.get(entity.id) !== json) changed.push({ entity, json });
    }
    for (let i = 0; i < changed.length && !stopped; i += config.batchSize)
      await send(changed.slice(i, i + config.batchSize));
  };

  const flush = (): Promise<void> => {
    // one round at a time: a slow broker must not pile up requests
    running ??= round()
      .catch((err: Error) => logger.error({ err }, 'NGSI-LD push round failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer: TimerHandle = deps.clock.setInterval(() => {
    void flush();
  }, config.intervalSeconds * 1000);
  return {
    flush,
    async stop() {
      stopped = true;
      timer.cancel();
      await running;
    },
  };
}
