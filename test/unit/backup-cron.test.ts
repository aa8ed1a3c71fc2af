// The 5-field cron matcher of `backup schedule` and the RPO it implies.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cronMatches, longestGapMs, nextRun, parseCron } from '../../src/backup/cron.ts';

// Local-time dates: the matcher works in the host's time zone, as cron does.
const at = (y: number, mo: number, d: number, h: number, mi: number) => new Date(y, mo - 1, d, h, mi);

describe('cron matcher', () => {
  it('matches the default schedules at their times only', () => {
    const six = parseCron('0 */6 * * *');
    assert.ok(cronMatches(six, at(2026, 3, 4, 0, 0)) && cronMatches(six, at(2026, 3, 4, 18, 0)));
    assert.ok(!cronMatches(six, at(2026, 3, 4, 7, 0)) && !cronMatches(six, at(2026, 3, 4, 6, 1)));
    const daily = parseCron('0 2 * * *');
    assert.ok(cronMatches(daily, at(2026, 3, 4, 2, 0)));
    assert.ok(!cronMatches(daily, at(2026, 3, 4, 3, 0)));
  });

  it('treats 0 and 7 as Sunday', () => {
    // 2026-03-01 is a Sunday.
    assert.ok(cronMatches(parseCron('0 0 * * 0'), at(2026, 3, 1, 0, 0)));
    assert.ok(cronMatches(parseCron('0 0 * * 7'), at(2026, 3, 1, 0, 0)));
    assert.ok(!cronMatches(parseCron('0 0 * * 0'), at(2026, 3, 2, 0, 0)));
  });

  it('supports lists, ranges, steps and the @ aliases', () => {
    const s = parseCron('5,35 9-17/4 * * 1-5');
    assert.deepEqual([...s.minutes], [5, 35]);
    assert.deepEqual([...s.hours], [9, 13, 17]);
    assert.deepEqual([...s.weekdays], [1, 2, 3, 4, 5]);
    assert.deepEqual([...parseCron('@daily').hours], [0]);
    assert.deepEqual([...parseCron('10/20 * * * *').minutes], [10, 30, 50]);
  });

  it('matches either day field when both are restricted, as cron does', () => {
    const s = parseCron('0 0 13 * 5');
    assert.ok(cronMatches(s, at(2026, 3, 13, 0, 0))); // the 13th (a Friday too)
    assert.ok(cronMatches(s, at(2026, 3, 6, 0, 0))); // a Friday
    assert.ok(cronMatches(s, at(2026, 4, 13, 0, 0))); // the 13th, a Monday
    assert.ok(!cronMatches(s, at(2026, 4, 14, 0, 0)));
  });

  it('refuses malformed schedules naming the field', () => {
    assert.throws(() => parseCron('0 2 * *'), /5 fields .* found 4/);
    assert.throws(() => parseCron('61 * * * *'), /minute: 61 is out of range \(0-59\)/);
    assert.throws(() => parseCron('0 25 * * *'), /hour: 25 is out of range/);
    assert.throws(() => parseCron('0 0 * * mon'), /day of week: "mon" is not a number/);
    assert.throws(() => parseCron('0 5-2 * * *'), /hour: range 5-2 runs backwards/);
  });

  it('finds the next run and the longest gap (the RPO of a schedule)', () => {
    assert.deepEqual(nextRun(parseCron('0 3 * * *'), at(2026, 3, 4, 3, 0)), at(2026, 3, 5, 3, 0));
    assert.equal(longestGapMs(parseCron('0 */6 * * *')), 6 * 3600_000);
    assert.equal(longestGapMs(parseCron('0 0 * * 0')), 7 * 86400_000);
  });
});
