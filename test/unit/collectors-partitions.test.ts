import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { partitionsCollector } from '../../src/collectors/partitions.ts';
import { nodesCollector } from '../../src/collectors/nodes.ts';
import { MB, byLabels, ctx, job, lab2Jobs, lab2Nodes, lab2Partitions, node, nonZero, partition, scalar } from './collectors-helpers.ts';

describe('partitions collector, Slurm 25.11 lab scenario', () => {
  const data = { partitions: lab2Partitions(), nodes: lab2Nodes(), jobs: lab2Jobs() };
  const c = ctx(data);
  const out = partitionsCollector.collect(c);

  it('counts each partition\'s nodes by base state, zeros included', () => {
    const s = byLabels(out, 'slurm_partition_nodes');
    assert.deepEqual(nonZero(s), {
      'debug,mixed': 2, 'debug,allocated': 2,
      'gpu,mixed': 2,
      'long,allocated': 2, 'long,down': 1, 'long,idle': 2,
    });
    assert.equal(s['gpu,idle'], 0);
    assert.equal(s['long,future'], 0);
    assert.deepEqual(c.anomalies, []);
  });

  it('counts a node in each of its partitions, so partitions do not add up to the cluster', () => {
    const perPartition = Object.values(byLabels(out, 'slurm_partition_nodes')).reduce((a, b) => a + b, 0);
    const cluster = Object.values(byLabels(nodesCollector.collect(ctx(data)), 'slurm_nodes')).reduce((a, b) => a + b, 0);
    assert.equal(cluster, 7);
    assert.equal(perPartition, 11); // n1..n4 are in two partitions each
  });

  it('counts flags per partition', () => {
    assert.deepEqual(byLabels(out, 'slurm_partition_nodes_with_flag'), {
      'debug,planned': 2, 'debug,drain': 1, 'gpu,planned': 2, 'long,drain': 2, 'long,not_responding': 1,
    });
  });

  it('sums CPUs, memory and GPUs of the partition\'s nodes', () => {
    assert.deepEqual(byLabels(out, 'slurm_partition_cpus'), { debug: 16, gpu: 8, long: 20 });
    assert.deepEqual(byLabels(out, 'slurm_partition_cpus_allocated'), { debug: 13, gpu: 5, long: 8 });
    assert.equal(byLabels(out, 'slurm_partition_memory_bytes').debug, 24000 * MB);
    assert.equal(byLabels(out, 'slurm_partition_memory_allocated_bytes').debug, 8500 * MB);
    assert.deepEqual(byLabels(out, 'slurm_partition_gpus'), { debug: 4, gpu: 4, long: 0 });
    assert.deepEqual(byLabels(out, 'slurm_partition_gpus_allocated'), { debug: 3, gpu: 3, long: 0 });
  });

  it('counts jobs per partition and state, a multi-partition job in each', () => {
    const j = byLabels(out, 'slurm_partition_jobs');
    assert.deepEqual(nonZero(j), {
      'debug,running': 5, 'debug,pending': 7, 'debug,failed': 1, 'debug,completed': 1, 'debug,cancelled': 1, 'debug,timeout': 1,
      'gpu,running': 2, 'gpu,pending': 2,
      'long,running': 1, 'long,pending': 2,
    });
    assert.equal(j['gpu,out_of_memory'], 0);
  });

  it('describes partitions: state, default, limits, configured nodes', () => {
    assert.deepEqual(byLabels(out, 'slurm_partition_state_info'), { 'debug,up,unknown': 1, 'gpu,up,unknown': 1, 'long,up,unknown': 1 });
    assert.deepEqual(byLabels(out, 'slurm_partition_max_time_seconds'), { debug: 3600 });
    assert.deepEqual(byLabels(out, 'slurm_partition_configured_nodes'), { debug: 4, gpu: 2, long: 5 });
  });
});

describe('partitions collector, Slurm 22.05 lab scenario and edge cases', () => {
  it('counts only listed nodes by state; a FUTURE node missing from /nodes is still configured', () => {
    const nodes = [node('c1', 'allocated', []), node('d1', 'down', ['not_responding'])];
    const partitions = [partition('batch', ['c1', 'd1', 'f1']), partition('maint', ['c3', 'c4'], { state: 'down' })];
    const out = partitionsCollector.collect(ctx({ nodes, partitions, jobs: [] }));
    assert.deepEqual(nonZero(byLabels(out, 'slurm_partition_nodes')), { 'batch,allocated': 1, 'batch,down': 1 });
    assert.deepEqual(byLabels(out, 'slurm_partition_configured_nodes'), { batch: 3, maint: 2 });
    assert.deepEqual(byLabels(out, 'slurm_partition_state_info'), { 'batch,up,false': 1, 'maint,down,false': 1 });
    assert.deepEqual(byLabels(out, 'slurm_partition_cpus'), { batch: 8, maint: 0 });
  });

  it('passes an unknown partition state through without reporting it again', () => {
    const c = ctx({ nodes: [], partitions: [partition('p', [], { state: 'sleepy' })], jobs: [] });
    const out = partitionsCollector.collect(c);
    assert.deepEqual(byLabels(out, 'slurm_partition_state_info'), { 'p,sleepy,false': 1 });
    // The adapter reports unknown words once when it reads them (resource-framework.test.ts); the collector
    // passes them through without reporting them a second time.
    assert.deepEqual(c.anomalies, []);
  });

  it('still counts jobs of a partition the partitions answer does not list', () => {
    const out = partitionsCollector.collect(ctx({ nodes: [], partitions: [], jobs: [job(1, 'pending', ['gone'])] }));
    assert.deepEqual(byLabels(out, 'slurm_partition_jobs'), { 'gone,pending': 1 });
  });

  it('returns nothing until nodes, partitions and jobs are all there', () => {
    assert.deepEqual(partitionsCollector.collect(ctx({ partitions: [], nodes: [] })), []);
    assert.equal(scalar(nodesCollector.collect(ctx({ nodes: [] })), 'slurm_cpus'), 0);
  });
});
