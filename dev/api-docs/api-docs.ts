import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { StaticRoute } from '#dev/local/local-gateway.ts';
import { openApiDocument } from './openapi.ts';

const SWAGGER_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css',
  'swagger-ui-bundle.js': 'text/javascript',
};

const page = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>checkout-commerce API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  displayRequestDuration: true,
});</script>
</body></html>`;

const redirect = { contentType: 'text/plain', body: 'See /docs' };

/**
 * Serves `/openapi.json` (generated from the zod schemas) and Swagger UI at `/docs`, where `/`
 * leads. The document names no server, so Swagger UI calls the host it was loaded from;
 * `deepLinking` gives every operation a link (`/docs#/Checkout/processCheckout`).
 */
export function apiDocs(): StaticRoute {
  const swaggerDir = path.dirname(
    createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'),
  );
  const document = JSON.stringify(openApiDocument());
  return (pathname) => {
    if (pathname === '/') return { status: 302, headers: { location: '/docs' }, ...redirect };
    if (pathname === '/openapi.json') return { contentType: 'application/json', body: document };
    if (pathname === '/docs' || pathname === '/docs/')
      return { contentType: 'text/html', body: page };
    const asset = pathname.startsWith('/docs/') ? pathname.slice('/docs/'.length) : '';
    const contentType = SWAGGER_ASSETS[asset];
    if (!contentType) return undefined;
    return { contentType, body: readFileSync(path.join(swaggerDir, asset)) };
  };
}
