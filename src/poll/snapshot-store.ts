import type { ResourceData, ResourceKind } from '../slurm/model.ts';

/** The newest good data of one kind, with when it was taken. A failed poll never replaces it. */
export interface Snapshot<K extends ResourceKind = ResourceKind> {
  kind: K;
  data: ResourceData[K];
  /** Wall-clock ms when the fetch that produced it started. */
  takenAt: number;
  /** Increases on every stored snapshot; collectors re-render when a needed version changes. */
  version: number;
}

type Listener = (kind: ResourceKind) => void;

export class SnapshotStore {
  private readonly snapshots = new Map<ResourceKind, Snapshot>();
  private readonly listeners: Listener[] = [];
  private seq = 0;

  get<K extends ResourceKind>(kind: K): Snapshot<K> | undefined {
    return this.snapshots.get(kind) as Snapshot<K> | undefined;
  }

  set<K extends ResourceKind>(kind: K, data: ResourceData[K], takenAt: number): Snapshot<K> {
    const snap: Snapshot<K> = { kind, data, takenAt, version: ++this.seq };
    this.snapshots.set(kind, snap as unknown as Snapshot);
    for (const l of this.listeners) l(kind);
    return snap;
  }

  /** Drops data, e.g. when this replica stops leading a group: a standby must not serve old Slurm series. */
  clear(kind: ResourceKind): void {
    if (this.snapshots.delete(kind)) {
      this.seq++;
      for (const l of this.listeners) l(kind);
    }
  }

  onChange(l: Listener): void {
    this.listeners.push(l);
  }
}
