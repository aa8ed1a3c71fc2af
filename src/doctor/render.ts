// The report for a person (sections, one line per check, then one line per thing to fix) or for a machine
// (--output json). Both pass through the report's scrub: no secret can reach stdout.
import { VERSION } from '../version.ts';
import { ms } from './format.ts';
import { type Finding, type Report, SECTIONS, type Section } from './report.ts';

const TITLES: Record<Section, string> = {
  configuration: 'Configuration',
  connection: 'Connection to slurmrestd',
  credentials: 'Credentials',
  api: 'API version',
  resources: 'Resources (one request each)',
  collectors: 'Collectors (rendered once)',
  exporter: 'Running exporter (after deployment)',
};

function line(f: Finding): string {
  return `  ${f.status.toUpperCase().padEnd(5)} ${f.check.padEnd(13)} ${f.message}`;
}

function summary(report: Report, durationMs: number): string {
  const n = (s: 'warn' | 'fail') => report.count(s);
  const plural = (k: number, w: string) => `${k} ${w}${k === 1 ? '' : 's'}`;
  return `Result: ${plural(n('fail'), 'failure')}, ${plural(n('warn'), 'warning')} (exit ${report.exitCode()}) in ${ms(durationMs)}`;
}

function fixes(report: Report): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of report.findings) {
    if (!f.fix || seen.has(`${f.check}\u0000${f.fix}`)) continue;
    seen.add(`${f.check}\u0000${f.fix}`);
    out.push(`  ${f.status.toUpperCase().padEnd(5)} ${f.check}: ${f.fix}`);
  }
  return out;
}

export function renderText(report: Report, durationMs: number): string {
  const out = [`slurm-exporter doctor ${VERSION}${report.target ? `: ${report.target}` : ''}`];
  for (const s of SECTIONS) {
    const fs = report.findings.filter((f) => f.section === s);
    if (fs.length) out.push('', TITLES[s], ...fs.map(line));
  }
  out.push('', summary(report, durationMs));
  const todo = fixes(report);
  if (todo.length) out.push('To fix:', ...todo);
  return report.scrub(`${out.join('\n')}\n`);
}

export function renderJson(report: Report, durationMs: number): string {
  const doc = {
    doctor: VERSION,
    target: report.target,
    exitCode: report.exitCode(),
    durationMs: Math.round(durationMs),
    summary: { ok: report.count('ok'), warn: report.count('warn'), fail: report.count('fail'), skip: report.count('skip') },
    findings: report.findings,
    collectors: report.collectors,
    series: report.collectors.reduce((n, c) => n + c.series, 0),
  };
  return report.scrub(`${JSON.stringify(doc, null, 2)}\n`);
}
