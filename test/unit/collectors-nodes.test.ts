import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodesCollector } from '../../src/collectors/nodes.ts';
import { MB, byLabels, ctx, fam, gres, lab2Nodes, node, nonZero, scalar } from './collectors-helpers.ts';

describe('nodes collector, Slurm 25.11 lab scenario', () => {
  const out = nodesCollector.collect(ctx({ nodes: lab2Nodes() }));

  it('counts nodes by base state, with zeros for the standard states', () => {
    assert.deepEqual(byLabels(out, 'slurm_nodes'), { idle: 2, mixed: 2, allocated: 2, down: 1, error: 0, future: 0, unknown: 0 });
  });

  it('counts flags, one node under each of its flags, zeros for the common ones', () => {
    const flags = byLabels(out, 'slurm_nodes_with_flag');
    assert.deepEqual(nonZero(flags), { drain: 2, not_responding: 1, planned: 2 });
    assert.equal(flags.maintenance, 0);
    assert.equal(flags.powered_down, 0);
  });

  it('tells drained (idle+drain) from draining (allocated+drain)', () => {
    assert.equal(scalar(out, 'slurm_nodes_drained'), 1); // n7
    assert.equal(scalar(out, 'slurm_nodes_draining'), 1); // n4
  });

  it('sums CPUs as allocated + idle + unavailable', () => {
    assert.equal(scalar(out, 'slurm_cpus'), 28);
    assert.equal(scalar(out, 'slurm_cpus_allocated'), 13);
    assert.equal(scalar(out, 'slurm_cpus_idle'), 7); // n1 1, n2 2, n6 4
    assert.equal(scalar(out, 'slurm_cpus_unavailable'), 8); // n5 (down) 4, n7 (drained) 4
  });

  it('reports memory in bytes and GPUs/GRES by type and model', () => {
    assert.equal(scalar(out, 'slurm_memory_bytes'), 48000 * MB);
    assert.equal(scalar(out, 'slurm_memory_allocated_bytes'), 8500 * MB);
    assert.equal(scalar(out, 'slurm_gpus'), 4);
    assert.equal(scalar(out, 'slurm_gpus_allocated'), 3);
    assert.deepEqual(byLabels(out, 'slurm_gres'), { 'gpu,fakegpu': 4 });
    assert.deepEqual(byLabels(out, 'slurm_gres_allocated'), { 'gpu,fakegpu': 3 });
  });

  it('writes one state series per node with sorted flags', () => {
    assert.deepEqual(byLabels(out, 'slurm_node_state_info'), {
      'n1,mixed,planned': 1,
      'n2,mixed,planned': 1,
      'n3,allocated,': 1,
      'n4,allocated,drain': 1,
      'n5,down,not_responding': 1,
      'n6,idle,': 1,
      'n7,idle,drain': 1,
    });
  });

  it('writes reasons only for nodes with one, with the time it was set', () => {
    assert.deepEqual(byLabels(out, 'slurm_node_reason_info'), {
      'n4,bad DIMM slot B2, replace before next job': 1,
      'n5,PSU failure, ticket #4711': 1,
      'n7,firmware upgrade pending': 1,
    });
    assert.deepEqual(byLabels(out, 'slurm_node_reason_since_timestamp_seconds'), { n4: 1795503000, n5: 1795502000, n7: 1795501000 });
  });

  it('writes per-node resources, leaving out what Slurm did not report', () => {
    assert.equal(byLabels(out, 'slurm_node_cpus_allocated').n1, 3);
    assert.equal(byLabels(out, 'slurm_node_memory_bytes').n3, 8000 * MB);
    assert.equal(byLabels(out, 'slurm_node_memory_allocated_bytes').n4, 2000 * MB);
    assert.deepEqual(byLabels(out, 'slurm_node_memory_free_bytes'), { n1: 22627 * MB });
    assert.deepEqual(byLabels(out, 'slurm_node_cpu_load'), { n1: 3.21 });
    assert.deepEqual(byLabels(out, 'slurm_node_gres'), { 'n1,gpu,fakegpu': 2, 'n2,gpu,fakegpu': 2 });
    assert.deepEqual(byLabels(out, 'slurm_node_gres_allocated'), { 'n1,gpu,fakegpu': 1, 'n2,gpu,fakegpu': 2 });
    assert.deepEqual(byLabels(out, 'slurm_node_features_info'), { 'n1,fast,gpu': 1, 'n2,fast,gpu': 1 });
  });
});

describe('nodes collector, Slurm 22.05 lab scenario', () => {
  const nodes = [
    node('c1', 'allocated', [], { cpus: 4, allocCpus: 4 }),
    node('c2', 'mixed', [], { cpus: 8, allocCpus: 2, memoryBytes: 8000 * MB }),
    node('c3', 'mixed', ['drain'], { cpus: 4, allocCpus: 1, reason: 'lab: draining for maintenance' }),
    node('c4', 'idle', ['drain', 'reserved'], { reason: 'lab: bad DIMM' }),
    node('g1', 'mixed', [], { cpus: 8, allocCpus: 1, gres: gres('gpu:tesla:2'), gresUsed: gres('gpu:tesla:1') }),
    node('d1', 'down', ['not_responding'], { reason: 'lab: powered off' }),
  ];
  const out = nodesCollector.collect(ctx({ nodes }));

  it('counts states and flags', () => {
    assert.deepEqual(nonZero(byLabels(out, 'slurm_nodes')), { allocated: 1, mixed: 3, idle: 1, down: 1 });
    assert.deepEqual(nonZero(byLabels(out, 'slurm_nodes_with_flag')), { drain: 2, reserved: 1, not_responding: 1 });
    assert.equal(scalar(out, 'slurm_nodes_drained'), 1); // c4
    assert.equal(scalar(out, 'slurm_nodes_draining'), 1); // c3
  });

  it('counts the free CPUs of drained and down nodes as unavailable', () => {
    // c3 (draining) 3 free, c4 (drained) 4, d1 (down) 4 are unavailable; c2 6 and g1 7 are idle.
    assert.equal(scalar(out, 'slurm_cpus_unavailable'), 11);
    assert.equal(scalar(out, 'slurm_cpus_idle'), 13);
    assert.equal(scalar(out, 'slurm_gpus'), 2);
    assert.equal(scalar(out, 'slurm_gpus_allocated'), 1);
    assert.deepEqual(byLabels(out, 'slurm_node_state_info')['c4,idle,drain,reserved'], 1);
  });
});

describe('nodes collector, edge cases', () => {
  it('passes an unknown state and flag through as label values without reporting them again', () => {
    const c = ctx({ nodes: [node('x1', 'rebooting_quantum', ['shiny']), node('x2', 'rebooting_quantum', [])] });
    const out = nodesCollector.collect(c);
    assert.equal(byLabels(out, 'slurm_nodes').rebooting_quantum, 2);
    assert.equal(byLabels(out, 'slurm_nodes_with_flag').shiny, 1);
    // The adapter reports unknown words once when it reads them (resource-framework.test.ts); the collector
    // passes them through without reporting them a second time.
    assert.deepEqual(c.anomalies, []);
  });

  it('knows the newer states seen in real data without calling them anomalies', () => {
    const c = ctx({
      nodes: [
        node('a', 'idle', ['powered_down']),
        node('b', 'idle', ['reserved', 'maintenance']),
        node('c', 'mixed', ['planned']),
        node('d', 'future', []),
      ],
    });
    const out = nodesCollector.collect(c);
    assert.deepEqual(c.anomalies, []);
    assert.equal(byLabels(out, 'slurm_nodes').future, 1);
    assert.equal(byLabels(out, 'slurm_nodes_with_flag').powered_down, 1);
  });

  it('cuts reasons to maxReasonLength without splitting a character', () => {
    const out = nodesCollector.collect(ctx({ nodes: [node('a', 'down', [], { reason: 'ab😀cdef' })] }, { maxReasonLength: 3 }));
    assert.deepEqual(byLabels(out, 'slurm_node_reason_info'), { 'a,ab😀': 1 });
  });

  it('writes no reason series when maxReasonLength is 0, and no per-node series when perNode is off', () => {
    const nodes = [node('a', 'down', [], { reason: 'x', reasonChangedAt: 5 })];
    const noReason = nodesCollector.collect(ctx({ nodes }, { maxReasonLength: 0 }));
    assert.equal(fam(noReason, 'slurm_node_reason_info').samples.length, 0);
    const off = nodesCollector.collect(ctx({ nodes }, { perNode: false }));
    assert.ok(off.every((f) => !f.desc.labels.includes('node')), 'no family with a node label');
    assert.equal(byLabels(off, 'slurm_nodes').down, 1);
  });

  it('counts a node with a flag listed twice once', () => {
    const out = nodesCollector.collect(ctx({ nodes: [node('a', 'idle', ['drain', 'drain'])] }));
    assert.equal(byLabels(out, 'slurm_nodes_with_flag').drain, 1);
    assert.equal(byLabels(out, 'slurm_node_state_info')['a,idle,drain'], 1);
  });

  it('returns nothing before the first nodes snapshot', () => {
    assert.deepEqual(nodesCollector.collect(ctx({})), []);
  });
});
