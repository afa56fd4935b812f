import { ApiError, createApiClient } from './api-client.ts';
import type { SessionInfo } from './api-types.ts';
import { h, setText } from './dom.ts';
import type { I18n } from './i18n.ts';
import { createLanguageSwitch } from './language-switch.ts';

const TOKEN_KEY = 'ioc.console.token';

/**
 * People sign in with their account's username and password (POST /api/session): the platform answers
 * with an httpOnly cookie that this script never sees. An API token still works for a wall screen or a
 * kiosk, kept in sessionStorage (it dies with the tab, so a shared desk PC does not stay signed in).
 */
export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}
export function storeToken(token: string | undefined): void {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the operator signs in again after a reload */
  }
}

/** Asks the platform who this credential is (a token, or the session cookie when `token` is empty). */
export async function checkSession(token: string): Promise<SessionInfo> {
  const api = createApiClient(token, () => undefined);
  const me = await api.get<{ name: string; role: SessionInfo['role'] }>('/api/session');
  return { role: me.role, username: me.name };
}

/** Ends the cookie session on the server (a token is simply forgotten). */
export async function signOut(): Promise<void> {
  await fetch('/api/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
}

async function signIn(username: string, password: string): Promise<SessionInfo> {
  const res = await fetch('/api/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json().catch(() => ({}))) as {
    name?: string;
    role?: SessionInfo['role'];
    code?: string;
    message?: string;
  };
  if (!res.ok)
    throw new ApiError(
      res.status,
      body.code ?? `http_${res.status}`,
      res.headers.get('retry-after') ?? body.message ?? res.statusText,
    );
  return { role: body.role!, username: body.name };
}

export function renderLogin(
  root: HTMLElement,
  deps: { i18n: I18n; message?: string; onLogin(token: string, session: SessionInfo): void },
): void {
  const { i18n } = deps;
  const username = h('input', {
    id: 'login-username',
    name: 'username',
    type: 'text',
    autocomplete: 'username',
    spellcheck: 'false',
  });
  const password = h('input', {
    id: 'login-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
  });
  const input = h('input', {
    id: 'login-token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const error = h('p', { class: 'login-error', role: 'alert' }, deps.message ?? '');
  const submit = h(
    'button',
    { type: 'submit', class: 'btn btn-primary', 'data-i18n': 'login.submit' },
    i18n.t('login.submit'),
  );
  const form = h(
    'form',
    { class: 'login-card', 'aria-labelledby': 'login-heading' },
    h('p', { class: 'login-brand', 'data-i18n': 'app.title' }, i18n.t('app.title')),
    h('h1', { id: 'login-heading', 'data-i18n': 'login.heading' }, i18n.t('login.heading')),
    h('p', { 'data-i18n': 'login.intro' }, i18n.t('login.intro')),
    h('label', { for: 'login-username', 'data-i18n': 'login.username' }, i18n.t('login.username')),
    username,
    h('label', { for: 'login-password', 'data-i18n': 'login.password' }, i18n.t('login.password')),
    password,
    h('p', { class: 'login-or', 'data-i18n': 'login.or' }, i18n.t('login.or')),
    h('label', { for: 'login-token', 'data-i18n': 'login.token' }, i18n.t('login.token')),
    input,
    error,
    submit,
  );
  const page = h('main', { class: 'login-page' }, h('div', { class: 'login-lang' }, createLanguageSwitch(i18n)), form);
  root.replaceChildren(page);
  document.title = i18n.t('app.title');
  username.focus();

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    const withPassword = username.value.trim() !== '' || password.value !== '';
    if (!token && !(username.value.trim() && password.value)) return setText(error, i18n.t('login.required'));
    submit.disabled = true;
    setText(submit, i18n.t('login.checking'));
    const attempt = withPassword
      ? signIn(username.value.trim(), password.value).then((session) => ({ token: '', session }))
      : checkSession(token).then((session) => ({ token, session }));
    attempt.then(
      ({ token: kept, session }) => deps.onLogin(kept, session),
      (err: unknown) => {
        submit.disabled = false;
        setText(submit, i18n.t('login.submit'));
        const status = err instanceof ApiError ? err.status : 0;
        const text =
          status === 429
            ? i18n.t('login.tooMany', { seconds: (err as ApiError).message })
            : status === 401 || status === 403
              ? i18n.t(withPassword ? 'login.badPassword' : 'login.invalid')
              : i18n.t('login.network', { message: (err as Error).message });
        setText(error, text);
        (withPassword ? password : input).select();
      },
    );
  });
}
