/**
 * The `CheckoutRepository` contract (`checkout-repository.contract.ts`), run on every repository
 * the service has, so that the fake the unit tests trust cannot drift from the SQL:
 * - the fake (`test/support/fake-checkout-repository.ts`), on every run;
 * - the SQL repository (`lib/db/checkout-repository.ts`) on embedded PGlite, in memory, by
 *   default: `npx vitest run test/contract`;
 * - the same SQL on a PostgreSQL server through the `pg` driver, in a schema of its own, when
 *   TEST_DATABASE_URL names one: `TEST_DATABASE_URL=postgres://… npx vitest run test/contract`.
 *   Only there does a second transaction hold a row, so only there runs the test that
 *   `claimAbandoned` skips locked rows.
 * - the same SQL through the `rds-data` driver (the real SDK client) on the strict Data API
 *   double, backed by a database of its own on the machine's PostgreSQL, on every run.
 * CI runs the whole suite twice (PGlite, then PostgreSQL), so all four are checked.
 */
import { checkoutRepositoryContract } from './checkout-repository.contract.ts';
import { databaseTarget, fakeTarget, rdsDataTarget } from './repository-subjects.ts';

checkoutRepositoryContract(fakeTarget());
checkoutRepositoryContract(databaseTarget());
checkoutRepositoryContract(rdsDataTarget());
