// The CLI text parsers (src/slurm/cli/parse/) on real captured output, cross-checked against the REST adapters
// reading slurmrestd's (or the CLI's --json) answer for the same cluster state, plus the edge cases text has.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Anomalies, ResourceData, ResourceKind, SlurmNode } from '../../src/slurm/model.ts';
import { SlurmFetchError } from '../../src/slurm/source.ts';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import { v0038 } from '../../src/slurm/rest/adapters/v0038.ts';
import { readResource } from '../../src/slurm/rest/read-resource.ts';
import { parseRecords } from '../../src/slurm/cli/parse/records.ts';
import { parseScontrolNodes } from '../../src/slurm/cli/parse/nodes.ts';
import { parseScontrolPartitions } from '../../src/slurm/cli/parse/partitions.ts';
import { parseScontrolReservations } from '../../src/slurm/cli/parse/reservations.ts';
import { parseScontrolLicenses } from '../../src/slurm/cli/parse/licenses.ts';
import { parseScontrolPing } from '../../src/slurm/cli/parse/ping.ts';
import { parseSdiag } from '../../src/slurm/cli/parse/sdiag.ts';
import { parseSshare } from '../../src/slurm/cli/parse/sshare.ts';
import { SQUEUE_FIELDS, SQUEUE_FORMAT, parseSqueue } from '../../src/slurm/cli/parse/squeue.ts';
import { SINFO_FIELDS, SINFO_FORMAT, parseSinfoNodes } from '../../src/slurm/cli/parse/sinfo.ts';
import { duration } from '../../src/slurm/cli/parse/values.ts';

// The labs ran in UTC and scontrol/squeue print local time: read the captures in the zone they were made in.
process.env.TZ = 'UTC';

const FIX = new URL('../fixtures/', import.meta.url);
const text = (f: string) => readFileSync(new URL(f, FIX), 'utf8');
const cli22 = (f: string) => text(`slurm-22.05/cli/${f}`);
const none = (): Anomalies => ({ unknown: [] });

async function* once(buf: Buffer): AsyncGenerator<Uint8Array> {
  yield buf;
}

/** What the REST reader makes of a captured answer. */
async function rest<K extends ResourceKind>(kind: K, version: string, file: string): Promise<ResourceData[K]> {
  const buf = readFileSync(new URL(file, FIX));
  return (await readResource(kind, adapterFor(version)!, once(buf), { maxBytes: buf.length })).data;
}

/** Asserts `fn` throws a 'parse' SlurmFetchError whose message matches `re`. */
function throwsParse(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SlurmFetchError, `not a SlurmFetchError: ${String(e)}`);
    assert.equal(e.kind, 'parse');
    assert.match(e.message, re);
    return true;
  });
}

const byName = <T extends { name: string }>(list: T[]) => [...list].sort((x, y) => x.name.localeCompare(y.name));

describe('scontrol show -o records', () => {
  it('splits on key boundaries, keeping spaces and = inside values', () => {
    const [r] = parseRecords('NodeName=n1 OS=Linux 6.1 #1 SMP @0  RealMemory=4000 CfgTRES=cpu=4,mem=4000M AllocTRES= Reason=fix a=b and GPU=bad now [root@2026-11-24T07:10:01]', 'scontrol show nodes');
    assert.equal(r!.fields.get('OS'), 'Linux 6.1 #1 SMP @0');
    assert.equal(r!.fields.get('RealMemory'), '4000');
    assert.equal(r!.fields.get('CfgTRES'), 'cpu=4,mem=4000M');
    assert.equal(r!.fields.get('AllocTRES'), '');
    assert.equal(r!.fields.get('Reason'), 'fix a=b and GPU=bad now [root@2026-11-24T07:10:01]');
  });

  it('ends a free-text value at a key scontrol prints', () => {
    const [r] = parseRecords('ReservationName=r1 Comment=move to rack B State=ACTIVE Users=alice', 'scontrol show reservations');
    assert.equal(r!.fields.get('Comment'), 'move to rack B');
    assert.equal(r!.fields.get('State'), 'ACTIVE');
  });

  it('reads the multi-line format (without -o) like the one-liner', () => {
    const one = cli22('scontrol_show_nodes_o.txt').split('\n')[2]!; // c3, with a reason
    const multi = ['NodeName=c3 Arch=x86_64 CoresPerSocket=4', '   CPUAlloc=1 CPUEfctv=4 CPUTot=4 CPULoad=2.87', '   OS=Linux 6.18.44-fc-v782 #1 SMP PREEMPT_DYNAMIC @0', '   State=MIXED+DRAIN', '   Reason=lab: draining for maintenance [root@2026-11-24T07:10:01]', '', 'NodeName=c4 CPUTot=4', '   State=IDLE', ''].join('\n');
    const recs = parseRecords(multi, 'scontrol show nodes');
    assert.equal(recs.length, 2);
    const single = parseRecords(one, 'scontrol show nodes')[0]!;
    for (const k of ['CPUAlloc', 'CPUTot', 'CPULoad', 'OS', 'State', 'Reason']) assert.equal(recs[0]!.fields.get(k), single.fields.get(k), k);
    assert.equal(recs[1]!.line, 7);
  });

  it('gives no records for empty output and "No ... in the system"', () => {
    assert.deepEqual(parseRecords('', 'x'), []);
    assert.deepEqual(parseRecords('\n', 'x'), []);
    assert.deepEqual(parseScontrolReservations('No reservations in the system\n', none()), []);
    assert.deepEqual(parseScontrolLicenses('No licenses configured\n', none()), []);
    assert.deepEqual(parseScontrolNodes('', none()), []);
  });

  it('rejects a line that is not Key=Value, naming command and line', () => {
    throwsParse(() => parseScontrolNodes('NodeName=c1 State=IDLE CPUTot=4\nslurm_load_node error: Unable to contact slurm controller\n', none()), /^scontrol show nodes: line 2: expected Key=Value/);
  });

  it('rejects a truncated record', () => {
    throwsParse(() => parseScontrolNodes('NodeName=c1 Arch=x86_64 CoresPer', none()), /scontrol show nodes: line 1: record without State, CPUTot \(truncated/);
    throwsParse(() => parseScontrolPartitions('PartitionName=debug AllowGroups=ALL', none()), /line 1: record without State/);
  });

  it('rejects garbled values', () => {
    throwsParse(() => parseScontrolNodes('NodeName=c1 State=IDLE CPUTot=four', none()), /line 1: CPUTot=four is not a number/);
    throwsParse(() => parseScontrolPartitions('PartitionName=p State=UP MaxTime=forever', none()), /MaxTime=forever is not a duration/);
    throwsParse(() => parseScontrolReservations('ReservationName=r StartTime=tomorrow EndTime=2026-11-24T07:10:01', none()), /StartTime=tomorrow is not a timestamp/);
  });

  it('reads Slurm durations', () => {
    assert.equal(duration('1-00:00:00'), 86400);
    assert.equal(duration('01:00:00'), 3600);
    assert.equal(duration('4:00:00'), 14400);
    assert.equal(duration('30'), 1800);
    assert.equal(duration('5:00'), 300);
    assert.equal(duration('2-12'), 2 * 86400 + 12 * 3600);
    assert.equal(duration('2-12:30'), 2 * 86400 + 12 * 3600 + 1800);
    assert.equal(duration('UNLIMITED'), undefined);
    assert.equal(duration('NONE'), undefined);
    assert.ok(Number.isNaN(duration('soon')));
  });
});

describe('scontrol show nodes', () => {
  it('gives the REST v0.0.38 model of the same 22.05 state', async () => {
    const a = none();
    const cli = parseScontrolNodes(cli22('scontrol_show_nodes_o.txt'), a);
    const api = await rest('nodes', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_nodes.json');
    // 22.05 slurmrestd prints d1's unknown free memory as -2 (MB); scontrol says N/A.
    // The REST adapter reads 22.05's free_memory -2 (not reported) as unknown too.
    const fixed = api;
    assert.deepEqual(byName(cli), byName(fixed));
    assert.deepEqual(a.unknown, []);
    const c3 = cli.find((n) => n.name === 'c3')!;
    assert.deepEqual([c3.state, c3.flags, c3.reason, c3.reasonChangedAt], ['mixed', ['drain'], 'lab: draining for maintenance', 1795504201]);
    assert.deepEqual(cli.find((n) => n.name === 'g1')!.gres, [{ type: 'gpu', model: 'tesla', count: 2 }]);
  });

  it('reads -F (future nodes) and GresUsed from -d', () => {
    const f1 = parseScontrolNodes(cli22('scontrol_show_nodes_o_future.txt'), none()).find((n) => n.name === 'f1')!;
    assert.deepEqual([f1.state, f1.cpuLoad, f1.freeMemoryBytes, f1.features], ['future', undefined, undefined, []]);
    const [g] = parseScontrolNodes('NodeName=g1 CPUTot=8 State=MIXED Gres=gpu:tesla:2(S:0-1) GresUsed=gpu:tesla:1(IDX:0) AllocTRES=cpu=1,gres/gpu=1', none());
    assert.deepEqual(g!.gres, [{ type: 'gpu', model: 'tesla', count: 2 }]);
    assert.deepEqual(g!.gresUsed, [{ type: 'gpu', model: 'tesla', count: 1 }]);
  });

  it('keeps unknown states lower-case and reports them; long names whole', () => {
    const a = none();
    const long = 'gpu-node-rack12-chassis04-slot07';
    const [n] = parseScontrolNodes(`NodeName=${long} CPUTot=4 State=HIBERNATING+DRAIN+SOMETHING_NEW`, a);
    assert.equal(n!.name, long);
    assert.equal(n!.state, 'hibernating');
    assert.deepEqual(n!.flags, ['drain', 'something_new']);
    assert.deepEqual(a.unknown, ['node state "hibernating"', 'node state "something_new"']);
  });
});

describe('scontrol show partitions / reservations / licenses, scontrol ping', () => {
  it('partitions equal REST v0.0.38', async () => {
    const cli = parseScontrolPartitions(cli22('scontrol_show_partitions_o.txt'), none());
    assert.deepEqual(cli, await rest('partitions', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_partitions.json'));
    assert.deepEqual(cli.map((p) => p.maxTimeSeconds), [86400, 7 * 86400, 2 * 86400, 3600]);
  });

  it('partition MaxTime=UNLIMITED is undefined, an unknown state reported', () => {
    const a = none();
    const [p] = parseScontrolPartitions('PartitionName=big Default=NO MaxTime=UNLIMITED Nodes=n[01-03] State=RESTING TotalCPUs=12 TotalNodes=3', a);
    assert.deepEqual([p!.maxTimeSeconds, p!.state, p!.nodes, p!.isDefault], [undefined, 'resting', ['n01', 'n02', 'n03'], false]);
    assert.deepEqual(a.unknown, ['partition state "resting"']);
  });

  it('reservations equal REST v0.0.38', async () => {
    const cli = parseScontrolReservations(cli22('scontrol_show_reservations_o.txt'), none());
    assert.deepEqual(cli, await rest('reservations', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_reservations.json'));
  });

  it('licenses equal REST v0.0.38', async () => {
    const cli = parseScontrolLicenses(cli22('scontrol_show_licenses_o.txt'), none());
    assert.deepEqual(cli, await rest('licenses', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_licenses.json'));
    assert.deepEqual(parseScontrolLicenses('LicenseName=ansys Total=10 Used=3 Free=7 Reserved=1 Remote=yes', none())[0]!.remote, true);
  });

  it('ping controllers equal REST v0.0.38; versions are left to the source', async () => {
    const cli = parseScontrolPing(cli22('scontrol_ping.txt'), none());
    const api = await rest('cluster', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_ping.json');
    assert.deepEqual(cli.controllers, api.controllers);
    assert.deepEqual([cli.apiVersion, cli.slurmVersion, cli.clusterName], ['', '', '']);
  });

  it('ping with several controllers, one down', () => {
    const c = parseScontrolPing('Slurmctld(primary) at ctl1 is UP\nSlurmctld(backup1) at ctl2 is DOWN\nSlurmctld(backup2) at ctl3 is UP\n', none());
    assert.deepEqual(c.controllers.map((x) => [x.mode, x.hostname, x.status]), [['primary', 'ctl1', 'up'], ['backup1', 'ctl2', 'down'], ['backup2', 'ctl3', 'up']]);
    throwsParse(() => parseScontrolPing('', none()), /scontrol ping: no controller/);
    throwsParse(() => parseScontrolPing('Slurmctld(primary) at ctl1 is UP\ngarbage\n', none()), /scontrol ping: line 2: expected/);
  });
});

describe('sdiag', () => {
  const scalars = (s: ResourceData['diag']) => ({ ...s, rpcByType: [], rpcByUser: [] });

  // 25.05's two captures are a second apart, long enough for agents to start and the table mean to move.
  const moved = { 'slurm-25.11.7': [], 'slurm-25.05.8': ['agentCount', 'agentThreadCount', 'backfillTableSizeMean'] } as const;
  for (const [dir, version] of [['slurm-25.11.7', 'v0.0.44'], ['slurm-25.05.8', 'v0.0.43']] as const) {
    it(`${dir}: text equals sdiag --json read by the ${version} adapter`, () => {
      const a = none();
      const cli = parseSdiag(text(`${dir}/cli_sdiag.txt`), a);
      const json = adapterFor(version)!.diag(JSON.parse(text(`${dir}/cli_sdiag.json`)) as Record<string, unknown>, none());
      const still = (s: ResourceData['diag']) => Object.fromEntries(Object.entries(scalars(s)).filter(([k]) => !(moved[dir] as readonly string[]).includes(k)));
      assert.deepEqual(still(cli), still(json));
      assert.deepEqual(a.unknown, []);
      // RPC counts moved between the two captures; the names are the same set.
      assert.deepEqual(cli.rpcByType.map((r) => r.name).sort(), json.rpcByType.map((r) => r.name).sort());
    });
  }

  it('22.05: every figure, microseconds as seconds, RPC tables', () => {
    const a = none();
    const s = parseSdiag(cli22('sdiag.txt'), a);
    assert.deepEqual(a.unknown, []);
    assert.equal(s.statsResetTime, 1795504198);
    assert.equal(s.serverThreadCount, 3);
    assert.equal(s.jobsSubmitted, 23);
    assert.equal(s.scheduleCycleLastSeconds, 484 / 1e6);
    assert.equal(s.scheduleCycleMeanSeconds, 275 / 1e6);
    assert.equal(s.backfillCycleMaxSeconds, 18446 / 1e6);
    assert.equal(s.backfillLastCycleTime, 1795504378);
    assert.equal(s.backfillActive, false);
    assert.equal(s.backfillTableSizeMean, 1);
    assert.equal(s.rpcByType.length, 21);
    assert.deepEqual(s.rpcByType[0], { name: 'REQUEST_PARTITION_INFO', count: 41, totalTimeSeconds: 15284 / 1e6 });
    assert.deepEqual(s.rpcByUser, [
      { user: 'root', count: 162, totalTimeSeconds: 154055 / 1e6 },
      { user: 'alice', count: 6, totalTimeSeconds: 18143 / 1e6 },
      { user: 'bob', count: 6, totalTimeSeconds: 19302 / 1e6 },
    ]);
  });

  it('reads bf_active from the warning, reports unknown lines, rejects garbage', () => {
    const base = cli22('sdiag.txt');
    const a = none();
    const s = parseSdiag(base.replace('Backfilling stats\n', 'Backfilling stats (WARNING: data obtained in the middle of backfilling execution.)\n').replace('Agent count:', 'Brand new gauge:  7\nAgent count:'), a);
    assert.equal(s.backfillActive, true);
    assert.deepEqual(a.unknown, ['sdiag field "Brand new gauge"']);
    throwsParse(() => parseSdiag('', none()), /sdiag: no "Server thread count"/);
    throwsParse(() => parseSdiag(base.replace('count:41 ', 'cnt=41 '), none()), /sdiag: line \d+: expected an RPC row/);
    throwsParse(() => parseSdiag(base.replace('Jobs started:   10', 'Jobs started:   ten'), none()), /sdiag: line 12: "ten" is not a number/);
  });
});

describe('sshare -a -l -P', () => {
  it('22.05: accounts and users, depth, inf, empty cells', () => {
    const s = parseSshare(cli22('sshare_a_l_P.txt'), none());
    assert.equal(s.length, 7);
    assert.deepEqual(s[0], { kind: 'account', name: 'root', account: '', partition: '', rawShares: undefined, normalizedShares: 0, rawUsage: 1474, normalizedUsage: undefined, effectiveUsage: 1, fairshareFactor: undefined, levelFairshare: undefined });
    assert.deepEqual(s.map((e) => [e.kind, e.name, e.account]), [['account', 'root', ''], ['user', 'root', 'root'], ['account', 'chemistry', 'root'], ['user', 'bob', 'chemistry'], ['account', 'physics', 'root'], ['user', 'alice', 'physics'], ['user', 'bob', 'physics']]);
    assert.equal(s[6]!.levelFairshare, Infinity);
    assert.equal(s[5]!.fairshareFactor, 0.75);
    assert.equal(s[2]!.fairshareFactor, undefined); // accounts have none
  });

  it('25.11: the same associations as REST v0.0.44 (columns found by name)', async () => {
    // The capture is sshare -a -l (fixed width, long cells cut with "+"): rebuild -P output from the ruler line,
    // moving Account last to prove columns are found by header name, not position.
    const [head, ruler, ...rows] = text('slurm-25.11.7/cli_sshare.txt').split('\n').filter((l) => l.trim() !== '');
    const spans: [number, number][] = [];
    for (const m of ruler!.matchAll(/-+/g)) spans.push([m.index, m.index + m[0].length]);
    const cut = (l: string) => spans.map(([s, e]) => l.slice(s, e + 1).trimEnd()).map((c, i) => (i === 0 ? c : c.trim()));
    const order = (cells: string[]) => [...cells.slice(1), cells[0]!];
    const piped = [head!, ...rows].map((l) => order(cut(l)).join('|')).join('\n');
    const cli = parseSshare(piped, none());
    const api = await rest('shares', 'v0.0.44', 'slurm-25.11.7/rest_v0.0.44_slurm_shares.json');
    assert.equal(cli.length, api.length);
    cli.forEach((c, i) => {
      const r = api[i]!;
      for (const k of ['kind', 'name', 'account', 'partition', 'rawShares', 'rawUsage', 'levelFairshare', 'fairshareFactor'] as const) {
        if (typeof c[k] === 'number' && Number.isFinite(c[k])) assert.ok(Math.abs((c[k] as number) - (r[k] as number)) < 1e-6, `${c.name} ${k}`);
        else assert.equal(c[k], r[k], `${c.kind} ${c.name} ${k}`);
      }
      for (const k of ['normalizedShares', 'normalizedUsage', 'effectiveUsage'] as const) {
        if (c[k] === undefined) assert.equal(r[k], undefined, `${c.name} ${k}`);
        else assert.ok(Math.abs(c[k] - (r[k] ?? NaN)) < 1e-6, `${c.name} ${k}`);
      }
    });
  });

  it('empty output, missing header, wrong field count', () => {
    assert.deepEqual(parseSshare('', none()), []);
    throwsParse(() => parseSshare('root|||0.5\n', none()), /sshare -a -l -P: line 1: header without a Account column/);
    throwsParse(() => parseSshare('Account|User|RawShares|NormShares\nroot||1|0.5\n phys|ada|1\n', none()), /line 3: 3 fields where the header has 4/);
    const [p] = parseSshare('Account|User|RawShares|LevelFS\nroot||parent|\n', none());
    assert.deepEqual([p!.rawShares, p!.levelFairshare], [undefined, undefined]);
  });
});

describe('squeue -O', () => {
  const CAPTURED = ['JobID', 'ArrayJobID', 'ArrayTaskID', 'Name', 'UserName', 'Account', 'Partition', 'QOS', 'State', 'Reason', 'NumCPUs', 'NumNodes', 'MinMemory', 'tres-alloc', 'TimeLimit', 'TimeUsed', 'SubmitTime', 'StartTime', 'NodeList'];
  const COMPARED = ['jobId', 'arrayJobId', 'name', 'user', 'account', 'partitions', 'qos', 'state', 'stateFlags', 'reason', 'cpus', 'nodeCount', 'memoryBytes', 'gpus', 'submitTime', 'startTime', 'timeLimitSeconds'] as const;

  it('22.05 capture (-r, its own field list): the jobs squeue --json gives, field by field', () => {
    const a = none();
    const cli = parseSqueue(cli22('squeue_O_parsable.txt'), a, CAPTURED, false);
    const json = (JSON.parse(cli22('squeue.json')) as { jobs: unknown[] }).jobs.map((j) => v0038.job(j, none())!);
    assert.deepEqual(a.unknown, []);
    assert.equal(cli.length, 19);
    for (const c of cli) {
      const j = json.find((x) => x.jobId === c.jobId)!;
      if (j.arrayTaskString !== '') {
        // -r prints each task of the pending range 3-6%2 as its own line.
        assert.deepEqual([c.arrayJobId, j.arrayTaskString.startsWith('3-6')], [3, true]);
        assert.ok(c.arrayTaskId! >= 3 && c.arrayTaskId! <= 6);
        continue;
      }
      assert.equal(c.arrayTaskId, j.arrayTaskId, `job ${c.jobId} arrayTaskId`);
      // squeue prints a job's state description where it has one; REST's state_reason is the bare code.
      const reason = c.jobId === 12 ? 'Resources' : c.reason;
      for (const k of COMPARED) assert.deepEqual(k === 'reason' ? reason : c[k], j[k], `job ${c.jobId} ${k}`);
    }
  });

  it('the exported format asks for every field with the | suffix', () => {
    assert.equal(SQUEUE_FORMAT.split(',').length, SQUEUE_FIELDS.length);
    assert.ok(SQUEUE_FORMAT.split(',').every((f) => f.endsWith(':|')));
  });

  const line = (v: Record<string, string>) => SQUEUE_FIELDS.map((f) => v[f] ?? 'N/A').join('|') + '|';
  const job5 = {
    JobID: '5', ArrayJobID: '5', ArrayTaskID: 'N/A', Cluster: 'lab', Name: 'a|very|long job name over twenty chars', UserName: 'alice', Account: 'physics',
    Partition: 'gpu', QOS: 'normal', State: 'RUNNING', Reason: 'None', NumCPUs: '1', NumNodes: '1', NumTasks: '1',
    'tres-alloc': 'cpu=1,mem=500M,node=1,billing=1,gres/gpu=1', 'tres-per-node': 'gres:gpu:tesla:1', TimeLimit: '1-00:00:00',
    SubmitTime: '2026-11-24T07:09:59', EligibleTime: '2026-11-24T07:09:59', StartTime: '2026-11-24T07:10:00', EndTime: '2026-11-25T07:10:00', PriorityLong: '10108',
  };

  it('default format: the REST model of the same job, GRES model from tres-per-node, | inside the name', () => {
    const [cli] = parseSqueue(line(job5), none());
    const json = (JSON.parse(cli22('squeue.json')) as { jobs: { job_id: number }[] }).jobs.find((j) => j.job_id === 5);
    const api = v0038.job(json, none())!;
    assert.deepEqual({ ...cli!, name: api.name }, api);
    assert.equal(cli!.name, 'a|very|long job name over twenty chars');
  });

  it('a pending array range stays one record; unknown states are reported', () => {
    const a = none();
    const [j] = parseSqueue(line({ ...job5, JobID: '6', ArrayJobID: '6', ArrayTaskID: '4-8%3', State: 'PONDERING', 'tres-alloc': 'cpu=1,mem=1G', StartTime: 'N/A', EndTime: 'N/A', TimeLimit: 'UNLIMITED' }), a);
    assert.deepEqual([j!.arrayJobId, j!.arrayTaskId, j!.arrayTaskString, j!.state, j!.memoryBytes, j!.startTime, j!.timeLimitSeconds], [6, undefined, '4-8%3', 'pondering', 1024 ** 3, 0, undefined]);
    assert.deepEqual(a.unknown, ['job state "pondering"']);
  });

  it('empty output; truncated and garbled lines', () => {
    assert.deepEqual(parseSqueue('', none()), []);
    const full = line(job5);
    throwsParse(() => parseSqueue(`${full}\n${full.slice(0, 40)}\n`, none()), /^squeue: line 2: line does not end in "\|"/);
    throwsParse(() => parseSqueue('5|5|\n', none()), /squeue: line 1: 2 fields where 24 were asked for/);
    throwsParse(() => parseSqueue(line({ ...job5, NumCPUs: 'x' }), none()), /squeue: line 1: NumCPUs "x" is not a number/);
    throwsParse(() => parseSqueue(line({ ...job5, SubmitTime: 'yesterday' }), none()), /SubmitTime "yesterday" is not a timestamp/);
  });
});

describe('sinfo -N -O', () => {
  const CAPTURED = ['NodeList', 'StateLong', 'StateComplete', 'CPUsState', 'Memory', 'FreeMem', 'AllocMem', 'CPUsLoad', 'Partition', 'Gres', 'GresUsed', 'Reason', 'Features'];

  it('22.05 capture (its own field list): the REST nodes, merged over partitions', async () => {
    const a = none();
    const cli = parseSinfoNodes(cli22('sinfo_nodes_parsable.txt'), a, CAPTURED, false);
    const api = await rest('nodes', 'v0.0.38', 'slurm-22.05/slurm_v0.0.38_nodes.json');
    assert.deepEqual(a.unknown, []);
    const norm = (n: SlurmNode) => ({
      ...n,
      partitions: [...n.partitions].sort(),
      reasonChangedAt: 0, // the capture has no Timestamp field
    });
    assert.deepEqual(byName(cli).map(norm), byName(api).map(norm));
  });

  const line = (v: Record<string, string>) => SINFO_FIELDS.map((f) => v[f] ?? '').join('|') + '|';

  it('default format: long names whole, reason time, | in the reason, default partition star', () => {
    const long = 'compute-node-with-a-very-long-name-001';
    const row = { NodeList: long, StateComplete: 'idle+drain', CPUsState: '0/0/8/8', Memory: '16000', AllocMem: '0', FreeMem: 'N/A', CPUsLoad: '0.01', Gres: 'gpu:a100:4(S:0-1)', GresUsed: 'gpu:a100:0(IDX:N/A)', Features: 'a100,ib', Timestamp: '2026-11-24T07:10:01', Reason: 'bad | cable' };
    const nodes = parseSinfoNodes([line({ ...row, Partition: 'debug*' }), line({ ...row, Partition: 'gpu' })].join('\n'), none());
    assert.equal(nodes.length, 1);
    assert.deepEqual(nodes[0], {
      name: long, state: 'idle', flags: ['drain'], partitions: ['debug', 'gpu'], cpus: 8, allocCpus: 0, memoryBytes: 16000 * 1024 * 1024,
      allocMemoryBytes: 0, freeMemoryBytes: undefined, cpuLoad: 0.01, gres: [{ type: 'gpu', model: 'a100', count: 4 }], gresUsed: [],
      reason: 'bad | cable', reasonChangedAt: 1795504201, features: ['a100', 'ib'],
    });
    assert.equal(SINFO_FORMAT.split(',').length, SINFO_FIELDS.length);
  });

  it('empty output; truncated and garbled lines', () => {
    assert.deepEqual(parseSinfoNodes('', none()), []);
    throwsParse(() => parseSinfoNodes('n1|idle|0/4/0/4', none()), /^sinfo: line 1: line does not end in "\|"/);
    const bad = SINFO_FIELDS.map((f) => (f === 'CPUsState' ? '4' : f === 'NodeList' ? 'n1' : f === 'StateComplete' ? 'idle' : '')).join('|') + '|';
    throwsParse(() => parseSinfoNodes(bad, none()), /sinfo: line 1: CPUsState "4" is not allocated\/idle\/other\/total/);
  });
});
