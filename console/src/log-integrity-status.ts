import type { ApiClient } from './api-client.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import { startPoller } from './poller.ts';

/**
 * The console's system status line for faults the operator cannot see in the data: commit-log damage and
 * readings the store refused (set aside in the quarantine folder). Read from /api/health, which the
 * platform keeps `degraded` with the reason until the next start.
 */
const EVERY_MS = 30_000;

interface HealthIntegrity {
  integrity?: { state: 'ok' | 'damaged'; damagedRegions: number; quarantinedRecords: number; quarantineDir: string };
}

export function createLogIntegrityStatus(api: ApiClient, i18n: I18n): { element: HTMLElement; stop: () => void } {
  const element = h('div', { class: 'banner banner-warn', role: 'status', hidden: true });
  const stop = startPoller(
    EVERY_MS,
    async (signal) => {
      const { integrity } = await api.get<HealthIntegrity>('/api/health', signal);
      element.hidden = !integrity || integrity.state === 'ok';
      if (integrity && integrity.state !== 'ok') {
        setText(
          element,
          i18n.t('system.logDamaged', {
            regions: integrity.damagedRegions,
            records: integrity.quarantinedRecords,
            dir: integrity.quarantineDir,
          }),
        );
      }
    },
    () => undefined,
  ); // an unreachable server already shows in the connection banner
  return { element, stop };
}
