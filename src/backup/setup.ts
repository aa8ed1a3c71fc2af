// From the effective configuration to what the engine needs: destinations, sources, key ring and policies.
// The S3 destination and the Prometheus and Kubernetes sources are imported only when configured.
import type { BackupConfig, BackupDestinationConfig, ExporterConfig } from '../config/types.ts';
import { loadKeyRing, type KeyRing } from './crypto.ts';
import { LocalDestination } from './destinations/local.ts';
import type { Target, TypePolicy } from './engine.ts';
import { certificatesSource, configurationSource, logsSource } from './sources/files.ts';
import { BACKUP_TYPES, type BackupSource, type BackupType, type Destination, type S3DestinationFactory, type SourceFactory } from './types.ts';

// Loaded only when configured (the AWS SDK is heavy). Literal specifiers, so the build rewrites them to .js.
const loadS3 = () => import('./destinations/s3.ts');
const SOURCE_MODULES: Partial<Record<BackupType, () => Promise<{ createSource?: SourceFactory }>>> = {
  monitoring: () => import('./sources/prometheus.ts'),
  deployment: () => import('./sources/kubernetes.ts'),
};

async function s3Destination(name: string, d: BackupDestinationConfig): Promise<Destination> {
  let mod: { createS3Destination?: S3DestinationFactory };
  try {
    mod = await loadS3();
  } catch (err) {
    throw new Error(`backup.${name}: S3 destinations are not available in this build (${(err as Error).message})`, { cause: err });
  }
  if (!mod.createS3Destination) throw new Error(`backup.${name}: S3 destinations are not available in this build`);
  const opts = { name, bucket: d.bucket as string, prefix: d.prefix, forcePathStyle: d.forcePathStyle, ...(d.endpoint ? { endpoint: d.endpoint } : {}), ...(d.region ? { region: d.region } : {}) };
  return mod.createS3Destination(opts);
}

async function target(name: string, d: BackupDestinationConfig): Promise<Target> {
  const dest = d.kind === 'local' ? new LocalDestination(name, d.path as string) : await s3Destination(name, d);
  return { dest, required: d.required, retentionMs: d.retentionMs };
}

/** The configured destinations, primary first. */
export async function buildTargets(b: BackupConfig): Promise<Target[]> {
  const out: Target[] = [];
  if (b.primary) out.push(await target('primary', b.primary));
  if (b.secondary) out.push(await target('secondary', b.secondary));
  if (out.length === 0) throw new UsageError('no backup destination configured: set backup.primary.path (a local directory) or backup.primary.s3.bucket');
  return out;
}

export function policies(b: BackupConfig): Record<BackupType, TypePolicy> {
  return Object.fromEntries(BACKUP_TYPES.map((t) => [t, { ...b.types[t] }])) as Record<BackupType, TypePolicy>;
}

export function keyRing(b: BackupConfig, env: NodeJS.ProcessEnv): Promise<KeyRing | undefined> {
  return loadKeyRing(b.encryption, env);
}

/** The source of one type; configFile is the --config.file in use, backed up unless backup.paths.configFile says otherwise. */
export async function sourceFor(type: BackupType, cfg: ExporterConfig, env: NodeJS.ProcessEnv, configFile: string | undefined): Promise<BackupSource> {
  const p = cfg.backup.paths;
  const webConfigFile = p.webConfigFile ?? cfg.server.webConfigFile;
  if (type === 'configuration') return configurationSource({ ...p, configFile: p.configFile ?? configFile, webConfigFile });
  if (type === 'certificates') return certificatesSource(webConfigFile);
  if (type === 'logs') return logsSource(p.logDir);
  const load = SOURCE_MODULES[type]!;
  let mod: { createSource?: SourceFactory };
  try {
    mod = await load();
  } catch (err) {
    throw new Error(`backup type ${type}: its source is not available in this build (${(err as Error).message})`, { cause: err });
  }
  if (!mod.createSource) throw new Error(`backup type ${type}: its source is not available in this build`);
  return mod.createSource(cfg, env);
}

/** The types a command works on: the one named, else every enabled one. */
export function selectedTypes(b: BackupConfig, type: string | undefined): BackupType[] {
  if (type === undefined) return BACKUP_TYPES.filter((t) => b.types[t].enabled);
  if (!BACKUP_TYPES.includes(type as BackupType)) throw new UsageError(`--type: "${type}" is not one of ${BACKUP_TYPES.join(', ')}`);
  return [type as BackupType];
}

/** A mistake in the command line or configuration: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
