// A collection thread: the whole pipeline of each cluster it carries (source → poller → snapshots →
// collectors → rendered bytes) runs here, so a 100 MB /jobs answer is parsed beside the event loop that
// serves scrapes, never on it. Each rendered piece goes to the main thread as bytes (its buffer transferred);
// every cluster's state follows every second, which is also how the main thread knows this one is alive.
import { parentPort, workerData } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import type { Logger } from '../logger.ts';
import type { Format } from '../poll/collector-runner.ts';
import type { PreparedPiece } from '../exposition/prepared.ts';
import { type ClusterPipeline, type ClusterState, createClusterPipeline } from '../cluster-pipeline.ts';
import type { ClusterInit, FromWorker, PieceUpdate, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** Log lines go to the main thread's logger (which adds the cluster); what cannot be cloned is sent as text. */
function logger(id: number | undefined): Logger {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: unknown, msg?: string) => {
    if (level === 'debug' && !init.debug) return;
    try {
      send({ t: 'log', id, level, obj, msg });
    } catch {
      send({ t: 'log', id, level, obj: { detail: String(obj) }, msg });
    }
  };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

/** The heap is the thread's, shared by its clusters: each reports it, the page shows it per cluster. */
function withHeap(s: ClusterState): ClusterState {
  const h = getHeapStatistics();
  return { ...s, heap: { used: h.used_heap_size, total: h.total_heap_size } };
}

/** One cluster on this thread: its pipeline, and the pieces rendered since its last update. */
function startCluster(c: ClusterInit): ClusterPipeline {
  let pending: PieceUpdate[] = [];
  const onRendered = (collector: string, format: Format, piece: PreparedPiece | undefined) => {
    // A copy with a buffer of its own: the piece's may be a slice of Node's shared pool, which must not move.
    pending.push({ collector, format, bytes: piece ? new Uint8Array(piece.raw) : null });
  };
  const p = createClusterPipeline(init.identity, c.cfg, logger(c.id), { onRendered, lastKnownCluster: c.lastKnownCluster });
  const flush = () => {
    const pieces = pending;
    pending = [];
    const transfer = pieces.flatMap((x) => (x.bytes ? [x.bytes.buffer as ArrayBuffer] : []));
    send({ t: 'update', id: c.id, state: withHeap(p.state()), pieces }, transfer);
  };
  for (const f of c.formats) p.runner.wantFormat(f);
  // The runner re-renders on every new snapshot before this listener runs (it subscribed first).
  p.store.onChange(flush);
  flushers.set(c.id, flush);
  if (c.active.length) p.poller.activate(c.active);
  flush();
  return p;
}

const flushers = new Map<number, () => void>();
const pipelines = new Map<number, ClusterPipeline>(init.clusters.map((c) => [c.id, startCluster(c)]));
const beat = setInterval(() => send({ t: 'states', states: [...pipelines].map(([id, p]) => ({ id, state: withHeap(p.state()) })) }), 1000);

function handle(m: ToWorker): void {
  if (m.t === 'block') {
    const until = Date.now() + m.ms;
    while (Date.now() < until) {
      // busy: the event loop cannot turn
    }
    return;
  }
  if (m.t === 'stop') {
    clearInterval(beat);
    void Promise.all([...pipelines.values()].map((p) => p.stop())).finally(() => {
      send({ t: 'stopped' });
      port.close();
    });
    return;
  }
  const p = pipelines.get(m.id);
  if (!p) return;
  if (m.t === 'activate') p.poller.activate(m.kinds);
  else if (m.t === 'deactivate') p.poller.deactivate(m.kinds);
  else if (m.t === 'reload') p.reload(m.cfg);
  else {
    p.runner.wantFormat(m.format);
    flushers.get(m.id)?.();
    send({ t: 'format-ready', id: m.id, format: m.format });
  }
}

port.on('message', handle);
