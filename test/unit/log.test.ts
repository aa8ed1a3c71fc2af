import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, jsonLineToLogfmt, onceLogger, type LogFormat, type LogLevel } from '../../src/log.ts';
import { redactText } from '../../src/config/redact.ts';
import { fakeJwt } from '../support/fake-jwt.ts';

function capture(format: LogFormat, level: LogLevel = 'debug') {
  const lines: string[] = [];
  const log = createLogger({ level, format }, { write: (s: string) => lines.push(s) });
  return { log, lines };
}

const JWT = fakeJwt({ sun: 'slurm', exp: 4102444800 }, 'foobarbaz-signature_1');

describe('formats', () => {
  test('logfmt: ts, level, msg first, then fields; nested keys dotted; lists joined', () => {
    const { log, lines } = capture('logfmt');
    log.info({ address: '0.0.0.0:9341', collectors: ['nodes', 'jobs'], poll: { group: 'jobs', seconds: 0.25 }, ok: true }, 'listening now');
    assert.equal(lines.length, 1);
    const line = lines[0]!;
    assert.ok(line.endsWith('\n'));
    assert.match(line, /^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=info msg="listening now" /);
    assert.equal(line.replace(/^ts=\S+ /, ''), 'level=info msg="listening now" address=0.0.0.0:9341 collectors=nodes,jobs poll.group=jobs poll.seconds=0.25 ok=true\n');
  });

  test('logfmt quotes and escapes values with spaces, quotes, = and newlines', () => {
    const out = jsonLineToLogfmt(JSON.stringify({ ts: 't', level: 'warn', msg: 'a "b"', v: 'x=y', nl: 'one\ntwo', empty: '', plain: 'abc' }));
    assert.equal(out, 'ts=t level=warn msg="a \\"b\\"" v="x=y" nl="one\\ntwo" empty="" plain=abc\n');
  });

  test('json: one object a line with level, ts, msg', () => {
    const { log, lines } = capture('json');
    log.warn({ group: 'nodes' }, 'slow');
    const obj = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(obj.level, 'warn');
    assert.equal(obj.msg, 'slow');
    assert.equal(obj.group, 'nodes');
    assert.match(String(obj.ts), /^\d{4}-\d\d-\d\dT/);
    assert.equal(obj.pid, undefined, 'no pid/hostname noise');
  });

  test('level filters', () => {
    const { log, lines } = capture('logfmt', 'warn');
    log.debug({}, 'd');
    log.info({}, 'i');
    log.warn({}, 'w');
    log.error({}, 'e');
    assert.deepEqual(lines.map((l) => /level=(\w+)/.exec(l)?.[1]), ['warn', 'error']);
  });

  test('errors are serialized with their message', () => {
    const { log, lines } = capture('json');
    log.error({ err: new Error('connect ECONNREFUSED') }, 'poll failed');
    const obj = JSON.parse(lines[0]!) as { err: { message: string; type: string } };
    assert.equal(obj.err.message, 'connect ECONNREFUSED');
    assert.equal(obj.err.type, 'Error');
  });
});

describe('redaction', () => {
  for (const format of ['logfmt', 'json'] as const) {
    test(`${format}: secret keys are redacted`, () => {
      const { log, lines } = capture(format);
      log.info(
        {
          token: 'tok-1',
          password: 'pw-2',
          authorization: 'Basic dXNlcjpwYXNz',
          jwt: 'jwt-3',
          key: 'key-4',
          slurm: { token: 'tok-5' },
          headers: { 'x-slurm-user-token': 'tok-6', 'x-slurm-user-name': 'slurm' },
          req: { headers: { authorization: 'Bearer tok-7' } },
        },
        'request',
      );
      const out = lines.join('');
      for (const secret of ['tok-1', 'pw-2', 'dXNlcjpwYXNz', 'jwt-3', 'key-4', 'tok-5', 'tok-6', 'tok-7']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
      assert.ok(out.includes('slurm'), 'non-secret header kept');
      assert.ok(out.includes('<redacted>'));
    });

    test(`${format}: JWT-looking text is masked anywhere (message, deep fields, error text)`, () => {
      const { log, lines } = capture(format);
      log.info({ a: { b: { c: { d: `prefix ${JWT} suffix` } } } }, `got token ${JWT}`);
      log.error({ err: new Error(`401 for token ${JWT}`) }, 'auth failed');
      log.warn(`plain message with ${JWT}`);
      const out = lines.join('');
      assert.ok(!out.includes(JWT), out);
      assert.ok(!out.includes('Zm9vYmFyYmF6'), 'no part of the signature');
      assert.equal(out.split('<redacted-jwt>').length - 1, 5, out);
    });
  }

  test('redactText masks JWTs, bearer tokens and URL passwords but not ordinary text', () => {
    assert.equal(redactText(`x ${JWT} y`), 'x <redacted-jwt> y');
    assert.equal(redactText('Authorization: Bearer abc.def-ghi'), 'Authorization: Bearer <redacted>');
    assert.equal(redactText('http://user:s3cret@host:6820/x'), 'http://user:<redacted>@host:6820/x');
    assert.equal(redactText('{"url":"http://host:6820","u":"a@b"}'), '{"url":"http://host:6820","u":"a@b"}');
    assert.equal(redactText('node cn001 eyJ is not a token'), 'node cn001 eyJ is not a token');
  });
});

describe('onceLogger', () => {
  test('logs each key once', () => {
    const { log, lines } = capture('logfmt');
    const once = onceLogger(log);
    assert.equal(once.log('node-state:FOO', { state: 'FOO' }, 'unknown node state'), true);
    assert.equal(once.log('node-state:FOO', { state: 'FOO' }, 'unknown node state'), false);
    assert.equal(once.log('node-state:BAR', { state: 'BAR' }, 'unknown node state'), true);
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /level=warn msg="unknown node state" state=FOO/);
    assert.match(lines[1]!, /state=BAR/);
    assert.equal(once.has('node-state:FOO'), true);
    assert.equal(once.size, 2);
  });

  test('remembers a bounded number of keys and says so once', () => {
    const { log, lines } = capture('json');
    const once = onceLogger(log, 'info', 3);
    for (let i = 0; i < 10; i++) once.log(`k${i}`, { i }, 'new thing');
    assert.equal(once.size, 3);
    assert.equal(lines.length, 4);
    const last = JSON.parse(lines[3]!) as { msg: string; limit: number; level: string };
    assert.equal(last.limit, 3);
    assert.equal(last.level, 'info');
    assert.match(last.msg, /too many distinct/);
  });
});
