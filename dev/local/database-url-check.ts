import pg from 'pg';
import { normalizePostgresUrl } from '#lib/db/drivers/postgres.ts';

/**
 * Why `npm start` cannot use DATABASE_URL, if it cannot: checked before anything starts, so a
 * typo or a stopped server is named at once rather than answered as the API's 503 ("temporarily
 * unavailable") on the first request. The message names the variable and the host, never the
 * password (nor the URL, which holds it).
 */
export async function databaseUrlProblem(
  url: string,
  timeoutMs = 3_000,
): Promise<string | undefined> {
  const connectionString = normalizePostgresUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(connectionString);
  } catch {
    return 'DATABASE_URL is not a valid URL (its value is not shown: it may hold a password); expected postgres://user:password@host:5432/database';
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `DATABASE_URL must be a postgres:// or postgresql:// URL, not ${parsed.protocol}//...`;
  }
  // A socket directory may come as `?host=/var/run/postgresql` with no host in the authority.
  const host = `${parsed.hostname || parsed.searchParams.get('host') || 'localhost'}:${parsed.port || 5432}`;
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (error) {
    const secrets = [parsed.password, decodeURIComponent(parsed.password)].filter(Boolean);
    let text = `DATABASE_URL: cannot use the database at ${host}: ${reason(error, timeoutMs)}`;
    for (const secret of secrets) text = text.replaceAll(secret, '***');
    return text;
  } finally {
    await client.end().catch(() => {});
  }
}

function reason(error: unknown, timeoutMs: number): string {
  const { code, message = String(error) } = error as { code?: string; message?: string };
  if (code === 'ECONNREFUSED') return 'connection refused (is PostgreSQL running there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'the host name does not resolve';
  if (/timeout/i.test(message)) return `no answer within ${timeoutMs / 1000} s`;
  return message;
}
