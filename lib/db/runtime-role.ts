import type { Queryable } from './database.ts';

/** The tables the runtime functions use: all they may touch, and only to read and write. */
const APPLICATION_TABLES = ['checkouts'] as const;
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The runtime database user, as its Secrets Manager secret holds it. */
export interface RuntimeUser {
  username: string;
  password: string;
}

/**
 * Creates the runtime database user, or sets its password, and lets it read, insert and update
 * the application's tables, nothing more: no delete, no DDL, not `schema_migrations`. Its
 * commits are durable whatever the server's or the database's default (`synchronous_commit`
 * is set on the role). Run by `migrate` as the owner on every deploy, inside its transaction (a
 * rotated password is applied the same way). Every statement is built by PostgreSQL's own
 * `format` (`%I` names, `%L` the password), since DDL takes no bind parameters. A migration that
 * adds a table adds it to `APPLICATION_TABLES`.
 */
export async function grantRuntimeUser(db: Queryable, user: RuntimeUser): Promise<void> {
  if (!ROLE_NAME.test(user.username)) {
    throw new Error(
      `the runtime database user must be a plain lower-case name, not ${user.username}`,
    );
  }
  const params = { name: user.username, password: user.password };
  // What the Data API can sign in with on PostgreSQL 14 and later, whatever the cluster's default.
  await db.query("set local password_encryption = 'scram-sha-256'");
  const [role] = await db.query<{ present: boolean }>(
    'select exists (select 1 from pg_roles where rolname = :name) as present',
    params,
  );
  const verb = role?.present ? 'alter' : 'create';
  await runBuilt(
    db,
    `format('${verb} role %I with login password %L', :name::text, :password::text)`,
    params,
  );
  // Every commit of the runtime functions must wait for the WAL flush: a recovery point lost in
  // a database crash rolls the checkout back behind what the services did. Set on the role,
  // which outranks the server's and the database's defaults at every login: the Data API has
  // no session in which to SET it.
  await runBuilt(db, `format('alter role %I set synchronous_commit = on', :name::text)`, params);
  await runBuilt(
    db,
    `format('grant usage on schema %I to %I', current_schema(), :name::text)`,
    params,
  );
  for (const table of APPLICATION_TABLES) {
    await runBuilt(
      db,
      `format('grant select, insert, update on table %I.%I to %I', current_schema(), :table::text, :name::text)`,
      { ...params, table },
    );
  }
}

/** Runs the statement PostgreSQL builds from `expression` (a `format(...)` call). */
async function runBuilt(db: Queryable, expression: string, params: Record<string, string>) {
  const [built] = await db.query<{ statement: string }>(
    `select ${expression} as statement`,
    params,
  );
  if (!built) throw new Error('format() returned no statement');
  await db.query(built.statement);
}
