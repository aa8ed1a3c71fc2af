// What doctor found: one finding per check, in the order the checks ran, each with its status and, for every
// problem, one line saying what to fix. The exit code follows from the worst status: 0 all well, 1 warnings,
// 2 a failure. Secret values met on the way (the token, the HS256 key) are registered so that no rendering
// of the report can contain them.
import { redactText } from '../config/redact.ts';

export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export const SECTIONS = ['configuration', 'connection', 'credentials', 'api', 'resources', 'collectors', 'exporter'] as const;
export type Section = (typeof SECTIONS)[number];

export interface Finding {
  section: Section;
  /** Short name of what was checked: `config`, `tcp`, `token`, `nodes`, ... */
  check: string;
  status: Status;
  message: string;
  /** One actionable line; set for every warn and fail. */
  fix?: string;
  /** Figures for --output json (durations in ms, sizes in bytes, counts). */
  data?: Record<string, unknown>;
}

export interface CollectorSeries {
  collector: string;
  group: string;
  /** supported: rendered; unsupported: the cluster does not serve what it reads; failing: the fetch or render failed. */
  state: 'supported' | 'unsupported' | 'failing' | 'disabled';
  series: number;
}

export const EXIT = { ok: 0, warnings: 1, failure: 2 } as const;

export class Report {
  readonly findings: Finding[] = [];
  readonly collectors: CollectorSeries[] = [];
  target = '';
  private readonly secrets = new Set<string>();

  add(f: Finding): Finding {
    if ((f.status === 'warn' || f.status === 'fail') && !f.fix) throw new Error(`doctor: finding ${f.check} has no fix line`);
    this.findings.push(f);
    return f;
  }

  /** A value that must never be printed (a token, a key): masked in every rendering. */
  secret(value: string | Buffer | undefined): void {
    if (value === undefined) return;
    const forms = typeof value === 'string' ? [value] : [value.toString('utf8'), value.toString('base64'), value.toString('base64url'), value.toString('hex')];
    for (const s of forms) {
      const t = s.trim();
      // Short values would mask ordinary words; real tokens and keys are long.
      if (t.length >= 8) this.secrets.add(t);
    }
  }

  /** Text with JWT-, bearer- and password-looking parts and every registered secret masked. */
  scrub(text: string): string {
    let out = redactText(text);
    for (const s of this.secrets) out = out.split(s).join('<redacted>');
    return out;
  }

  count(status: Status): number {
    return this.findings.filter((f) => f.status === status).length;
  }

  failed(section?: Section): boolean {
    return this.findings.some((f) => f.status === 'fail' && (section === undefined || f.section === section));
  }

  exitCode(): number {
    if (this.count('fail') > 0) return EXIT.failure;
    return this.count('warn') > 0 ? EXIT.warnings : EXIT.ok;
  }
}
