import type { AlertEvent } from '../alert-model.ts';
import type { AlertFeed } from './alert-feed.ts';

/**
 * One node's resume point for the alert stream (`?since=`, docs/alerts-api.md): the newest events announced
 * since this process started, kept in memory, so a console that lost its connection for a moment gets what
 * it missed instead of a new snapshot. Older than what is kept (or before a restart): not complete, and the
 * client gets a snapshot. In a cluster the Redis stream answers instead (cluster/alert-stream-feed.ts).
 */
export function withRecentEvents(feed: AlertFeed, max = 5000): AlertFeed & { stop(): void } {
  const kept: AlertEvent[] = [];
  // every event after `floor` that was announced is in `kept`
  let floor: number | undefined;
  const onEvent = (event: AlertEvent): void => {
    floor ??= event.seq - 1;
    kept.push(event);
    if (kept.length > max) floor = kept.shift()!.seq;
  };
  feed.bus.on('alert', onEvent);
  const newest = () => Math.max(kept.at(-1)?.seq ?? 0, feed.lastSeq ?? 0);
  return {
    bus: feed.bus,
    open: () => feed.open(),
    get lastSeq() {
      return newest();
    },
    async since(seq, count = max) {
      const held = seq >= (floor ?? feed.lastSeq ?? 0) && seq <= newest();
      const events = held ? kept.filter((e) => e.seq > seq) : [];
      const complete = held && events.length <= count;
      return { events: complete ? events : [], complete };
    },
    stop: () => {
      feed.bus.off('alert', onEvent);
    },
  };
}
