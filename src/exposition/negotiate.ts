// Content negotiation as Prometheus' client_golang (expfmt.NegotiateIncludingOpenMetrics) does it:
// walk the Accept entries from most to least preferred; the first one we can serve wins; text 0.0.4 is
// the fallback. Unlike client_golang, entries with q=0 are refused, as RFC 9110 says.

import type { ExpositionFormat } from './writer.ts';

export const CONTENT_TYPE_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
export const CONTENT_TYPE_OPENMETRICS = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const CONTENT_TYPE_OPENMETRICS_0_0_1 = 'application/openmetrics-text; version=0.0.1; charset=utf-8';

export interface Negotiated {
  format: ExpositionFormat;
  contentType: string;
}

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
  order: number;
}

function parseQ(raw: string | undefined): number {
  if (raw === undefined) return 1;
  const q = Number(raw);
  return Number.isFinite(q) && q >= 0 && q <= 1 ? q : 0;
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Parse an Accept header into media ranges, most preferred first (q, then specificity, then order). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  const out: MediaRange[] = [];
  let order = 0;
  for (const part of header.split(',')) {
    const [range, ...rawParams] = part.split(';');
    const mt = (range ?? '').trim().toLowerCase();
    const slash = mt.indexOf('/');
    if (slash <= 0 || slash === mt.length - 1) continue;
    const params = new Map<string, string>();
    for (const p of rawParams) {
      const eq = p.indexOf('=');
      if (eq <= 0) continue;
      params.set(p.slice(0, eq).trim().toLowerCase(), unquote(p.slice(eq + 1).trim()));
    }
    out.push({ type: mt.slice(0, slash), subtype: mt.slice(slash + 1), params, q: parseQ(params.get('q')), order: order++ });
  }
  const specificity = (r: MediaRange): number => (r.type === '*' ? 0 : r.subtype === '*' ? 1 : 2);
  return out.sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.order - b.order);
}

/** Pick the exposition format for a request's Accept header. */
export function negotiateFormat(accept: string | undefined): Negotiated {
  for (const r of parseAccept(accept)) {
    if (r.q <= 0) continue;
    const version = r.params.get('version');
    if (r.type === 'application' && r.subtype === 'openmetrics-text') {
      if (version === undefined || version === '1.0.0') return { format: 'openmetrics', contentType: CONTENT_TYPE_OPENMETRICS };
      // Our output is valid 0.0.1 too; answer with the version the client asked for.
      if (version === '0.0.1') return { format: 'openmetrics', contentType: CONTENT_TYPE_OPENMETRICS_0_0_1 };
    } else if (r.type === 'text' && r.subtype === 'plain' && (version === undefined || version === '0.0.4')) {
      return { format: 'text', contentType: CONTENT_TYPE_TEXT };
    }
  }
  return { format: 'text', contentType: CONTENT_TYPE_TEXT };
}

/** True when Accept-Encoding allows gzip (explicitly or through `*`), honouring q=0 refusals. */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  let gzipQ: number | undefined;
  let starQ: number | undefined;
  for (const part of acceptEncoding.split(',')) {
    const [coding, ...rawParams] = part.split(';');
    const name = (coding ?? '').trim().toLowerCase();
    let q = 1;
    for (const p of rawParams) {
      const [k, v] = p.split('=');
      if ((k ?? '').trim().toLowerCase() === 'q') q = parseQ((v ?? '').trim());
    }
    if (name === 'gzip' || name === 'x-gzip') gzipQ = Math.max(gzipQ ?? 0, q);
    else if (name === '*') starQ = q;
  }
  if (gzipQ !== undefined) return gzipQ > 0;
  return starQ !== undefined && starQ > 0;
}
