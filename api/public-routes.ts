/**
 * Every route the access-control hook lets through without checking a credential, in one place, each with
 * its reason: the public routes (`allow('public')`, anyone may call them) and the routes that check
 * credentials in their own handler (`allow('self')`). A route declaring either that is not listed here
 * fails at registration (access-control.ts): opening a route, or taking its guard into its own hands, is a
 * change to this file, reviewed as such. Everything else under /api is denied unless its route declares a
 * role.
 */
export interface ListedRoute {
  readonly method: string;
  readonly url: string;
  readonly why: string;
}

export interface PublicRoute extends ListedRoute {
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

/**
 * Routes that authenticate in their handler: the guard cannot, because their clients send credentials in
 * forms only these routes accept. Each handler must refuse (401) a request without valid ones; the
 * default-deny test calls each anonymously to prove it.
 */
export const SELF_AUTHENTICATED_ROUTES: readonly ListedRoute[] = [
  {
    method: 'POST',
    url: '/write',
    why: 'InfluxDB 1.x clients send u/p query parameters or HTTP Basic (api/line-protocol-routes.ts)',
  },
  {
    method: 'POST',
    url: '/api/v2/write',
    why: 'InfluxDB 2.x clients send Authorization: Token <sensorId>:<secret> (api/line-protocol-routes.ts)',
  },
];

function listedIn(routes: readonly ListedRoute[]): (method: string, url: string) => boolean {
  const listed = new Set(routes.map((r) => `${r.method} ${r.url}`));
  // HEAD follows GET (Fastify adds it to every GET route)
  return (method, url) => listed.has(`${method === 'HEAD' ? 'GET' : method} ${url}`);
}

export const isListedPublic = listedIn(PUBLIC_ROUTES);
export const isListedSelfAuthenticated = listedIn(SELF_AUTHENTICATED_ROUTES);
