/**
 * Every route anyone may call without a credential, in one place, with the reason. A route declaring
 * `allow('public')` that is not listed here fails at registration (access-control.ts): opening a route
 * to the world is a change to this file, reviewed as such. Everything else under /api is denied unless
 * its route declares a role.
 */
export interface PublicRoute {
  readonly method: string;
  readonly url: string;
  readonly why: string;
  /** the config switch that opens it; unset: always public */
  readonly onlyWhen?: string;
}

export const PUBLIC_ROUTES: readonly PublicRoute[] = [
  { method: 'GET', url: '/api/health', why: 'load balancers and uptime probes carry no credential' },
  { method: 'POST', url: '/api/session', why: 'signing in is how a browser gets a credential' },
  { method: 'GET', url: '/api/openapi.json', why: 'the API description, the same as the public docs page' },
  { method: 'GET', url: '/api/alerts/cap', why: 'the CAP feed is for the public and for other agencies' },
  { method: 'GET', url: '/api/alerts/:id/cap', why: 'one CAP message of that feed' },
  { method: 'GET', url: '/api/alerts/cap/:id', why: 'the same message at its old address (deprecated alias)' },
  { method: 'GET', url: '/ngsi-ld/v1/entities', why: 'the city publishes its open data', onlyWhen: 'ngsiLd.public' },
  {
    method: 'GET',
    url: '/ngsi-ld/v1/entities/:entityId',
    why: 'one entity of that open data',
    onlyWhen: 'ngsiLd.public',
  },
  {
    method: 'POST',
    url: '/api/provision',
    why: 'a field technician has no account: the one-time code is the credential (rate-limited per address)',
  },
  {
    method: 'GET',
    url: '/api/public/summary',
    why: 'the handling figures the city publishes (public.publish): open data',
  },
  { method: 'GET', url: '/public', why: 'the public page of those figures, for residents, without login' },
  { method: 'GET', url: '/ping', why: 'InfluxDB clients probe it before writing, without credentials' },
];

const listed = new Set(PUBLIC_ROUTES.map((r) => `${r.method} ${r.url}`));

/** HEAD follows GET (Fastify adds it to every GET route). */
export const isListedPublic = (method: string, url: string): boolean =>
  listed.has(`${method === 'HEAD' ? 'GET' : method} ${url}`);
