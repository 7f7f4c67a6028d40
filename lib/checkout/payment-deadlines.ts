/**
 * The dates of a Pix and a boleto (design §4a), on São Paulo's calendar: a boleto falls due on a
 * business day, and expires at the end of a São Paulo day. No I/O: `now` is given.
 *
 * Written by hand rather than with a holiday library: the calendar is a dozen dates and Easter,
 * and a library with every country's holidays would be loaded on every Lambda cold start for
 * them. What it does not know: holidays decreed for one year only (a national mourning day, a
 * "ponto facultativo" that closes banks), and any other city's holidays. A due date that lands
 * on one is still paid without a fine on the next business day, as every boleto is; the grace
 * days after it cover the difference.
 */

const ZONE = 'America/Sao_Paulo';
const DAY_MS = 86_400_000;

/** The Pix's `expires_at`: `minutes` after `now` (ISO 8601, UTC). */
export function pixExpiresAt(now: Date, minutes: number): string {
  return new Date(now.getTime() + minutes * 60_000).toISOString();
}

/**
 * A boleto's due date (`YYYY-MM-DD`): the São Paulo calendar date `days` after today there,
 * moved forward to the next business day when it is not one.
 */
export function boletoDueDate(now: Date, days: number): string {
  return nextBusinessDay(addDays(saoPauloDate(now), days));
}

/**
 * When an unpaid boleto expires (ISO 8601, UTC): the end of the São Paulo day `graceDays`
 * business days after its due date (the due date itself for 0), i.e. the next midnight there.
 * Banks accept a boleto after its due date, with a fine, for a few days: the grace.
 */
export function boletoExpiresAt(dueDate: string, graceDays: number): string {
  let day = dueDate;
  for (let left = graceDays; left > 0; left--) day = nextBusinessDay(addDays(day, 1));
  return startOfSaoPauloDay(addDays(day, 1)).toISOString();
}

/**
 * Whether banks work in São Paulo on `date` (`YYYY-MM-DD`): not a weekend, not a national bank
 * holiday (the fixed ones, and Carnival Monday and Tuesday, Good Friday and Corpus Christi from
 * Easter), not a São Paulo city holiday (Jan 25, Jul 9), and not Dec 31, when banks have no
 * public business (FEBRABAN) and a boleto due then is paid on the next business day.
 */
export function isBusinessDay(date: string): boolean {
  const weekday = toUtcDate(date).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  return !FIXED_HOLIDAYS.includes(date.slice(5)) && !easterHolidays(date.slice(0, 4)).has(date);
}

/**
 * Month-day: Confraternização, Tiradentes, Trabalho, Independência, Aparecida, Finados,
 * República, Consciência Negra (national since 2024), Natal; São Paulo's anniversary and
 * Revolução Constitucionalista; Dec 31 (no public banking).
 */
const FIXED_HOLIDAYS = [
  '01-01',
  '04-21',
  '05-01',
  '09-07',
  '10-12',
  '11-02',
  '11-15',
  '11-20',
  '12-25',
  '01-25',
  '07-09',
  '12-31',
];

/** Carnival Monday and Tuesday, Good Friday and Corpus Christi of `year`, from its Easter. */
function easterHolidays(year: string): Set<string> {
  const easter = easterSunday(Number(year));
  return new Set([-48, -47, -2, 60].map((offset) => addDays(easter, offset)));
}

/** Easter Sunday of `year` (`YYYY-MM-DD`): the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return toIsoDate(new Date(Date.UTC(year, month - 1, day)));
}

/** `date`, or the first business day after it. */
function nextBusinessDay(date: string): string {
  let day = date;
  while (!isBusinessDay(day)) day = addDays(day, 1);
  return day;
}

function addDays(date: string, days: number): string {
  return toIsoDate(new Date(toUtcDate(date).getTime() + days * DAY_MS));
}

const toUtcDate = (date: string) => new Date(`${date}T00:00:00Z`);
const toIsoDate = (date: Date) => date.toISOString().slice(0, 10);

const wallClock = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The São Paulo wall clock at `instant`, written as if it were UTC (its offset, added). */
function saoPauloWallClock(instant: Date): Date {
  const part = Object.fromEntries(
    wallClock.formatToParts(instant).map(({ type, value }) => [type, Number(value)]),
  ) as Record<Intl.DateTimeFormatPartTypes, number>;
  return new Date(
    Date.UTC(part.year, part.month - 1, part.day, part.hour, part.minute, part.second),
  );
}

/** The São Paulo calendar date at `instant`. */
function saoPauloDate(instant: Date): string {
  return toIsoDate(saoPauloWallClock(instant));
}

/**
 * The instant São Paulo's `date` begins. Its UTC offset comes from Intl (−03:00 since 2019, when
 * daylight saving time ended), asked again at the result in case the offset changed in between.
 */
function startOfSaoPauloDay(date: string): Date {
  const midnight = toUtcDate(date).getTime();
  const offsetAt = (instant: number) => saoPauloWallClock(new Date(instant)).getTime() - instant;
  const guess = midnight - offsetAt(midnight);
  return new Date(midnight - offsetAt(guess));
}
