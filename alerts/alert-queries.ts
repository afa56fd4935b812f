import type { Clock } from '../core/clock.ts';
import type { TimeSeriesStore } from '../store/time-series-store.ts';
import type { Alert } from './alert-model.ts';
import type { AlertFilter } from './alert-service-api.ts';
import { HISTORY_AHEAD_MS, latestSnapshots, readAlertHistory } from './alert-journal.ts';
import type { AlertLifecycle } from './alert-lifecycle.ts';

const DAY = 86_400_000;

/** The cluster's open and lately resolved alerts, as every node's copy of the shared alert stream holds them. */
export interface ClusterAlertView {
  known(id: string): Alert | undefined;
  recentAndOpen(): Iterable<Alert>;
}

/** the later of two copies of one alert; on a tie this node's own (an owner is never behind its own stream) */
const later = (own: Alert | undefined, shared: Alert | undefined): Alert | undefined =>
  !own || (shared && shared.updatedAt > own.updatedAt) ? shared : own;

/**
 * Reading alerts: what is in memory (open and lately resolved) laid over the history in the store, so a
 * list is complete and current, and an alert resolved long ago is still found by id. In a cluster the memory
 * is also the cluster's (`view`: the shared alert stream every node follows), since this node's engine holds
 * only the alerts of the partitions it owns and the store has another node's events only once that node's
 * commit log reached it: any node answers as the alert stream shows.
 */
export class AlertQueries {
  constructor(
    private readonly store: TimeSeriesStore,
    private readonly lifecycle: AlertLifecycle,
    private readonly clock: Clock,
    private readonly windowMs: number,
    private readonly view?: ClusterAlertView,
  ) {}

  async find(id: string): Promise<Alert | undefined> {
    const known = later(this.lifecycle.known(id), this.view?.known(id));
    if (known) return known;
    const now = this.clock.now();
    const history = await readAlertHistory(this.store, now - this.windowMs, now + HISTORY_AHEAD_MS);
    return latestSnapshots(history.events).get(id);
  }

  async list(filter: AlertFilter): Promise<Alert[]> {
    const now = this.clock.now();
    const from = filter.from ?? now - 7 * DAY;
    const to = filter.to ?? now;
    const tags: Record<string, string> = {};
    if (filter.sensorId) tags.sensorId = filter.sensorId;
    if (filter.kind?.length === 1) tags.kind = filter.kind[0]!;
    const history = await readAlertHistory(
      this.store,
      from,
      Math.max(to, now) + HISTORY_AHEAD_MS,
      Object.keys(tags).length ? tags : undefined,
    );
    const all = latestSnapshots(history.events);
    const shared = new Map([...(this.view?.recentAndOpen() ?? [])].map((a) => [a.id, a] as const));
    for (const a of shared.values()) all.set(a.id, a);
    for (const a of this.lifecycle.recentAndOpen()) all.set(a.id, later(a, shared.get(a.id))!);
    const matches = [...all.values()].filter(
      (a) =>
        (!filter.state || filter.state.includes(a.state)) &&
        (!filter.severity || filter.severity.includes(a.severity)) &&
        (!filter.kind || filter.kind.includes(a.kind)) &&
        (!filter.district || filter.district.includes(a.district)) &&
        (!filter.sensorId || filter.sensorId === a.sensorId) &&
        // without an explicit `from`, open alerts count however long ago they last changed
        (a.updatedAt >= from || (filter.from === undefined && a.state !== 'resolved')) &&
        a.startsAt < to + 1,
    );
    matches.sort((a, b) => b.updatedAt - a.updatedAt);
    return matches.slice(0, filter.limit ?? 500);
  }
}
