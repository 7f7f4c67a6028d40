import { ConfigError } from '#lib/config.ts';
import type { ServiceName } from './wiremock-process.ts';

/**
 * Where the local tools find the three services: the one place that turns WIREMOCK_BASE_PORT
 * into ports and URLs, so that `npm start` (which runs the WireMocks there), `npm run invoke`
 * and `npm run checkouts` (which call them) move together when it changes.
 */

/** The seed's first port: payment on 8081, inventory on 8082, order on 8083. */
export const DEFAULT_WIREMOCK_BASE_PORT = 8081;

/** Each service's URL variable; when it is set, no WireMock is needed for that service. */
export const URL_VARIABLES: Readonly<Record<ServiceName, string>> = {
  payment: 'PAYMENT_SERVICE_URL',
  inventory: 'INVENTORY_SERVICE_URL',
  order: 'ORDER_SERVICE_URL',
};

/** The URL of a local WireMock on `port` (they listen on the loopback address only). */
export const wireMockUrl = (port: number): string => `http://127.0.0.1:${port}`;

/** The WireMocks' ports from the first: it and the next two (0: a free port each). */
export function wireMockPortsFrom(base: number): Record<ServiceName, number> {
  return { payment: base, inventory: base && base + 1, order: base && base + 2 };
}

/**
 * WIREMOCK_BASE_PORT (8081 when unset); a bad value is added to `problems` (the caller says them
 * all at once) and NaN returned.
 */
export function readWireMockBasePort(env: NodeJS.ProcessEnv, problems: string[]): number {
  const value = env.WIREMOCK_BASE_PORT;
  if (value === undefined) return DEFAULT_WIREMOCK_BASE_PORT;
  const number = Number(value);
  if (value.trim() === '' || !Number.isInteger(number) || number < 0 || number > 65_533) {
    problems.push(
      `WIREMOCK_BASE_PORT: expected a whole number from 0 to 65533, got ${JSON.stringify(value)}`,
    );
    return Number.NaN;
  }
  return number;
}

/**
 * The services' URLs for a tool that calls the WireMocks of a running `npm start`: each
 * `*_SERVICE_URL` that is set, else the WireMock on WIREMOCK_BASE_PORT (default 8081) and the
 * next two. A `ConfigError` when a URL is needed and WIREMOCK_BASE_PORT is bad, or 0 (free
 * ports that only that `npm start` knows: it prints them).
 */
export function localServiceUrls(env: NodeJS.ProcessEnv): Record<ServiceName, string> {
  const services = Object.keys(URL_VARIABLES) as ServiceName[];
  const missing = services.filter((service) => !env[URL_VARIABLES[service]]);
  const urls = Object.fromEntries(
    services.map((service) => [service, env[URL_VARIABLES[service]] ?? '']),
  ) as Record<ServiceName, string>;
  if (missing.length === 0) return urls;
  const problems: string[] = [];
  const base = readWireMockBasePort(env, problems);
  if (problems.length > 0) throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  if (base === 0) {
    throw new ConfigError(
      'WIREMOCK_BASE_PORT=0: `npm start` took free ports for its WireMocks, which only it knows; ' +
        `set ${missing.map((service) => URL_VARIABLES[service]).join(', ')} to the URLs it printed`,
    );
  }
  const ports = wireMockPortsFrom(base);
  for (const service of missing) urls[service] = wireMockUrl(ports[service]);
  return urls;
}

/** `env` with each missing `*_SERVICE_URL` set as `localServiceUrls` says (a new object). */
export function withLocalServiceUrls(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const urls = localServiceUrls(env);
  const result = { ...env };
  for (const [service, variable] of Object.entries(URL_VARIABLES)) {
    result[variable] = urls[service as ServiceName];
  }
  return result;
}
