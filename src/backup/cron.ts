// The 5-field cron syntax (minute hour day-of-month month day-of-week) of the schedules, as in crontab(5):
// `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`; day of week 0-7 (0 and 7 are Sunday).
// As in cron, when both day fields are restricted a day matches if either does. Times are the host's local
// time; in a container that is UTC unless TZ says otherwise.

export interface CronSchedule {
  text: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  weekdays: ReadonlySet<number>;
  daysRestricted: boolean;
  weekdaysRestricted: boolean;
}

interface Field {
  name: string;
  min: number;
  max: number;
}

const FIELDS: readonly Field[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
];

const ALIASES: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *' };

function num(s: string, f: Field): number {
  if (!/^\d+$/.test(s)) throw new Error(`${f.name}: "${s}" is not a number`);
  const n = Number(s);
  if (n < f.min || n > f.max) throw new Error(`${f.name}: ${n} is out of range (${f.min}-${f.max})`);
  return n;
}

function parsePart(part: string, f: Field, out: Set<number>): void {
  const [range, stepText] = part.split('/') as [string, string | undefined];
  const step = stepText === undefined ? 1 : num(stepText, { ...f, min: 1, max: f.max + 1 });
  let lo: number = f.min;
  let hi: number = f.max;
  if (range !== '*') {
    const [a, b] = range.split('-') as [string, string | undefined];
    lo = num(a, f);
    hi = b === undefined ? (stepText === undefined ? lo : f.max) : num(b, f);
    if (hi < lo) throw new Error(`${f.name}: range ${range} runs backwards`);
  }
  for (let v = lo; v <= hi; v += step) out.add(v);
}

/** Parses a schedule; throws with the field and the reason. */
export function parseCron(text: string): CronSchedule {
  const fields = (ALIASES[text.trim()] ?? text).trim().split(/\s+/);
  if (fields.length !== 5) throw new Error(`"${text}": a schedule has 5 fields (minute hour day-of-month month day-of-week), found ${fields.length}`);
  const sets = fields.map((field, i) => {
    const f = FIELDS[i] as Field;
    const out = new Set<number>();
    try {
      for (const part of field.split(',')) parsePart(part, f, out);
    } catch (err) {
      throw new Error(`"${text}": ${(err as Error).message}`);
    }
    return out;
  }) as [Set<number>, Set<number>, Set<number>, Set<number>, Set<number>];
  if (sets[4].has(7)) sets[4].add(0);
  return {
    text,
    minutes: sets[0],
    hours: sets[1],
    days: sets[2],
    months: sets[3],
    weekdays: sets[4],
    daysRestricted: fields[2] !== '*',
    weekdaysRestricted: fields[4] !== '*',
  };
}

/** Whether the schedule fires in the minute of `d` (local time). */
export function cronMatches(s: CronSchedule, d: Date): boolean {
  if (!s.minutes.has(d.getMinutes()) || !s.hours.has(d.getHours()) || !s.months.has(d.getMonth() + 1)) return false;
  const dom = s.days.has(d.getDate());
  const dow = s.weekdays.has(d.getDay());
  if (s.daysRestricted && s.weekdaysRestricted) return dom || dow;
  return dom && dow;
}

/** The next minute strictly after `from` at which the schedule fires (searched up to 5 years ahead). */
export function nextRun(s: CronSchedule, from: Date): Date {
  const d = new Date(from.getTime());
  d.setSeconds(0, 0);
  for (let i = 0; i < 5 * 366 * 24 * 60; i++) {
    d.setMinutes(d.getMinutes() + 1);
    if (cronMatches(s, d)) return new Date(d.getTime());
  }
  throw new Error(`"${s.text}": never fires`);
}

/**
 * The longest gap between two runs, searched over one year from `from`: what the RPO check allows between
 * backups. Minute stepping over a year is ~525k checks; callers cache the result.
 */
export function longestGapMs(s: CronSchedule, from = new Date(Date.UTC(2026, 0, 1))): number {
  let prev = nextRun(s, from);
  let longest = 0;
  const end = from.getTime() + 366 * 24 * 3600_000;
  while (prev.getTime() < end) {
    const next = nextRun(s, prev);
    longest = Math.max(longest, next.getTime() - prev.getTime());
    prev = next;
  }
  return longest;
}
