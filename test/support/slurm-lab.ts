// The real Slurm 22.05 lab started by scripts/slurm-lab/start.sh: its environment file and the Slurm CLI
// readings (sinfo, squeue, scontrol) the integration tests compare the exporter with.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { sumBy } from './exporter-process.ts';

export const LAB_DIR = process.env.SLURM_LAB_DIR ?? '/var/lib/slurm-exporter-lab';

export interface LabEnv {
  SLURM_REST_URL: string;
  SLURM_JWT: string;
  SLURM_USER: string;
  SLURM_CONF: string;
  SLURM_CLUSTER: string;
  SLURM_JWT_KEY: string;
  [k: string]: string;
}

/** The lab's slurm.env; throws with what to run when the lab is not up. */
export function readLabEnv(): LabEnv {
  const file = `${LAB_DIR}/slurm.env`;
  if (!existsSync(file)) {
    throw new Error(`no Slurm lab: ${file} is missing. Start it with: sudo bash scripts/slurm-lab/start.sh (npm test does this)`);
  }
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
  }
  for (const k of ['SLURM_REST_URL', 'SLURM_JWT', 'SLURM_CONF', 'SLURM_CLUSTER', 'SLURM_JWT_KEY']) {
    if (!env[k]) throw new Error(`${file} has no ${k}; re-run scripts/slurm-lab/start.sh`);
  }
  return env as LabEnv;
}

/** Runs a Slurm command with munge auth against the lab (SLURM_JWT would switch the CLI to JWT). */
export function slurmCli(lab: LabEnv, cmd: string, args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: lab.SLURM_CONF };
  delete env.SLURM_JWT;
  return execFileSync(cmd, args, { env, encoding: 'utf8', timeout: 20_000 });
}

function inc(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Base state of each node sinfo lists, from scontrol (sinfo folds drain into "drained"/"draining"). */
export function nodeBaseStates(lab: LabEnv): Map<string, string> {
  const listed = new Set(slurmCli(lab, 'sinfo', ['-N', '-h', '-o', '%N']).split('\n').filter(Boolean));
  const out = new Map<string, string>();
  for (const line of slurmCli(lab, 'scontrol', ['show', 'node', '-o']).split('\n')) {
    const name = /^NodeName=(\S+)/.exec(line)?.[1];
    const state = /\bState=(\S+)/.exec(line)?.[1];
    if (!name || !state || !listed.has(name)) continue;
    out.set(name, state.split('+')[0]!.replace(/[*~#!%$@^-]+$/, '').toLowerCase());
  }
  return out;
}

/** What slurm_nodes{state} must say: nodes by base state. */
export function nodesByState(lab: LabEnv): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of nodeBaseStates(lab).values()) inc(m, s);
  return m;
}

/** What slurm_partition_nodes{partition,state} must say, keyed `partition/state`. */
export function partitionNodesByState(lab: LabEnv): Map<string, number> {
  const states = nodeBaseStates(lab);
  const m = new Map<string, number>();
  for (const line of slurmCli(lab, 'sinfo', ['-N', '-h', '-o', '%P %N']).split('\n')) {
    const [part, node] = line.trim().split(/\s+/);
    if (!part || !node) continue;
    inc(m, `${part.replace(/\*$/, '')}/${states.get(node) ?? 'unknown'}`);
  }
  return m;
}

/** What slurm_jobs{state} must say: every job slurmctld holds, by lower-case state. */
export function jobsByState(lab: LabEnv): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of slurmCli(lab, 'squeue', ['-h', '-t', 'all', '-o', '%T']).split('\n')) if (s.trim()) inc(m, s.trim().toLowerCase());
  return m;
}

function nonZero(m: Map<string, number>): Map<string, number> {
  return new Map([...m].filter(([, v]) => v !== 0).sort(([a], [b]) => a.localeCompare(b)));
}

function sorted(m: Map<string, number>): Map<string, number> {
  return new Map([...m].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * slurm_nodes{state}, slurm_partition_nodes{partition,state} and slurm_jobs{state} on the exporter's page equal
 * what sinfo, scontrol and squeue say. The workload moves (a job times out after a minute or two): compare only
 * when the CLI reads the same before and after the scrape, and the exporter has polled since the first reading.
 */
export async function assertAgreesWithCli(lab: LabEnv, scrape: () => Promise<string>, cluster = 'lab'): Promise<void> {
  let last = '';
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = { nodes: nodesByState(lab), parts: partitionNodesByState(lab), jobs: jobsByState(lab) };
    await new Promise((r) => setTimeout(r, 2500));
    const text = await scrape();
    if (JSON.stringify([...sorted(jobsByState(lab))]) !== JSON.stringify([...sorted(before.jobs)]) || JSON.stringify([...sorted(nodesByState(lab))]) !== JSON.stringify([...sorted(before.nodes)])) {
      last = 'the cluster changed during the reading';
      continue;
    }
    const nodes = nonZero(sumBy(text, 'slurm_nodes', 'state', { cluster }));
    const jobs = nonZero(sumBy(text, 'slurm_jobs', 'state', { cluster }));
    const parts = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^slurm_partition_nodes\{cluster="([^"]+)",partition="([^"]+)",state="([^"]+)"\} (\d+)$/.exec(line);
      if (m && m[1] === cluster && m[4] !== '0') parts.set(`${m[2]}/${m[3]}`, Number(m[4]));
    }
    try {
      assert.deepEqual(nodes, sorted(before.nodes), 'slurm_nodes vs scontrol/sinfo');
      assert.deepEqual(sorted(parts), sorted(before.parts), 'slurm_partition_nodes vs sinfo -N');
      assert.deepEqual(jobs, sorted(before.jobs), 'slurm_jobs vs squeue -t all');
      // The lab's shape: 6 nodes listed (f1 is FUTURE: neither sinfo nor 22.05's REST lists it), jobs in 5 states.
      assert.equal([...nodes.values()].reduce((a, b) => a + b, 0), 6);
      assert.ok(jobs.get('running')! > 0 && jobs.get('pending')! > 0, 'running and pending jobs exist');
      return;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  assert.fail(`no agreeing reading in 10 attempts; last: ${last}`);
}
