// A progress bar for uploads and downloads, on a terminal only: CI logs and pipes get none.

export interface ProgressBar {
  update(phase: string, bytes: number, total: number): void;
  done(): void;
}

const NONE: ProgressBar = { update: () => undefined, done: () => undefined };

function mib(n: number): string {
  return `${(n / 1048576).toFixed(1)} MiB`;
}

export function progressBar(out: NodeJS.WriteStream): ProgressBar {
  if (!out.isTTY) return NONE;
  let last = 0;
  let shown = false;
  return {
    update(phase, bytes, total) {
      const now = Date.now();
      // Redrawing more than ~10 times a second only costs time.
      if (now - last < 100 && bytes < total) return;
      last = now;
      const frac = total > 0 ? Math.min(1, bytes / total) : 1;
      const width = 30;
      const filled = Math.round(frac * width);
      out.write(`\r${phase.padEnd(28).slice(0, 28)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}% ${mib(bytes)}/${mib(total)}`);
      shown = true;
    },
    done() {
      if (shown) out.write('\n');
      shown = false;
    },
  };
}
