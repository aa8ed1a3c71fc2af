// The recovery drill of docs/backup.md, against the real Slurm 22.05 lab: back up the exporter's configuration,
// web config and TLS certificates (encrypted, to a local primary), delete them, restore them from the newest
// backup, start the exporter, and measure the time from the start of the restore until /ready answers 200 over
// TLS. The objective is 30 minutes; we aim for 30 seconds, and the test fails beyond that.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { BIN, type ExporterProcess, spawnExporter, waitFor } from '../support/exporter-process.ts';
import { type LabEnv, readLabEnv } from '../support/slurm-lab.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const lab: LabEnv = readLabEnv();

function backup(args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(BIN, ['backup', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

describe('recovery drill: configuration, web config and certificates lost, restored, serving again', () => {
  let dir: string;
  let etc: string;
  let exp: ExporterProcess | undefined;
  const files = { web: '', config: '', backup: '' };
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'backup-drill-'));
    etc = path.join(dir, 'etc');
    mkdirSync(etc);
    // A self-signed certificate for the exporter's TLS, as an operator's web config would name.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-keyout', path.join(etc, 'tls.key'), '-out', path.join(etc, 'tls.crt')], { stdio: 'ignore' });
    files.web = path.join(etc, 'web-config.yaml');
    writeFileSync(files.web, `tls_server_config:\n  cert_file: ${path.join(etc, 'tls.crt')}\n  key_file: ${path.join(etc, 'tls.key')}\n`);
    files.config = path.join(etc, 'exporter.yaml');
    writeFileSync(files.config, [
      'server:',
      `  webConfigFile: ${files.web}`,
      'slurm:',
      `  url: ${lab.SLURM_REST_URL}`,
      'collectors:',
      ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 2s, timeout: 1500ms }`),
      '',
    ].join('\n'));
    writeFileSync(path.join(dir, 'backup.key'), randomBytes(32).toString('hex'), { mode: 0o600 });
    // The primary is a mounted volume: it must exist (a missing mount is an error, not a directory to create).
    mkdirSync(path.join(dir, 'store'));
    // The backup job's own configuration lives apart from what it backs up (as the chart's backup ConfigMap does).
    files.backup = path.join(dir, 'backup.yaml');
    writeFileSync(files.backup, [
      'backup:',
      '  primary:',
      `    path: ${path.join(dir, 'store')}`,
      '  encryption:',
      `    keyFile: ${path.join(dir, 'backup.key')}`,
      '  paths:',
      `    configFile: ${files.config}`,
      `    webConfigFile: ${files.web}`,
      '',
    ].join('\n'));
  });
  after(async () => {
    if (exp) await exp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('restores and serves /ready 200 within 30 s of starting the restore', async () => {
    const before = Object.fromEntries(['exporter.yaml', 'web-config.yaml', 'tls.crt', 'tls.key'].map((f) => [f, readFileSync(path.join(etc, f))]));
    backup(['create', '--type', 'configuration', '--config.file', files.backup]);
    backup(['create', '--type', 'certificates', '--config.file', files.backup]);
    rmSync(etc, { recursive: true, force: true });
    assert.ok(!existsSync(files.config));

    const t0 = performance.now();
    backup(['restore', '--type', 'configuration', '--config.file', files.backup]);
    backup(['restore', '--type', 'certificates', '--config.file', files.backup]);
    const restored = performance.now();
    for (const [f, bytes] of Object.entries(before)) assert.deepEqual(readFileSync(path.join(etc, f)), bytes, `${f} restored byte for byte`);
    exp = await spawnExporter(['--config.file', files.config], { env: { SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER } });
    const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
    await waitFor('/ready 200 over TLS', async () => {
      const r = await request(`${exp!.url.replace('http:', 'https:')}/ready`, { dispatcher }).catch(() => undefined);
      if (!r) return false;
      await r.body.text();
      return r.statusCode === 200;
    }, 30_000, 100);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`recovery drill: restore ${((restored - t0) / 1000).toFixed(2)} s, restore to /ready 200 ${seconds.toFixed(2)} s`);
    assert.ok(seconds < 30, `ready ${seconds.toFixed(1)} s after the restore started`);
  });
});
