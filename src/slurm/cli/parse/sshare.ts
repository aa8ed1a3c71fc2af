// `sshare -a -l -P` → ShareEntry[], filled as the REST shares adapter fills it. Pipe-delimited with a header line;
// columns are found by header name (sshare's columns vary with -l, --partition and release). The Account column
// is indented one space per level; a row with a User is a user association, one without is an account.
import type { Anomalies, ShareEntry } from '../../model.ts';
import { note } from '../../rest/adapters/common.ts';
import { fail } from './values.ts';

const COMMAND = 'sshare -a -l -P';

interface Row {
  line: number;
  get(column: string): string;
}

/** A number; undefined for an empty cell; `inf` is Infinity (LevelFS of an association that used nothing). */
function cell(row: Row, column: string): number | undefined {
  const v = row.get(column).trim();
  if (v === '') return undefined;
  if (/^inf(inity)?$/i.test(v)) return Infinity;
  if (/^nan$/i.test(v)) return undefined;
  const n = Number(v);
  if (!/^-?\d/.test(v) || Number.isNaN(n)) fail(COMMAND, row.line, `${column} "${v}" is not a number`);
  return n;
}

function rowsOf(text: string): Row[] {
  const lines = text.split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0) return [];
  const header = (lines[headerAt] as string).split('|').map((h) => h.trim());
  for (const need of ['Account', 'User']) if (!header.includes(need)) fail(COMMAND, headerAt + 1, `header without a ${need} column: "${lines[headerAt]}"`);
  const rows: Row[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const l = lines[i] as string;
    if (l.trim() === '') continue;
    const cells = l.split('|');
    if (cells.length !== header.length) fail(COMMAND, i + 1, `${cells.length} fields where the header has ${header.length} (truncated or garbled line)`);
    rows.push({ line: i + 1, get: (c) => cells[header.indexOf(c)] ?? '' });
  }
  return rows;
}

/** `sshare -a -l -P` stdout → associations; empty output gives []; throws SlurmFetchError('parse') on malformed rows. */
export function parseSshare(text: string, a: Anomalies): ShareEntry[] {
  const parents: string[] = []; // account names by depth, for the parent of an account row
  const out: ShareEntry[] = [];
  for (const row of rowsOf(text)) {
    const accountCell = row.get('Account');
    const account = accountCell.trim();
    const user = row.get('User').trim();
    if (account === '') fail(COMMAND, row.line, 'row without an Account');
    const depth = accountCell.length - accountCell.trimStart().length;
    if (user === '') {
      parents.length = depth;
      parents[depth] = account;
    }
    const rawText = row.get('RawShares').trim();
    // Fairshare=parent: sshare prints "parent" and no LevelFS, as the REST adapter's USE_PARENT.
    const fromParent = rawText.toLowerCase() === 'parent';
    if (rawText !== '' && !fromParent && !/^\d+$/.test(rawText)) note(a, `sshare RawShares "${rawText}"`);
    out.push({
      kind: user === '' ? 'account' : 'user',
      name: user === '' ? account : user,
      account: user === '' ? (depth > 0 ? (parents[depth - 1] ?? '') : '') : account,
      partition: row.get('Partition').trim(),
      rawShares: fromParent || !/^\d+$/.test(rawText) ? undefined : Number(rawText),
      normalizedShares: cell(row, 'NormShares'),
      rawUsage: cell(row, 'RawUsage'),
      normalizedUsage: cell(row, 'NormUsage'),
      effectiveUsage: cell(row, 'EffectvUsage'),
      fairshareFactor: user === '' ? undefined : cell(row, 'FairShare'),
      levelFairshare: fromParent ? undefined : cell(row, 'LevelFS'),
    });
  }
  return out;
}
