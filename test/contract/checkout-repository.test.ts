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
 * CI runs the whole suite twice (PGlite, then PostgreSQL), so all three are checked.
 */
import { checkoutRepositoryContract } from './checkout-repository.contract.ts';
import { databaseTarget, fakeTarget } from './repository-subjects.ts';

checkoutRepositoryContract(fakeTarget());
checkoutRepositoryContract(databaseTarget());
