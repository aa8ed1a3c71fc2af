// The CLI as an operator runs it (bin/slurm-exporter): exit codes and what it says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BIN } from '../support/exporter-process.ts';

const run = (args: string[], env: Record<string, string | undefined> = {}) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['SLURM_REST_URL', 'SLURM_JWT', 'SLURM_JWT_FILE']) if (!(k in env)) delete e[k];
  return spawnSync(BIN, args, { encoding: 'utf8', env: e, timeout: 20_000 });
};

describe('bin/slurm-exporter', () => {
  it('with no Slurm source: exits 2 and says how to point it at Slurm or to try --demo', () => {
    const r = run(['--web.listen-address', '127.0.0.1:0']);
    assert.equal(r.status, 2);
    for (const s of ['--slurm.url', 'SLURM_REST_URL', '--demo']) assert.ok(r.stderr.includes(s), `mentions ${s}: ${r.stderr}`);
  });

  it('check-config: exit 0 with the effective configuration; exit 2 naming the bad flag', () => {
    const ok = run(['check-config', '--slurm.url', 'http://ctl:6820']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /url: http:\/\/ctl:6820/);
    const bad = run(['check-config', '--slurm.url', 'ftp://ctl']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /slurm\.url/);
  });

  it('--version prints the version; an unknown flag exits 2', () => {
    const v = run(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout.trim(), /^\d+\.\d+\.\d+/);
    assert.equal(run(['--no-such-flag']).status, 2);
  });
});
