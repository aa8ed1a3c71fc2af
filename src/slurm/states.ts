// Slurm's state vocabularies (up to 25.11), shared by the adapters, which flag a word outside them as an
// anomaly once, and by the collectors, which give the common ones zero series so none vanishes at zero.

/** Base node states (node_states enum). */
export const NODE_BASE_STATES: readonly string[] = ['idle', 'mixed', 'allocated', 'down', 'error', 'future', 'unknown'];

/** Node state flags. */
export const NODE_FLAGS_KNOWN: ReadonlySet<string> = new Set([
  'blocked', 'cloud', 'completing', 'drain', 'dynamic_future', 'dynamic_norm', 'external', 'fail', 'invalid',
  'invalid_reg', 'maintenance', 'not_responding', 'planned', 'power_down', 'power_drain', 'power_up',
  'powered_down', 'powering_down', 'powering_up', 'reboot_canceled', 'reboot_issued', 'reboot_requested',
  'reserved', 'resume', 'undrain',
]);

/** Job base states (job_states enum); `out_of_memory` is Slurm's JOB_OOM. */
export const JOB_BASE_STATES: readonly string[] = [
  'pending', 'running', 'suspended', 'completed', 'cancelled', 'failed', 'timeout', 'node_fail', 'preempted',
  'boot_fail', 'deadline', 'out_of_memory',
];

/** Job states after which a job never runs again (unless requeued, which makes it pending). */
export const JOB_TERMINAL_STATES: readonly string[] = [
  'completed', 'failed', 'timeout', 'out_of_memory', 'node_fail', 'cancelled', 'preempted', 'boot_fail', 'deadline',
];

export const JOB_FLAGS_KNOWN: ReadonlySet<string> = new Set([
  'completing', 'configuring', 'requeued', 'requeue_fed', 'requeue_hold', 'resizing', 'special_exit', 'stage_out',
  'stopped', 'signaling', 'update_db', 'revoked', 'launch_failed', 'resv_del_hold', 'power_up_node',
  'reconfig_fail', 'expediting',
]);

export const PARTITION_STATES: readonly string[] = ['up', 'down', 'drain', 'inactive'];
