import type { Database } from './database.ts';
import { migrations as allMigrations, type Migration } from './migrations/index.ts';
import { grantRuntimeUser, type RuntimeUser } from './runtime-role.ts';

/** Arbitrary constant: serialises concurrent migrators (cold starts, test files, deploys). */
const MIGRATION_LOCK = 72_657_001;

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in one transaction under a
 * transaction-scoped advisory lock, so two migrators never race and a failed migration leaves
 * nothing half-applied (PostgreSQL DDL is transactional). With `runtimeUser`, the runtime
 * functions' own database user is (re)granted in the same transaction, after the tables exist.
 * Returns the versions applied.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = allMigrations,
  options: { runtimeUser?: RuntimeUser } = {},
): Promise<string[]> {
  return db.transaction(async (tx) => {
    // The lock function returns `void`, a type the Data API refuses to return
    // (UnsupportedResultException): the statement returns it as text instead.
    await tx.query('select pg_advisory_xact_lock(:lock)::text as locked', { lock: MIGRATION_LOCK });
    await tx.query(`create table if not exists schema_migrations (
      version text primary key,
      applied_at timestamptz not null default now()
    )`);
    const rows = await tx.query<{ version: string }>('select version from schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('insert into schema_migrations (version) values (:version)', {
        version: migration.version,
      });
      applied.push(migration.version);
    }
    if (options.runtimeUser) await grantRuntimeUser(tx, options.runtimeUser);
    return applied;
  });
}
