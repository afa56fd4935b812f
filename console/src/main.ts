import './styles.css';
import { ApiError, createApiClient } from './api-client.ts';
import type { SessionInfo } from './api-types.ts';
import type { ConsoleApp } from './app.ts';
import { h } from './dom.ts';
import { createI18n } from './i18n.ts';
import { checkSession, renderLogin, signOut, storedToken, storeToken } from './login-view.ts';

const i18n = createI18n();
/**
 * The map, charts and alert list (Leaflet, uPlot: most of the script) load as a separate chunk, so the
 * sign-in screen paints after a few kilobytes; the chunk is fetched while the operator types the token.
 */
let consoleModule: Promise<typeof import('./app.ts')> | undefined;
const loadConsole = () => (consoleModule ??= import('./app.ts'));
const root = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
let app: ConsoleApp | undefined;
let generation = 0;

function showLogin(message?: string): void {
  generation++;
  app?.dispose();
  app = undefined;
  storeToken(undefined);
  renderLogin(root, { i18n, message, onLogin: (token, session) => void start(token, session) });
}

async function start(token: string, session: SessionInfo): Promise<void> {
  const mine = ++generation;
  storeToken(token);
  const api = createApiClient(token, () => {
    if (generation === mine) showLogin(i18n.t('login.expired'));
  });
  try {
    const { startConsole } = await loadConsole();
    const started = await startConsole(root, {
      api,
      i18n,
      session,
      onLogout: () => {
        void signOut();
        showLogin();
      },
    });
    if (generation !== mine) started.dispose();
    else app = started;
  } catch (err) {
    if (generation !== mine) return;
    if (err instanceof ApiError && err.status === 401) return; // showLogin already ran
    root.replaceChildren(
      h('p', { class: 'app-error', role: 'alert' }, i18n.t('app.loadError', { message: (err as Error).message })),
    );
  }
}

// A stored token, or else the session cookie (token ''): a reload keeps the person signed in until the
// session ends; without either, GET /api/session answers 401 and the sign-in screen shows.
const token = storedToken() ?? '';
void loadConsole().catch(() => undefined);
checkSession(token).then(
  (session) => start(token, session),
  (err: unknown) => {
    if (err instanceof ApiError && err.status === 401) showLogin(token ? i18n.t('login.expired') : undefined);
    else showLogin(i18n.t('login.network', { message: (err as Error).message }));
  },
);
