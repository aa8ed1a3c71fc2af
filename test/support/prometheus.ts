// A real Prometheus (Debian's package, installed by scripts/install-test-deps.sh) scraping local targets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startDaemon } from './daemon.ts';

export interface PrometheusProcess {
  url: string;
  /** Instant query; returns the result vector. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
  output: string[];
}

/**
 * Starts Prometheus scraping `targets` (host:port) every `scrapeInterval`. `adminApi` adds --web.enable-admin-api
 * (TSDB snapshots); `dataDir` is the TSDB directory to use (kept on stop: the caller owns it), by default one
 * inside the throw-away directory. `jobs` adds scrape jobs of their own (job label = name), e.g. a `backup schedule`.
 */
export async function startPrometheus(opts: { targets: string[]; scrapeInterval?: string; metricsPath?: string; adminApi?: boolean; dataDir?: string; jobs?: { name: string; targets: string[] }[] }): Promise<PrometheusProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'prometheus-'));
  const port = await freePort();
  const interval = opts.scrapeInterval ?? '1s';
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  scrape_timeout: ${interval}`,
      'scrape_configs:',
      '  - job_name: slurm',
      `    metrics_path: ${opts.metricsPath ?? '/metrics'}`,
      '    static_configs:',
      `      - targets: [${opts.targets.map((t) => `'${t}'`).join(', ')}]`,
      ...(opts.jobs ?? []).flatMap((j) => [`  - job_name: ${j.name}`, '    static_configs:', `      - targets: [${j.targets.map((t) => `'${t}'`).join(', ')}]`]),
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const { output, stop } = await startDaemon({
    binary: '/usr/bin/prometheus',
    pkg: 'prometheus',
    dir,
    args: [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${opts.dataDir ?? path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(opts.adminApi ? ['--web.enable-admin-api'] : []),
    ],
    what: 'Prometheus /-/ready',
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    timeoutMs: 30_000,
  });
  return {
    url,
    output,
    stop,
    async query(promql: string) {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await res.json()) as { status: string; error?: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
      return body.data.result;
    },
  };
}
