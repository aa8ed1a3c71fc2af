// The collectors built on the collector framework, against the real Slurm 22.05 lab, each checked against
// Slurm's own CLI: licenses (scontrol show licenses), reservations (scontrol show reservation, including one
// created and deleted during the test), slurmdbd RPC statistics (sacctmgr show stats), per-user jobs (squeue),
// the finished-job counter and the queue-wait histogram (a job submitted after the exporter started), and
// fairshare, which 22.05's slurmrestd does not serve: reported as unsupported, never as an error.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ExporterProcess, httpGet, parseSamples, spawnExporter, sumBy, waitFor } from '../support/exporter-process.ts';
import { type LabEnv, readLabEnv, slurmCli } from '../support/slurm-lab.ts';
import { COLLECTOR_GROUPS } from '../../src/slurm/resources.ts';

const lab: LabEnv = readLabEnv();
const dir = mkdtempSync(path.join(tmpdir(), 'collectors-lab-'));
const conf = path.join(dir, 'exporter.yaml');
writeFileSync(conf, ['collectors:', ...COLLECTOR_GROUPS.map((g) => `  ${g}: { interval: 2s, timeout: 1500ms }`), 'limits:', '  jobs: true', ''].join('\n'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const cli = (cmd: string, ...args: string[]) => slurmCli(lab, cmd, args);

async function page(exp: ExporterProcess): Promise<string> {
  const r = await httpGet(`${exp.url}/metrics`);
  assert.equal(r.status, 200);
  return r.text;
}

/** `Key=Value Key=Value` records of a `scontrol show <x> -o` listing. */
function records(text: string): Record<string, string>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => Object.fromEntries(l.trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])));
}

/** scontrol prints local time without a zone; this process's clock shares the zone. */
const unix = (t: string) => Math.round(new Date(t).getTime() / 1000);

function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const [k, v] of parseSamples(text)) {
    if (!k.startsWith(`${metric}{`)) continue;
    if (Object.entries(labels).every(([l, want]) => k.includes(`${l}="${want}"`))) return v;
  }
  return undefined;
}

describe('new collectors against the real Slurm 22.05 lab', () => {
  let exp: ExporterProcess;
  before(async () => {
    exp = await spawnExporter(['--slurm.url', lab.SLURM_REST_URL, '--config.file', conf], { env: { SLURM_JWT: lab.SLURM_JWT, SLURM_USER: lab.SLURM_USER } });
    await waitFor('/ready 200', async () => (await httpGet(`${exp.url}/ready`)).status === 200, 30_000);
    // The finished and queue-wait collectors take their first jobs snapshot as the baseline.
    await waitFor('a jobs snapshot', async () => sample(await page(exp), 'slurm_jobs_finished_total', {}) !== undefined, 20_000);
  });
  after(async () => {
    assert.equal(await exp.stop(), 0);
  });

  it('licenses equal scontrol show licenses', async () => {
    const want = records(cli('scontrol', 'show', 'licenses', '-o'));
    assert.ok(want.length >= 2, 'the lab configures licenses');
    const text = await page(exp);
    for (const l of want) {
      const who = { license: l.LicenseName! };
      assert.equal(sample(text, 'slurm_license_configured', who), Number(l.Total), `${l.LicenseName} total`);
      assert.equal(sample(text, 'slurm_license_used', who), Number(l.Used), `${l.LicenseName} used`);
      assert.equal(sample(text, 'slurm_license_free', who), Number(l.Free), `${l.LicenseName} free`);
      assert.equal(sample(text, 'slurm_license_reserved', who), Number(l.Reserved ?? 0), `${l.LicenseName} reserved`);
      assert.equal(sample(text, 'slurm_license_info', { ...who, remote: l.Remote === 'yes' ? 'true' : 'false' }), 1);
    }
  });

  it('reservations equal scontrol show reservation, and one created and deleted now comes and goes', async () => {
    const name = `exporter-test-${process.pid}`;
    cli('scontrol', 'create', 'reservation', `ReservationName=${name}`, 'StartTime=now+3600', 'Duration=30', 'Nodes=c3', 'Users=root', 'Flags=MAINT,IGNORE_JOBS');
    try {
      const text = await waitFor('the new reservation', async () => {
        const t = await page(exp);
        return sample(t, 'slurm_reservation_nodes', { reservation: name }) !== undefined ? t : undefined;
      });
      const want = records(cli('scontrol', 'show', 'reservation', '-o'));
      assert.ok(want.some((r) => r.ReservationName === name));
      for (const r of want) {
        const who = { reservation: r.ReservationName! };
        assert.equal(sample(text, 'slurm_reservation_nodes', who), Number(r.NodeCnt), `${r.ReservationName} nodes`);
        assert.equal(sample(text, 'slurm_reservation_cores', who), Number(r.CoreCnt), `${r.ReservationName} cores`);
        assert.equal(sample(text, 'slurm_reservation_start_timestamp_seconds', who), unix(r.StartTime!), `${r.ReservationName} start`);
        assert.equal(sample(text, 'slurm_reservation_end_timestamp_seconds', who), unix(r.EndTime!), `${r.ReservationName} end`);
        assert.equal(sample(text, 'slurm_reservation_active', who), r.State === 'ACTIVE' ? 1 : 0, `${r.ReservationName} state`);
        const flags = r.Flags!.toLowerCase().split(',').sort().join(',');
        assert.equal(sample(text, 'slurm_reservation_info', { ...who, flags }), 1, `${r.ReservationName} flags ${flags}`);
        const byState = sumBy(text, 'slurm_reservation_nodes_by_state', 'state', who);
        assert.equal([...byState.values()].reduce((a, b) => a + b, 0), Number(r.NodeCnt), `${r.ReservationName} nodes by state`);
      }
    } finally {
      cli('scontrol', 'delete', `ReservationName=${name}`);
    }
    await waitFor('the deleted reservation gone', async () => sample(await page(exp), 'slurm_reservation_nodes', { reservation: name }) === undefined);
  });

  it('slurmdbd RPC counts are the ones sacctmgr show stats reports', async () => {
    const text = await page(exp);
    const after = cli('sacctmgr', 'show', 'stats');
    // "	DBD_FINI                 ( 1401) count:18     ave_time:695    total_time:12511"
    const byType = new Map<string, number>();
    const section = after.slice(after.indexOf('by message type'), after.indexOf('by user'));
    for (const m of section.matchAll(/^\s+(\S+)\s+\(\s*\d+\)\s+count:(\d+)/gm)) byType.set(m[1]!, Number(m[2]));
    assert.ok(byType.size > 3, 'sacctmgr lists RPC types');
    const got = sumBy(text, 'slurm_slurmdbd_rpc_calls_total', 'rpc');
    assert.ok(got.size > 3);
    for (const [rpc, n] of got) {
      // The exporter's figure is from its last poll, sacctmgr's from now: never more, and the type exists.
      assert.ok(byType.has(rpc), `${rpc} is listed by sacctmgr`);
      assert.ok(n <= byType.get(rpc)!, `${rpc}: ${n} <= ${byType.get(rpc)}`);
    }
    assert.equal(sample(text, 'slurm_exporter_collector_supported', { collector: 'slurmdbd' }), 1);
  });

  it('per-user running and pending jobs equal squeue', async () => {
    const text = await page(exp);
    const want = new Map<string, number>();
    for (const line of cli('squeue', '-h', '-a', '-t', 'all', '-o', '%u %T').split('\n')) {
      const [user, state] = line.trim().split(/\s+/);
      if (!user || (state !== 'RUNNING' && state !== 'PENDING')) continue;
      const k = `${user},${state.toLowerCase()}`;
      want.set(k, (want.get(k) ?? 0) + 1);
    }
    const got = new Map<string, number>();
    for (const [k, v] of parseSamples(text)) {
      const m = /^slurm_user_jobs\{cluster="lab",user="([^"]+)",state="([^"]+)"\}$/.exec(k);
      if (m && v > 0) got.set(`${m[1]},${m[2]}`, v);
    }
    assert.deepEqual(new Map([...got].sort()), new Map([...want].sort()));
  });

  it('a job that runs and completes after the exporter started is counted once as finished and once in the wait histogram', async () => {
    const before = await page(exp);
    const done = (t: string) => sample(t, 'slurm_jobs_finished_total', { state: 'completed', partition: 'debug' }) ?? 0;
    const waited = (t: string) => sample(t, 'slurm_job_queue_wait_seconds_count', { partition: 'debug', account: 'root' }) ?? 0;
    const id = cli('sbatch', '--parsable', '-p', 'debug', '-n1', '--mem=10', '--time=1', '--priority=4000000', '--wrap', 'sleep 3').trim();
    const text = await waitFor(`job ${id} counted as completed`, async () => {
      const t = await page(exp);
      return done(t) > done(before) ? t : undefined;
    }, 60_000, 500);
    assert.equal(done(text), done(before) + 1);
    assert.equal(waited(text), waited(before) + 1, 'observed once when first seen started');
    // Counted once: later polls of the same finished job add nothing.
    await new Promise((r) => setTimeout(r, 4500));
    const later = await page(exp);
    assert.equal(done(later), done(before) + 1);
    assert.equal(waited(later), waited(before) + 1);
    assert.equal(sample(later, 'slurm_job_info', { job_id: id, state: 'completed' }), 1, 'limits.jobs: the job has its own series');
  });

  it('fairshare: 22.05 serves no /shares, so the group is unsupported, counts no error and /ready stays 200', async () => {
    const text = await page(exp);
    assert.equal(sample(text, 'slurm_exporter_collector_supported', { collector: 'fairshare' }), 0);
    assert.ok(![...parseSamples(text).keys()].some((k) => k.startsWith('slurm_account_raw_shares') || k.startsWith('slurm_user_fairshare_factor')));
    for (const [k, v] of sumBy(text, 'slurm_exporter_errors_total', 'kind', { collector: 'fairshare' })) assert.equal(v, 0, `fairshare errors ${k}`);
    assert.equal((await httpGet(`${exp.url}/ready`)).status, 200);
    // sshare itself works on this cluster (accounting is on): the data exists, slurmrestd 22.05 just has no endpoint.
    assert.match(cli('sshare', '-a', '-l', '-P'), /^Account\|User\|RawShares/m);
  });
});
