// Command line: run the exporter (default), check-config, doctor, backup, simulate. Exit codes: 0 ok, 1 runtime failure,
// 2 bad configuration or usage.
import { Command, CommanderError, Option } from 'commander';
import { addConfigOptions, resolveConfig, assertSourceConfigured, renderEffectiveConfig, ConfigError } from './config/load.ts';
import { createLogger } from './log.ts';
import { startExporter, type RunningExporter } from './main.ts';
import { VERSION } from './version.ts';

function fail(message: string): never {
  process.stderr.write(`slurm-exporter: ${message}\n`);
  process.exit(2);
}

async function configFrom(cmd: Command) {
  try {
    return await resolveConfig(cmd.opts(), process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
}

async function run(cmd: Command): Promise<void> {
  const cfg = await configFrom(cmd);
  try {
    assertSourceConfigured(cfg);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const log = createLogger(cfg.log);
  let exporter: RunningExporter;
  try {
    exporter = await startExporter(cfg, log);
  } catch (err) {
    log.error({ err: err instanceof Error ? err.message : String(err) }, 'could not start');
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    // Hard stop if something hangs: an orchestrator's SIGKILL would be worse (no lease release).
    setTimeout(() => process.exit(1), 5000).unref();
    exporter.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  // SIGHUP: read the configuration again (file, environment, the same flags). A bad one is refused with the
  // reason and the running configuration stays.
  let reloading = Promise.resolve();
  process.on('SIGHUP', () => {
    reloading = reloading.then(async () => {
      let next;
      try {
        next = await resolveConfig(cmd.opts(), process.env);
        assertSourceConfigured(next);
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'configuration reload refused; keeping the running configuration');
        return;
      }
      try {
        const restartOnly = await exporter.reload(next);
        log.info({ restart_needed_for: restartOnly.length ? restartOnly.join(', ') : undefined }, 'configuration reloaded');
      } catch (err) {
        log.error({ err: err instanceof Error ? err.message : String(err) }, 'configuration reload refused; keeping the running configuration');
      }
    });
  });
}

export function buildProgram(): Command {
  const program = new Command('slurm-exporter')
    .description('Prometheus exporter for Slurm: collects from slurmrestd on its own schedule and serves /metrics from memory')
    .version(VERSION, '--version')
    .showHelpAfterError()
    .exitOverride();
  addConfigOptions(program).action(async (_opts: unknown, cmd: Command) => run(cmd));

  addConfigOptions(
    program.command('check-config').description('print the effective configuration (secrets redacted); exit 2 on an error'),
  ).action(async (_opts: unknown, cmd: Command) => {
    const cfg = await configFrom(cmd);
    process.stdout.write(renderEffectiveConfig(cfg));
  });

  addConfigOptions(
    program
      .command('doctor')
      .description('check a deployment: configuration, slurmrestd, token, API version, every collector, a running exporter; exit 0 ok, 1 warnings, 2 failures'),
  )
    .addOption(new Option('--output <format>', 'report format').choices(['text', 'json']).default('text'))
    .action(async (_opts: unknown, cmd: Command) => {
      // Loaded only for this command, like the simulator.
      const { runDoctor } = await import('./doctor/run.ts');
      const code = await runDoctor(cmd.opts(), process.env, process.stdout);
      process.stdout.write('', () => process.exit(code));
    });

  program
    .command('backup')
    .description('create, list, verify, restore and prune backups, or run them on a schedule (slurm-exporter backup --help)')
    .helpOption(false)
    .passThroughOptions()
    .allowUnknownOption()
    .argument('[args...]', 'a backup subcommand and its options')
    .action(async (args: string[]) => {
      // Loaded only for this command: the exporter itself never loads the backup tooling.
      const { runBackupCli } = await import('./backup/cli.ts');
      const code = await runBackupCli(args, { out: process.stdout, err: process.stderr, env: process.env });
      process.stdout.write('', () => process.exit(code));
    });

  program
    .command('simulate')
    .description('serve a simulated slurmrestd (API v0.0.38 to v0.0.44) for demos, tests and benchmarks')
    .option('--listen <addr>', 'address to listen on', '127.0.0.1:6820')
    .option('--nodes <n>', 'number of nodes', (v) => parsePositive(v, '--nodes'), 100)
    .option('--jobs <n>', 'number of jobs', (v) => parsePositive(v, '--jobs'), 1000)
    .option('--seed <n>', 'random seed', (v) => parsePositive(v, '--seed'))
    .option('--versions <list>', 'comma-separated API versions to serve (default: all)')
    .option('--jwt-key-file <file>', 'require JWTs signed with this HS256 key')
    .option('--tick <ms>', 'how often states change, in ms', (v) => parsePositive(v, '--tick'), 5000)
    .option('--users <n>', 'distinct users submitting jobs (default 60)', (v) => parsePositive(v, '--users'))
    .option('--accounts <n>', 'accounts the users belong to (default 10)', (v) => parsePositive(v, '--accounts'))
    .action(async (o: { listen: string; nodes: number; jobs: number; seed?: number; versions?: string; jwtKeyFile?: string; tick: number; users?: number; accounts?: number }) => {
      const log = createLogger({ level: 'info', format: 'logfmt' });
      // Loaded only for this command: the exporter itself never imports the simulator.
      const { runSimulateCommand } = await import('./simulator/server.ts');
      await runSimulateCommand(
        {
          listen: o.listen,
          nodes: o.nodes,
          jobs: o.jobs,
          seed: o.seed,
          versions: o.versions?.split(',').map((v) => v.trim()).filter(Boolean),
          jwtKeyFile: o.jwtKeyFile,
          tickMs: o.tick,
          users: o.users,
          accounts: o.accounts,
        },
        log,
      );
    });
  return program;
}

function parsePositive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) fail(`${flag}: "${v}" is not a non-negative integer`);
  return n;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  process.stderr.write(`slurm-exporter: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
