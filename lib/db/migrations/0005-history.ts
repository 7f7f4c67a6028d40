/**
 * What the people who run the service need to see of a checkout: `history`, its transitions
 * (`{from, to, cause, at, by}`, oldest first), appended by the same statement as each write so a
 * checkout costs no extra statement; `worker`, who holds it now (`request:…`, `recovery:…`,
 * `operator:…`), named in each entry. Rows from before start with an empty history. Both columns
 * are added without rewriting the table (a constant default is stored once, in the catalog).
 * `checkouts_attention` lets an operator list what needs a person, oldest first, without reading
 * every finished checkout; like `checkouts_unfinished`, it holds only the few rows it is for, so
 * a completed checkout's writes never touch it.
 */
export const statements = [
  `alter table checkouts add column history jsonb not null default '[]'::jsonb`,
  'alter table checkouts add column worker text',
  `create index checkouts_attention on checkouts (created_at) where status = 'requires_attention'`,
];
