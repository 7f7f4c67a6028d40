/**
 * Recovery's real tries to settle a checkout's open step, apart from `attempts` (the fencing
 * token, bumped by every claim): a checkout claimed in a backlog but never tried must not use up
 * its tries.
 */
export const statements = [
  'alter table checkouts add column settle_tries integer not null default 0',
];
