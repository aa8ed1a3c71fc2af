import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_RPC_USERS, schedulerCollector } from '../../src/collectors/scheduler.ts';
import { clusterCollector } from '../../src/collectors/cluster.ts';
import { byLabels, ctx, fam, lab2Diag, scalar } from './collectors-helpers.ts';

describe('scheduler collector', () => {
  it('writes every /diag figure in base units, counters as counters', () => {
    const out = schedulerCollector.collect(ctx({ diag: lab2Diag() }));
    assert.equal(scalar(out, 'slurm_scheduler_cycles_total'), 3);
    assert.equal(fam(out, 'slurm_scheduler_cycles_total').desc.type, 'counter');
    assert.equal(scalar(out, 'slurm_scheduler_cycle_max_seconds'), 0.000937);
    assert.equal(scalar(out, 'slurm_backfill_cycle_last_seconds'), 0.000832);
    assert.equal(scalar(out, 'slurm_scheduler_jobs_pending'), 14);
    assert.equal(scalar(out, 'slurm_scheduler_jobs_submitted_total'), 0);
    assert.equal(scalar(out, 'slurm_backfill_active'), 0);
    assert.equal(scalar(out, 'slurm_backfill_last_cycle_timestamp_seconds'), 1795504212);
    assert.equal(scalar(out, 'slurm_scheduler_stats_reset_timestamp_seconds'), 1795504122);
    // With every field present, every declared family is written.
    assert.equal(out.length, schedulerCollector.metrics.length);
  });

  it('writes RPC statistics by type and by user', () => {
    const out = schedulerCollector.collect(ctx({ diag: lab2Diag() }));
    assert.deepEqual(byLabels(out, 'slurm_rpc_calls_total'), { MESSAGE_NODE_REGISTRATION_STATUS: 8, REQUEST_PARTITION_INFO: 15 });
    assert.deepEqual(byLabels(out, 'slurm_rpc_duration_seconds_total'), { MESSAGE_NODE_REGISTRATION_STATUS: 0.002706, REQUEST_PARTITION_INFO: 0.001932 });
    assert.deepEqual(byLabels(out, 'slurm_rpc_user_calls_total'), { root: 75 });
    assert.equal(scalar(out, 'slurm_rpc_users_folded'), 0);
  });

  it('leaves out figures the API version does not report and maps backfill active to 1', () => {
    const d = lab2Diag();
    d.backfillHeterogeneousJobsTotal = undefined;
    d.backfillLastCycleTime = undefined;
    d.backfillActive = true;
    const out = schedulerCollector.collect(ctx({ diag: d }));
    assert.equal(out.find((f) => f.desc.name === 'slurm_backfill_het_jobs_total'), undefined);
    assert.equal(out.find((f) => f.desc.name === 'slurm_backfill_last_cycle_timestamp_seconds'), undefined);
    assert.equal(scalar(out, 'slurm_backfill_active'), 1);
  });

  it(`keeps the ${MAX_RPC_USERS} busiest users and sums the rest under "other"`, () => {
    const d = lab2Diag();
    d.rpcByUser = Array.from({ length: 80 }, (_, i) => ({ user: `u${i}`, count: 1000 - i, totalTimeSeconds: 1 }));
    const out = schedulerCollector.collect(ctx({ diag: d }));
    const calls = byLabels(out, 'slurm_rpc_user_calls_total');
    assert.equal(Object.keys(calls).length, MAX_RPC_USERS + 1);
    assert.equal(calls.u0, 1000);
    assert.equal(calls.u49, 951);
    assert.equal(calls.u50, undefined);
    let rest = 0;
    for (let i = 50; i < 80; i++) rest += 1000 - i;
    assert.equal(calls.other, rest);
    assert.equal(byLabels(out, 'slurm_rpc_user_duration_seconds_total').other, 30);
    assert.equal(scalar(out, 'slurm_rpc_users_folded'), 30);
  });

  it('merges an RPC type listed twice instead of writing a duplicate series', () => {
    const d = lab2Diag();
    d.rpcByType.push({ name: 'REQUEST_PARTITION_INFO', count: 1, totalTimeSeconds: 0.5 });
    const out = schedulerCollector.collect(ctx({ diag: d }));
    assert.equal(byLabels(out, 'slurm_rpc_calls_total').REQUEST_PARTITION_INFO, 16);
  });
});

describe('cluster collector', () => {
  it('reports each controller, any-up, latency and versions', () => {
    const c = ctx({
      cluster: {
        controllers: [
          { hostname: 'ctl1', status: 'up', mode: 'primary', latencySeconds: 0.001293 },
          { hostname: 'ctl2', status: 'down', mode: 'backup1', latencySeconds: undefined },
        ],
        slurmVersion: '25.11.7',
        apiVersion: 'v0.0.44',
        clusterName: 'lab2',
      },
    });
    const out = clusterCollector.collect(c);
    assert.equal(scalar(out, 'slurm_up'), 1);
    assert.deepEqual(byLabels(out, 'slurm_controller_up'), { 'ctl1,primary': 1, 'ctl2,backup1': 0 });
    assert.deepEqual(byLabels(out, 'slurm_controller_ping_seconds'), { 'ctl1,primary': 0.001293 });
    assert.deepEqual(byLabels(out, 'slurm_info'), { '25.11.7,v0.0.44': 1 });
    assert.deepEqual(c.anomalies, []);
  });

  it('is down when no controller answers, and reports an unknown status', () => {
    const c = ctx({ cluster: { controllers: [{ hostname: 'vm', status: 'weird', mode: 'primary', latencySeconds: undefined }], slurmVersion: '', apiVersion: '', clusterName: '' } });
    const out = clusterCollector.collect(c);
    assert.equal(scalar(out, 'slurm_up'), 0);
    assert.deepEqual(byLabels(out, 'slurm_controller_up'), { 'vm,primary': 0 });
    assert.deepEqual(c.anomalies, ['controller ping status "weird"']);
  });
});
