import { h, setText } from './dom.ts';
import type { Formatter } from './format.ts';
import type { I18n } from './i18n.ts';

/**
 * The platform's own condition, in one line under the header while something is wrong: the disk cannot
 * be written (nothing new is accepted) or its free space is below the low watermark. Read from the public
 * /api/health, whose body says why even when it answers 503; hidden while all is well.
 */
export interface HealthStorage {
  readonly writable: boolean;
  readonly since?: string;
  readonly freeBytes?: number;
  readonly low: boolean;
}

export interface SystemStatus {
  readonly element: HTMLElement;
  /** shows the line for this health body (or hides it) */
  show(storage: HealthStorage | undefined): void;
  /** one poll of /api/health */
  refresh(signal: AbortSignal): Promise<void>;
  relabel(): void;
}

export function createSystemStatus(deps: { i18n: I18n; fmt: Formatter }): SystemStatus {
  const { i18n, fmt } = deps;
  const element = h('div', {
    class: 'banner',
    role: 'status',
    'data-i18n-attr': 'aria-label:system.label',
    'aria-label': i18n.t('system.label'),
    hidden: true,
  });
  let last: HealthStorage | undefined;

  const render = () => {
    const s = last;
    if (s && !s.writable) {
      element.className = 'banner';
      setText(element, i18n.t('system.storageDown', { since: s.since ? fmt.dateTime(Date.parse(s.since)) : '–' }));
    } else if (s?.low) {
      element.className = 'banner banner-warn';
      setText(element, i18n.t('system.diskLow', { free: formatFree(s.freeBytes ?? 0, fmt) }));
    }
    element.hidden = !s || (s.writable && !s.low);
  };

  return {
    element,
    show(storage) {
      last = storage;
      render();
    },
    async refresh(signal) {
      const res = await fetch('/api/health', { signal, credentials: 'same-origin' });
      const body = (await res.json()) as { storage?: HealthStorage };
      this.show(body.storage);
    },
    relabel: render,
  };
}

function formatFree(bytes: number, fmt: Formatter): string {
  if (bytes >= 1024 ** 3) return `${fmt.number(bytes / 1024 ** 3, 1)} GiB`;
  return `${fmt.number(bytes / 1024 ** 2, 0)} MiB`;
}
