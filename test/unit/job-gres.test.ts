// Whole-job GRES by type and model (SlurmJob.gres) on every captured API version, checked two ways: against a
// table read off `scontrol show jobs` of the same capture by hand, and against what the capture's scontrol
// answer says when read independently of the adapter. The captures only hold jobs that asked with --gres and no
// model; --gpus, --gpus-per-node, --gpus-per-task, typed TRES and count-only GRES are real records edited.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { adapterFor } from '../../src/slurm/rest/adapters/index.ts';
import type { GresCount, SlurmJob } from '../../src/slurm/model.ts';

const FIX = new URL('../fixtures/', import.meta.url);
type Rec = Record<string, unknown>;

const read = (rel: string): string => readFileSync(new URL(rel, FIX), 'utf8');
const jobsOf = (rel: string): Rec[] => (JSON.parse(read(rel)) as { jobs: Rec[] }).jobs;

function convert(version: string, raw: Rec): SlurmJob {
  const j = adapterFor(version)!.job(raw, { unknown: [] });
  assert.ok(j, 'job converts');
  return j;
}

/** `gpu/a100/2` per job id, only jobs with GRES. */
function table(version: string, records: Rec[]): Record<number, string> {
  const out: Record<number, string> = {};
  for (const r of records) {
    const j = convert(version, r);
    assert.equal(j.gpus, j.gres.filter((g) => g.type === 'gpu').reduce((s, g) => s + g.count, 0), `job ${j.jobId}: gpus agrees with gres`);
    if (j.gres.length) out[j.jobId] = j.gres.map((g) => `${g.type}/${g.model}/${g.count}`).join(',');
  }
  return out;
}

// Read off scontrol show jobs: 22.05 TRES=...gres/gpu=1 TresPerNode=gres:gpu:tesla:1 (jobs 5, 11);
// 25.x GRES=gpu:fakegpu:1(IDX:0) on running jobs 2 and 3, TresPerNode=gres/gpu:2 (no model) on pending 10, 11.
const OLD = { 5: 'gpu/tesla/1', 11: 'gpu/tesla/2' };
const NEW = { 2: 'gpu/fakegpu/1', 3: 'gpu/fakegpu/2', 10: 'gpu//2', 11: 'gpu//2' };

const CASES: { version: string; jobs: string; want: Record<number, string> }[] = [
  { version: 'v0.0.38', jobs: 'slurm-22.05/slurm_v0.0.38_jobs.json', want: OLD },
  ...['v0.0.40', 'v0.0.41', 'v0.0.42', 'v0.0.43'].map((v) => ({ version: v, jobs: `slurm-25.05.8/rest_${v}_slurm_jobs.json`, want: NEW })),
  ...['v0.0.41', 'v0.0.42', 'v0.0.43', 'v0.0.44'].map((v) => ({ version: v, jobs: `slurm-25.11.7/rest_${v}_slurm_jobs.json`, want: NEW })),
];

/** 22.05's `scontrol -o show jobs`: GPUs from TRES=, model from TresPerNode=gres:gpu:<model>:<n>. */
function scontrolOld(): Record<number, string> {
  const out: Record<number, string> = {};
  for (const line of read('slurm-22.05/cli/scontrol_show_jobs_o.txt').split('\n')) {
    const id = /^JobId=(\d+) /.exec(line)?.[1];
    const gpus = /TRES=\S*gres\/gpu=(\d+)/.exec(line)?.[1];
    if (!id || !gpus) continue;
    const model = /TresPerNode=gres:gpu:([^:\s]+):\d+/.exec(line)?.[1] ?? '';
    out[Number(id)] = `gpu/${model}/${gpus}`;
  }
  return out;
}

/** 25.x `scontrol show jobs --json`: GPUs from the TRES, model from gres_detail (running) or tres_per_node. */
function scontrolNew(dir: string): Record<number, string> {
  const out: Record<number, string> = {};
  for (const j of jobsOf(`${dir}/cli_scontrol_show_jobs.json`)) {
    const tres = String(j.tres_alloc_str || j.tres_req_str);
    const gpus = /gres\/gpu=(\d+)/.exec(tres)?.[1];
    if (!gpus) continue;
    const detail = (j.gres_detail as string[])[0] ?? '';
    const model = /^gpu:([^:]+):\d+/.exec(detail)?.[1] ?? /gpu:([^:]+):\d+/.exec(String(j.tres_per_node))?.[1] ?? '';
    out[j.job_id as number] = `gpu/${model}/${gpus}`;
  }
  return out;
}

describe('job GRES by type and model, every captured API version', () => {
  for (const c of CASES) {
    it(`${c.version} (${c.jobs.split('/')[0]})`, () => {
      const got = table(c.version, jobsOf(c.jobs));
      assert.deepEqual(got, c.want);
      const dir = c.jobs.split('/')[0]!;
      const fromCli = dir === 'slurm-22.05' ? scontrolOld() : scontrolNew(dir);
      assert.deepEqual(got, fromCli, 'agrees with scontrol show jobs of the same capture');
    });
  }
});

// ---- records edited from the real 25.11 (v0.0.44) answer ----------------------------------------------------

const REAL = jobsOf('slurm-25.11.7/rest_v0.0.44_slurm_jobs.json');
const PENDING = REAL.find((j) => j.job_id === 10)!;
const RUNNING = REAL.find((j) => j.job_id === 2)!;
const n = (v: number) => ({ set: true, infinite: false, number: v });

function edited(base: Rec, o: Rec): GresCount[] {
  const j = convert('v0.0.44', { ...base, ...o });
  assert.equal(j.gpus, j.gres.filter((g) => g.type === 'gpu').reduce((s, g) => s + g.count, 0), 'gpus agrees with gres');
  return j.gres;
}

const g = (type: string, model: string, count: number): GresCount => ({ type, model, count });

describe('job GRES for each way of asking', () => {
  it('pending --gpus=a100:4 (tres_per_job) over 2 nodes', () => {
    const got = edited(PENDING, { tres_per_job: 'gres/gpu:a100:4', tres_per_node: '', node_count: n(2), tres_req_str: 'cpu=2,mem=1000M,node=2,billing=2,gres/gpu=4' });
    assert.deepEqual(got, [g('gpu', 'a100', 4)]);
  });

  it('pending --gpus-per-node=h100:2 -N 3 multiplies by the node count', () => {
    const got = edited(PENDING, { tres_per_node: 'gres/gpu:h100:2', node_count: n(3), tres_req_str: 'cpu=3,mem=1500M,node=3,billing=3,gres/gpu=6' });
    assert.deepEqual(got, [g('gpu', 'h100', 6)]);
  });

  it('pending --gres=gpu:a100:2 with the typed TRES tracked too does not count twice', () => {
    const got = edited(PENDING, { tres_per_node: 'gres/gpu:a100:2', tres_req_str: 'cpu=1,mem=500M,node=1,billing=1,gres/gpu=2,gres/gpu:a100=2' });
    assert.deepEqual(got, [g('gpu', 'a100', 2)]);
  });

  it('pending --gpus-per-task=1 -n 4 multiplies by the task count, also when gres/gpu is not an accounted TRES', () => {
    assert.deepEqual(edited(PENDING, { tres_per_node: '', tres_per_task: 'gres/gpu:1', tasks: n(4), tres_req_str: 'cpu=4,mem=2000M,node=1,billing=4,gres/gpu=4' }), [g('gpu', '', 4)]);
    assert.deepEqual(edited(PENDING, { tres_per_node: '', tres_per_task: 'gres/gpu:1', tasks: n(4), tres_req_str: 'cpu=4,mem=2000M,node=1,billing=4' }), [g('gpu', '', 4)]);
  });

  it('running --gpus=4 on two nodes of different models takes the models from gres_detail', () => {
    const got = edited(RUNNING, { tres_per_node: '', tres_per_job: 'gres/gpu:4', node_count: n(2), tres_alloc_str: 'cpu=2,mem=1000M,node=2,billing=2,gres/gpu=4', gres_detail: ['gpu:a100:2(IDX:0-1)', 'gpu:h100:2(IDX:2-3)'] });
    assert.deepEqual(got, [g('gpu', 'a100', 2), g('gpu', 'h100', 2)]);
  });

  it('running with one model tracked as TRES and another not: the TRES total wins, gres_detail names the rest', () => {
    const got = edited(RUNNING, { tres_alloc_str: 'cpu=2,mem=1000M,node=2,billing=2,gres/gpu=4,gres/gpu:h100=2', gres_detail: ['gpu:h100:2(IDX:0-1)', 'gpu:a100:2(IDX:0-1)'] });
    assert.deepEqual(got, [g('gpu', 'h100', 2), g('gpu', 'a100', 2)]);
  });

  it('running without gres_detail falls back to the model the request named (22.05 style request string)', () => {
    const got = edited(RUNNING, { tres_per_node: 'gres:gpu:tesla:2', tres_alloc_str: 'cpu=1,mem=500M,node=1,billing=1,gres/gpu=2', gres_detail: [] });
    assert.deepEqual(got, [g('gpu', 'tesla', 2)]);
  });

  it('count-only GRES (mps(CNT:50)) and shards that are not accounted TRES come from gres_detail', () => {
    const got = edited(RUNNING, { tres_per_node: 'gres/mps:50,gres/shard:2', tres_alloc_str: 'cpu=1,mem=500M,node=1,billing=1', gres_detail: ['mps(CNT:50),shard:a100:2(2/8,0/8)'] });
    assert.deepEqual(got, [g('mps', '', 50), g('shard', 'a100', 2)]);
  });

  it('a job without GRES has none and 0 GPUs', () => {
    const plain = REAL.find((j) => j.job_id === 1)!;
    const j = convert('v0.0.44', plain);
    assert.deepEqual(j.gres, []);
    assert.equal(j.gpus, 0);
  });
});
