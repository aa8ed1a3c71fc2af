// Two sources as one: the kinds `extra` serves (slurmctld's native metrics beside slurmrestd or the CLI) go
// to it, everything else to the main source. Each keeps its own failures: slurmctld's metrics port being
// down costs the native collector, not the job collectors.
import type { ResourceKind } from './model.ts';
import type { FetchResult, SlurmSource } from './source.ts';

export class RoutedSource implements SlurmSource {
  private readonly main: SlurmSource;
  private readonly extra: SlurmSource;
  private readonly extraKinds: ReadonlySet<ResourceKind>;

  constructor(main: SlurmSource, extra: SlurmSource, extraKinds: readonly ResourceKind[]) {
    this.main = main;
    this.extra = extra;
    this.extraKinds = new Set(extraKinds);
  }

  describe(): string {
    return `${this.main.describe()}, with ${this.extra.describe()} for ${[...this.extraKinds].join(', ')}`;
  }

  async init(signal: AbortSignal): Promise<void> {
    // Neither may fail the other's kinds: both sources negotiate again on their own fetches after a failure.
    await Promise.allSettled([this.main.init(signal), this.extra.init(signal)]);
  }

  fetch<K extends ResourceKind>(kind: K, signal: AbortSignal): Promise<FetchResult<K>> {
    return (this.extraKinds.has(kind) ? this.extra : this.main).fetch(kind, signal);
  }

  async close(): Promise<void> {
    await Promise.all([this.main.close(), this.extra.close()]);
  }
}
