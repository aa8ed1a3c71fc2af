// The real Slurm 22.05 lab started by scripts/slurm-lab/start.sh: its environment file and the Slurm CLI
// readings (sinfo, squeue, scontrol) the integration tests compare the exporter with.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

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
