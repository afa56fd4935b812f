import type { Clock } from '../../core/clock.ts';
import type { Operations } from '../../config/operations-config.ts';
import type { Alert } from '../alert-model.ts';
import { createWebhookConnector, WebhookRefusedError } from '../delivery/webhook-connect.ts';
import { signWebhookBody } from '../delivery/webhook-target.ts';
import type { SilenceStore } from '../workflow/silence-store.ts';
import { buildHandoverReport, type HandoverReport } from './handover-report.ts';
import { scheduleShiftChanges, type ShiftSchedule } from './handover-schedule.ts';

/**
 * Makes handover reports on demand and at every shift change (cron in config, city time, injected clock),
 * keeps the last few for the console, and posts each scheduled one to the configured webhook: signed and
 * through the alert webhooks' connector, so the same SSRF policy refuses private and metadata addresses.
 * One attempt per report: the next shift's report says it all again; a failure is logged once.
 */
export interface HandoverDeps {
  readonly alerts: {
    list(f: { from: number; to: number; limit: number }): Promise<Alert[]>;
    open(): Alert[];
    rules: { get(id: string): { type: string } | undefined };
  };
  readonly silences: Pick<SilenceStore, 'list' | 'isActive' | 'windowEnd'>;
  readonly offline: () => Array<{ sensorId: string; since?: number }>;
  readonly ops: Operations;
  readonly clock: Clock;
  readonly schedule?: string;
  readonly webhook?: { url: string; secret: string; allowPrivate: boolean };
  readonly logger: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  readonly count?: (what: 'generated' | 'posted' | 'post_failed') => void;
}

export interface HandoverService {
  build(from: number, to: number): Promise<HandoverReport>;
  /** the reports the schedule made, newest first (at most KEEP) */
  recent(): readonly HandoverReport[];
  start(): void;
  stop(): void;
  nextAt(): number | undefined;
  /** resolves when the reports started so far are made and posted (tests) */
  idle(): Promise<void>;
}

export const KEEP = 12;
const USER_AGENT = 'ioc-platform-reports/1';
const MAX_ALERTS = 20_000;

export function createHandoverService(deps: HandoverDeps): HandoverService {
  const { alerts, clock, logger } = deps;
  const kept: HandoverReport[] = [];
  let schedule: ShiftSchedule | undefined;
  let tail: Promise<void> = Promise.resolve();
  const connector = deps.webhook ? createWebhookConnector(deps.webhook.allowPrivate) : undefined;

  const build = async (from: number, to: number): Promise<HandoverReport> => {
    const now = clock.now();
    const silences = deps.silences
      .list()
      .filter((s) => deps.silences.isActive(s.id, now))
      .map((s) => {
        const until = deps.silences.windowEnd(s.id, now);
        return {
          id: s.id,
          reason: s.reason,
          match: s.match,
          maintenance: s.maintenance,
          ...(until !== undefined ? { until } : {}),
        };
      });
    return buildHandoverReport({
      from,
      to,
      now,
      alerts: await alerts.list({ from, to, limit: MAX_ALERTS }),
      open: alerts.open(),
      silences,
      offline: deps.offline(),
      ops: deps.ops,
      ruleTypeOf: (id) => alerts.rules.get(id)?.type,
    });
  };

  const post = async (report: HandoverReport): Promise<void> => {
    const hook = deps.webhook;
    if (!hook || !connector) return;
    const body = JSON.stringify({ type: 'handoverReport', report });
    const abort = new AbortController();
    const timer = clock.setTimeout(() => abort.abort(), 10_000);
    try {
      const res = await connector.post(hook.url, {
        body,
        signal: abort.signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': USER_AGENT,
          'x-ioc-event': 'handoverReport',
          'x-ioc-timestamp': String(clock.now()),
          'x-ioc-signature': signWebhookBody(hook.secret, body),
        },
      });
      if (res.status < 200 || res.status >= 300) throw new Error(`HTTP ${res.status}`);
      deps.count?.('posted');
    } catch (err) {
      deps.count?.('post_failed');
      const reason =
        err instanceof WebhookRefusedError
          ? `refused: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err);
      logger.warn({ reason }, 'handover report not delivered to its webhook');
    } finally {
      timer.cancel();
    }
  };

  const onShift = (shift: { from: number; to: number }): void => {
    tail = tail
      .then(async () => {
        const report = await build(shift.from, shift.to);
        kept.unshift(report);
        if (kept.length > KEEP) kept.pop();
        deps.count?.('generated');
        logger.info({ from: shift.from, to: shift.to, open: report.stillOpen.length }, 'shift handover report made');
        await post(report);
      })
      .catch((err: unknown) =>
        logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'shift handover report failed'),
      );
  };

  return {
    build,
    recent: () => kept,
    start() {
      if (deps.schedule && !schedule) schedule = scheduleShiftChanges(deps.schedule, deps.ops.timezone, clock, onShift);
    },
    stop() {
      schedule?.stop();
      schedule = undefined;
      connector?.close();
    },
    nextAt: () => schedule?.nextAt(),
    idle: () => tail,
  };
}
