/** A labelled counter kept as a Map keyed by joined label values; rendered at scrape time. */
export class LabelledCounter {
  private readonly values = new Map<string, { labels: string[]; value: number }>();

  inc(labels: string[], by = 1): void {
    const key = labels.join('\u0000');
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels: [...labels], value: by });
  }

  get(labels: string[]): number {
    return this.values.get(labels.join('\u0000'))?.value ?? 0;
  }

  entries(): { labels: string[]; value: number }[] {
    return [...this.values.values()];
  }
}
