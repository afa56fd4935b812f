import { ApiError, createApiClient } from './api-client.ts';
import type { Role, SessionInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import { createLanguageSwitch } from './language-switch.ts';

const TOKEN_KEY = 'ioc.console.token';

/** sessionStorage: the token dies with the tab, so a shared desk PC does not stay signed in. */
export function storedToken(): string | undefined {
  try { return sessionStorage.getItem(TOKEN_KEY) ?? undefined; } catch { return undefined; }
}
export function storeToken(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: the operator signs in again after a reload */ }
}

/**
 * Asks the platform who this token is. `/api/console/session` is served by the console plugin; the
 * fallback only proves the token is valid (any authenticated read) and assumes the operator role.
 */
export async function checkSession(token: string): Promise<SessionInfo> {
  const api = createApiClient(token, () => undefined);
  try {
    return await api.get<SessionInfo>('/api/console/session');
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  await api.get<unknown>('/api/city');
  return { role: 'operator' satisfies Role };
}

export function renderLogin(root: HTMLElement, deps: { i18n: I18n; message?: string; onLogin(token: string, session: SessionInfo): void }): void {
  const { i18n } = deps;
  const input = h('input', { id: 'login-token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'login-error', role: 'alert' }, deps.message ?? '');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-i18n': 'login.submit' }, i18n.t('login.submit'));
  const form = h('form', { class: 'login-card', 'aria-labelledby': 'login-heading' },
    h('p', { class: 'login-brand', 'data-i18n': 'app.title' }, i18n.t('app.title')),
    h('h1', { id: 'login-heading', 'data-i18n': 'login.heading' }, i18n.t('login.heading')),
    h('p', { 'data-i18n': 'login.intro' }, i18n.t('login.intro')),
    h('label', { for: 'login-token', 'data-i18n': 'login.token' }, i18n.t('login.token')),
    input, error, submit);
  const page = h('main', { class: 'login-page' }, h('div', { class: 'login-lang' }, createLanguageSwitch(i18n)), form);
  root.replaceChildren(page);
  document.title = i18n.t('app.title');
  input.focus();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) return setText(error, i18n.t('login.required'));
    submit.disabled = true;
    setText(submit, i18n.t('login.checking'));
    checkSession(token).then(
      (session) => deps.onLogin(token, session),
      (err: unknown) => {
        submit.disabled = false;
        setText(submit, i18n.t('login.submit'));
        const unauthorized = err instanceof ApiError && (err.status === 401 || err.status === 403);
        setText(error, unauthorized ? i18n.t('login.invalid') : i18n.t('login.network', { message: (err as Error).message }));
        input.select();
      },
    );
  });
}
