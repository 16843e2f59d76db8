/**
 * Calendar days as the people using a portal live them: in the Netherlands. A birth date, an end
 * date of a team member's part, "today", a date typed on the command line: each is a day in
 * Europe/Amsterdam, not in UTC (a day there begins at 22:00 or 23:00 UTC the evening before).
 * Shared by the adapters and the gateway's modules, as the ports' `IsoDate` is such a day.
 */
export const CARE_TIME_ZONE = 'Europe/Amsterdam';

const days = new Intl.DateTimeFormat('en-CA', { timeZone: CARE_TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' });
const clock = new Intl.DateTimeFormat('en-US', {
  timeZone: CARE_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: 'numeric',
  day: 'numeric',
  hour: 'numeric',
  minute: 'numeric',
  second: 'numeric',
});

/** The date (YYYY-MM-DD) in the Netherlands at an instant (now by default; an ISO string is read as one). */
export function dutchDate(at: Date | number | string = Date.now()): string {
  return days.format(typeof at === 'string' ? new Date(at) : at);
}

/** The instant a Dutch calendar day (YYYY-MM-DD) begins: its 00:00 in Amsterdam, winter or summer time. */
export function startOfDutchDay(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const midnightUtc = Date.UTC(y, m - 1, d);
  // Amsterdam's offset at that midnight (no Dutch clock change happens near midnight).
  return new Date(midnightUtc - offsetAt(midnightUtc - offsetAt(midnightUtc)));
}

/** The Dutch calendar day after `date`. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** How far Amsterdam's clock is ahead of UTC at an instant, in ms (an hour in winter, two in summer). */
function offsetAt(ms: number): number {
  const parts = Object.fromEntries(clock.formatToParts(ms).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return asUtc - Math.floor(ms / 1000) * 1000;
}
