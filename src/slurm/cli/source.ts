// The Slurm commands as a SlurmSource, for sites without slurmrestd. Each resource kind is one command
// (commands.ts): its --json output goes through the same streaming reader and adapters as slurmrestd's
// answers, its text output through the parsers in parse/. What the installed Slurm offers is detected at
// start and again when a binary changes; a command runs at most once at a time and dies with its process
// group when the collector's timeout ends it.
import type { Logger } from '../../logger.ts';
import type { ResourceData, ResourceKind } from '../model.ts';
import { type FetchResult, type SlurmSource, SlurmFetchError } from '../source.ts';
import { adapterFor } from '../rest/adapters/index.ts';
import { readResource } from '../rest/read-resource.ts';
import { type Capabilities, detect, fingerprintOf } from './capabilities.ts';
import { type Plan, planFor } from './commands.ts';
import { type RunOptions, commandLine, runCommand, runText } from './run.ts';

export interface CliSourceOptions {
  /** Directory holding sinfo, squeue, scontrol, sdiag and sshare; undefined searches PATH. */
  binDir: string | undefined;
  /** SLURM_CONF for the commands; undefined leaves the environment's. */
  slurmConf: string | undefined;
  maxResponseBytes: number;
  /** Forces a JSON layout (`--json=v0.0.41`) where the release accepts one. */
  apiVersion: string | undefined;
}

export class CliSource implements SlurmSource {
  private readonly opts: CliSourceOptions;
  private readonly log: Logger;
  private readonly run: RunOptions;
  private caps: Capabilities | undefined;
  private detecting: Promise<Capabilities> | undefined;
  private readonly inFlight = new Map<ResourceKind, Promise<FetchResult<ResourceKind>>>();

  constructor(opts: CliSourceOptions, log: Logger) {
    this.opts = opts;
    this.log = log;
    this.run = { env: opts.slurmConf === undefined ? {} : { SLURM_CONF: opts.slurmConf }, maxBytes: opts.maxResponseBytes };
  }

  describe(): string {
    const c = this.caps;
    const where = this.opts.binDir ?? 'PATH';
    if (!c) return `Slurm commands in ${where} (not detected yet)`;
    const json = c.json.size ? `--json ${c.dataParser} for ${[...c.json].join(', ')}` : 'text output only';
    return `Slurm ${c.release} commands in ${where} (${json})`;
  }

  async init(signal: AbortSignal): Promise<void> {
    await this.capabilities(signal);
  }

  async close(): Promise<void> {
    // Commands in flight are ended by their signal (shutdown aborts every poll).
  }

  /** Detected once; detected again when any binary's size or mtime changed (a Slurm upgrade). */
  private async capabilities(signal: AbortSignal): Promise<Capabilities> {
    if (this.caps && fingerprintOf(Object.values(this.caps.paths)) === this.caps.fingerprint) return this.caps;
    this.detecting ??= detect(this.opts.binDir, signal, this.run)
      .then((caps) => {
        const before = this.caps;
        this.caps = this.forced(caps);
        this.log.info({ release: this.caps.release, json: [...this.caps.json].join(',') || 'none', dataParser: this.caps.dataParser ?? 'none', was: before?.release }, before ? 'Slurm commands changed; detected again' : 'Slurm commands detected');
        return this.caps;
      })
      .finally(() => (this.detecting = undefined));
    return this.detecting;
  }

  private forced(caps: Capabilities): Capabilities {
    const v = this.opts.apiVersion;
    if (v === undefined || caps.json.size === 0) return caps;
    if (!adapterFor(v)) throw new SlurmFetchError('version', `slurm.apiVersion ${v} is not a JSON layout this exporter reads`);
    return { ...caps, dataParser: adapterFor(v)!.version, pinned: true };
  }

  async fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    // At most one run of a command at a time: a second caller shares the run in flight.
    const running = this.inFlight.get(kind);
    if (running) return running as Promise<FetchResult<K>>;
    const p = this.fetchOnce(kind, signal).finally(() => this.inFlight.delete(kind));
    this.inFlight.set(kind, p);
    return p;
  }

  private async fetchOnce<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    const caps = await this.capabilities(signal);
    const plan = planFor(kind, caps);
    if (!plan) throw new SlurmFetchError('unsupported', `${kind}: no Slurm command provides it to the CLI source`);
    try {
      const result = plan.mode === 'json' ? await this.readJson(kind, plan, caps, signal) : await this.readText(kind, plan, signal);
      return this.withCluster(kind, result, caps);
    } catch (err) {
      // The collector's timeout ended the command: say so, rather than how the reader noticed.
      if (signal.aborted && signal.reason instanceof SlurmFetchError) throw signal.reason;
      throw err;
    }
  }

  private async readJson<K extends ResourceKind>(kind: K, plan: Plan<K> & { mode: 'json' }, caps: Capabilities, signal: AbortSignal): Promise<FetchResult<K>> {
    const adapter = adapterFor(caps.dataParser!)!;
    const args = [...plan.args, caps.pinned ? `--json=${adapter.version}` : '--json'];
    const cmd = runCommand(plan.file, args, signal, this.run);
    return readResource(kind, adapter, cmd.stdout, { maxBytes: this.opts.maxResponseBytes, signal }, commandLine(plan.file, args));
  }

  private async readText<K extends ResourceKind>(kind: K, plan: Plan<K> & { mode: 'text' }, signal: AbortSignal): Promise<FetchResult<K>> {
    const anomalies = { unknown: [] };
    const { text, bytes } = await runText(plan.file, plan.args, signal, this.run);
    return { data: plan.parse(text, anomalies), anomalies, bytes, requests: 1 };
  }

  /** The ping carries the release and cluster name the commands themselves do not print. */
  private withCluster<K extends ResourceKind>(kind: K, result: FetchResult<K>, caps: Capabilities): FetchResult<K> {
    if (kind !== 'cluster') return result;
    const info = result.data as ResourceData['cluster'];
    const data: ResourceData['cluster'] = { ...info, slurmVersion: info.slurmVersion || caps.release, clusterName: info.clusterName || caps.clusterName, apiVersion: '' };
    return { ...result, data: data as ResourceData[K] };
  }
}
