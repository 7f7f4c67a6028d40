import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { localContext, toApiGatewayEvent } from './api-gateway-event.ts';
import { measureDownstream } from './downstream-timing.ts';
import { inInvocation } from './lambda-runtime.ts';

export type LambdaHttpHandler = (
  event: APIGatewayProxyEvent,
  context: Context,
) => Promise<APIGatewayProxyResult>;

export interface LocalRoute {
  method: string;
  /** The API Gateway resource, e.g. `/checkout/{id}`. */
  resource: string;
  functionName: string;
  handler: LambdaHttpHandler;
}

/** A static answer served by the gateway itself (docs), not by a function; 200 by default. */
export type StaticRoute = (path: string) =>
  | {
      contentType: string;
      body: string | Buffer;
      status?: number;
      headers?: Record<string, string>;
    }
  | undefined;

/**
 * One access-log line per request, with the field names of the deployed stage's access log
 * (infra/constructs/api.ts), plus the path and the checkout the request was about.
 */
export interface AccessLogLine {
  requestId: string;
  requestTime: string;
  httpMethod: string;
  path: string;
  resourcePath?: string;
  status: number;
  /** Milliseconds from the request's arrival to its answer. */
  responseLatency: number;
  checkoutId?: string;
}

/**
 * A route for the local user alone, not part of the API (no OpenAPI entry, no Lambda handler):
 * `POST path` is answered only to a loopback address that sends the token in
 * `LOCAL_TOKEN_HEADER`; anyone else gets the 404 of a route that does not exist.
 */
export interface LocalOnlyRoute {
  path: string;
  token: string;
  /** The request's body; the status and JSON body to answer. */
  handle: (body: string) => Promise<{ status: number; body: unknown }>;
}

/** Where `npm start` serves `npm run checkouts` (its operator route, dev/local/routes.ts). */
export const LOCAL_OPERATOR_PATH = '/_local/operator';
export const LOCAL_TOKEN_HEADER = 'x-local-token';

/** Whether a peer address is this machine's loopback (127.0.0.0/8, ::1, or 127.x mapped in IPv6). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Whether a request from `remoteAddress` with `token` (its header) may use the route. */
export function localOnlyAllowed(
  route: Pick<LocalOnlyRoute, 'token'>,
  remoteAddress: string | undefined,
  token: string | string[] | undefined,
): boolean {
  if (!isLoopback(remoteAddress) || typeof token !== 'string' || route.token.length === 0) {
    return false;
  }
  const given = Buffer.from(token);
  const expected = Buffer.from(route.token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export interface LocalGatewayOptions {
  /** Where the access log goes (none when absent, as in the tests). */
  accessLog?: (line: AccessLogLine) => void;
  /** The one local-only route (`npm start` on the embedded database: the operator's). */
  localOnly?: LocalOnlyRoute;
}

/** API Gateway's own hard limit on a request payload. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

/**
 * A small stand-in for API Gateway (REST, payload v1): matches the route, builds the proxy
 * event, calls the very handler Lambda would call (each call in its own invocation scope, see
 * lambda-runtime.ts) and writes its answer back.
 */
export function createLocalGateway(
  routes: LocalRoute[],
  staticRoute?: StaticRoute,
  { accessLog, localOnly }: LocalGatewayOptions = {},
) {
  const compiled = routes.map((route) => ({
    ...route,
    pattern: new RegExp(`^${route.resource.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}/?$`),
  }));

  let inFlight = 0;
  const server = http.createServer(async (req, res) => {
    inFlight++;
    const arrived = performance.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const logged: Partial<AccessLogLine> = {};
    if (accessLog) {
      res.once('finish', () =>
        accessLog({
          requestId: logged.requestId ?? randomUUID(),
          requestTime: new Date().toISOString(),
          httpMethod: method,
          path: url.pathname,
          resourcePath: logged.resourcePath,
          status: res.statusCode,
          responseLatency: Math.round(performance.now() - arrived),
          checkoutId: logged.checkoutId,
        }),
      );
    }
    try {
      const asset = method === 'GET' ? staticRoute?.(url.pathname) : undefined;
      if (asset) {
        res
          .writeHead(asset.status ?? 200, { ...asset.headers, 'content-type': asset.contentType })
          .end(asset.body);
        return;
      }
      if (localOnly && method === 'POST' && url.pathname === localOnly.path) {
        const allowed = localOnlyAllowed(
          localOnly,
          req.socket.remoteAddress,
          req.headers[LOCAL_TOKEN_HEADER],
        );
        const body = allowed ? await readBody(req) : undefined;
        if (body === undefined) {
          // Refused, or too large: answered as a route that does not exist.
          sendJson(res, 404, { error: 'not_found', message: 'No such route' });
          return;
        }
        const answer = await localOnly.handle(body);
        sendJson(res, answer.status, answer.body);
        return;
      }
      const route = compiled.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (!route) {
        sendJson(res, 404, { error: 'not_found', message: 'No such route' });
        return;
      }
      const body = await readBody(req);
      if (body === undefined) {
        sendJson(res, 413, { error: 'payload_too_large', message: 'Request entity too large' });
        return;
      }
      const match = route.pattern.exec(url.pathname);
      const pathParameters = match?.groups ? decodeAll(match.groups) : null;
      const event = toApiGatewayEvent(
        {
          method,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: body.length > 0 || method !== 'GET' ? body : null,
          sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        },
        route.resource,
        pathParameters,
      );
      logged.requestId = event.requestContext.requestId;
      logged.resourcePath = route.resource;
      const context = localContext(route.functionName);
      const started = performance.now();
      const { result, downstreamMs } = await measureDownstream(() =>
        inInvocation(context, () => route.handler(event, context)),
      );
      const handlerMs = performance.now() - started;
      if (accessLog) logged.checkoutId = pathParameters?.id ?? checkoutIdOf(result);
      res
        .writeHead(result.statusCode, {
          ...flattenHeaders(result),
          // Local only (API Gateway does not add it): lets `npm run bench` subtract the
          // downstream services' time from the end-to-end latency.
          'server-timing': `handler;dur=${handlerMs.toFixed(3)}, downstream;dur=${downstreamMs.toFixed(3)}`,
        })
        .end(result.body);
    } catch {
      // What API Gateway answers when the integration itself fails.
      sendJson(res, 502, { message: 'Internal server error' });
    } finally {
      inFlight--;
    }
  });
  /** Requests whose handler is still running (a client that hung up does not stop it). */
  return Object.assign(server, { inFlight: () => inFlight });
}

/** Starts listening and resolves with the bound address (port 0 picks a free port). */
export async function listen(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

/** The `checkout_id` of a JSON answer, if it has one. */
function checkoutIdOf(result: APIGatewayProxyResult): string | undefined {
  if (!result.body.startsWith('{')) return undefined;
  try {
    const id = (JSON.parse(result.body) as { checkout_id?: unknown }).checkout_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function decodeAll(groups: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, decodeURIComponent(v)]));
}

function flattenHeaders(result: APIGatewayProxyResult): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) {
    headers[name] = values.map(String);
  }
  return headers;
}

/**
 * The request body, or `undefined` when it exceeds API Gateway's limit. An oversized body is
 * still read to its end (and dropped) so the 413 reaches a client that is still sending.
 */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= GATEWAY_MAX_BODY) chunks.push(chunk as Buffer);
  }
  return size > GATEWAY_MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8');
}
