// A cluster's collection thread: the whole pipeline (source → poller → snapshots → collectors → rendered
// bytes) runs here, so a 100 MB /jobs answer is parsed beside the event loop that serves scrapes, never on it.
// Each rendered piece goes to the main thread as bytes (its buffer transferred); the state the exporter's own
// metrics and /ready read follows every second, which is also how the main thread knows this one is alive.
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger } from '../logger.ts';
import type { Format } from '../poll/collector-runner.ts';
import type { PreparedPiece } from '../exposition/prepared.ts';
import { createClusterPipeline } from '../cluster-pipeline.ts';
import type { FromWorker, PieceUpdate, ToWorker, WorkerInit } from './protocol.ts';

const port = parentPort!;
const init = workerData as WorkerInit;
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

/** Log lines go to the main thread's logger; what cannot be cloned is sent as text. */
function forward(level: 'debug' | 'info' | 'warn' | 'error') {
  return (obj: unknown, msg?: string) => {
    if (level === 'debug' && !init.debug) return;
    try {
      send({ t: 'log', level, obj, msg });
    } catch {
      send({ t: 'log', level, obj: { detail: String(obj) }, msg });
    }
  };
}
const log: Logger = { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };

let pending: PieceUpdate[] = [];
const onRendered = (collector: string, format: Format, piece: PreparedPiece | undefined) => {
  // A copy with a buffer of its own: the piece's may be a slice of Node's shared pool, which must not move.
  pending.push({ collector, format, bytes: piece ? new Uint8Array(piece.raw) : null });
};
const pipeline = createClusterPipeline(init.identity, init.cfg, log, { onRendered, lastKnownCluster: init.lastKnownCluster });

/** The pieces rendered since the last update, with the state now. */
const flush = () => {
  const pieces = pending;
  pending = [];
  const transfer = pieces.flatMap((p) => (p.bytes ? [p.bytes.buffer as ArrayBuffer] : []));
  send({ t: 'update', state: pipeline.state(), pieces }, transfer);
};
for (const f of init.formats) pipeline.runner.wantFormat(f);
// The runner re-renders on every new snapshot before this listener runs (it subscribed first).
pipeline.store.onChange(flush);
// The state every second regardless (poll failures change no snapshot), which is also the sign of life.
const beat = setInterval(() => send({ t: 'state', state: pipeline.state() }), 1000);
flush();

port.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'activate':
      return pipeline.poller.activate(m.kinds);
    case 'deactivate':
      return pipeline.poller.deactivate(m.kinds);
    case 'format':
      pipeline.runner.wantFormat(m.format);
      flush();
      return send({ t: 'format-ready', format: m.format });
    case 'reload':
      return pipeline.reload(m.cfg);
    case 'block': {
      const until = Date.now() + m.ms;
      while (Date.now() < until) {
        // busy: the event loop cannot turn
      }
      return;
    }
    case 'stop':
      clearInterval(beat);
      void pipeline.stop().finally(() => {
        send({ t: 'stopped' });
        port.close();
      });
  }
});
