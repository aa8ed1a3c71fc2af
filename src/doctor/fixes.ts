// One line per failed fetch: what to do about it, by the error's kind (the same kinds as the reason label of
// slurm_exporter_api_errors_total).
import type { ExporterConfig, SlurmRestConfig } from '../config/types.ts';
import type { SlurmFetchError } from '../slurm/source.ts';
import { SlurmAuth } from '../slurm/rest/auth.ts';
import { bytes, ms } from './format.ts';

/** What to do when slurmrestd refuses the credential, for the credential in use. */
export function authFix(cfg: SlurmRestConfig): string {
  switch (new SlurmAuth(cfg).mode) {
    case 'key-file':
      return `${cfg.jwtKeyFile} must be this cluster's jwt_hs256.key (slurm.conf AuthAltParameters=jwt_key=) and user ${cfg.user ?? '?'} must exist in Slurm`;
    case 'token-file':
      return `write a token slurmctld accepts to ${cfg.tokenFile}: make it on the controller with \`scontrol token username=<user> lifespan=<seconds>\` (slurm.conf needs AuthAltTypes=auth/jwt)`;
    case 'token':
      return 'give SLURM_JWT a token slurmctld accepts: make it on the controller with `scontrol token username=<user> lifespan=<seconds>` (slurm.conf needs AuthAltTypes=auth/jwt)';
    default:
      return 'slurmrestd wants a token: set SLURM_JWT, --slurm.token-file, or --slurm.jwt-key-file with --slurm.user';
  }
}

export function fetchFix(err: SlurmFetchError, cfg: ExporterConfig, group: string): string {
  const gc = cfg.collectors[group];
  switch (err.kind) {
    case 'auth':
      return authFix(cfg.slurm);
    case 'timeout':
      return `raise collectors.${group}.timeout (now ${ms(gc?.timeoutMs ?? 0)}, below collectors.${group}.interval), or find out why slurmctld is slow (sdiag: server threads, RPC queue)`;
    case 'connect':
      return "slurmrestd dropped the connection while answering: look at its log (journalctl -u slurmrestd) for a crash or restart, or at a proxy in between";
    case 'http':
      return `slurmrestd answered HTTP ${err.status ?? '?'}: look at slurmrestd's log and at any proxy or load balancer between this host and slurmrestd`;
    case 'parse':
      return "the answer is not slurmrestd's JSON: look at it with curl for a proxy in between rewriting it, and at slurmrestd's log";
    case 'too_large':
      return `raise slurm.maxResponseSize (now ${bytes(cfg.slurm.maxResponseBytes)}) above the answer's size, or switch the group off with --no-collector.${group}`;
    case 'slurm':
      return "slurmctld answered with an error (quoted above): check it with `scontrol ping` and slurmctld's log";
    case 'version':
      return 'slurmrestd stopped serving the API version (upgraded?): run doctor again; if it persists, unset slurm.apiVersion';
    default:
      return "look at slurmrestd's log on the controller";
  }
}
