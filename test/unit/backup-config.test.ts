// The `backup:` section of the configuration: the default schedules and retentions, destinations, and the
// messages for mistakes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfigText, renderEffectiveConfig, resolveFromData } from '../../src/config/load.ts';

const resolve = (backup: unknown) => resolveFromData({ backup }, [], {});

describe('backup configuration', () => {
  it('has the default schedules, retentions and enabled types', () => {
    const b = resolve({}).backup;
    assert.deepEqual(
      Object.entries(b.types).map(([t, c]) => [t, c.schedule, c.retentionMs / 86400_000, c.enabled]),
      [
        ['configuration', '0 */6 * * *', 90, true],
        ['monitoring', '0 2 * * *', 30, false],
        ['deployment', '0 */12 * * *', 30, false],
        ['certificates', '0 1 * * 0', 365, true],
        ['logs', '0 3 * * *', 7, true],
      ],
    );
    assert.equal(b.primary, undefined);
    assert.equal(b.encryption.keyEnv, 'SLURM_EXPORTER_BACKUP_KEY');
    assert.equal(b.listenAddress, ':9342');
  });

  it('reads a local primary and an S3 secondary with a per-destination retention', () => {
    const b = resolve({ primary: { path: '/var/backups', retention: { logs: '3d' } }, secondary: { s3: { bucket: 'b', prefix: 'p/', forcePathStyle: true, endpoint: 'http://minio:9000' } } }).backup;
    assert.deepEqual([b.primary?.kind, b.primary?.path, b.primary?.retentionMs], ['local', '/var/backups', { logs: 3 * 86400_000 }]);
    assert.deepEqual([b.secondary?.kind, b.secondary?.bucket, b.secondary?.prefix, b.secondary?.forcePathStyle, b.secondary?.required], ['s3', 'b', 'p/', true, true]);
  });

  it('names the key and the problem of a mistake', () => {
    assert.throws(() => resolve({ logs: { schedule: '0 25 * * *' } }), (e: Error) => e instanceof ConfigError && /backup\.logs\.schedule: .*hour: 25 is out of range/.test(e.message));
    assert.throws(() => resolve({ primary: {} }), /backup\.primary: needs path \(a local directory\) or s3\.bucket/);
    assert.throws(() => resolve({ primary: { path: '/x', s3: { bucket: 'b' } } }), /backup\.primary: give either path .* or s3\.bucket, not both/);
    assert.throws(() => resolve({ secondary: { path: '/x' } }), /backup\.secondary: is set without backup\.primary/);
  });

  it('check-config output carries the backup section and loads back the same', () => {
    const cfg = resolve({
      primary: { path: '/var/backups', retention: { logs: '3d' } },
      certificates: { retention: '400d' },
      prometheus: { url: 'http://prometheus:9090', dataDir: '/prometheus', basicAuth: { username: 'u', passwordFile: '/p' } },
      kubernetes: { namespace: 'monitoring' },
    });
    assert.equal(cfg.backup.prometheus.basicAuth.passwordFile, '/p');
    const again = parseConfigText(renderEffectiveConfig(cfg), {}, 'config check');
    assert.deepEqual(resolveFromData(again.data, [], {}).backup, cfg.backup);
  });
});
