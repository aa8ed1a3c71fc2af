// A real Alertmanager (Debian's prometheus-alertmanager, installed by scripts/install-test-deps.sh), a local
// sink that stands in for PagerDuty, Slack and the SMTP server, and the test overlay that points the shipped
// receivers at that sink.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { freePort, startDaemon } from './daemon.ts';

/** Path of promtool or amtool (Debian's prometheus and prometheus-alertmanager); says what to install when missing. */
export function tool(name: 'promtool' | 'amtool'): string {
  const file = `/usr/bin/${name}`;
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/install-test-deps.sh (Debian package ${name === 'promtool' ? 'prometheus' : 'prometheus-alertmanager'})`);
  return file;
}

export interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
  receivers: { name: string }[];
  fingerprint: string;
}

export interface AlertmanagerProcess {
  url: string;
  output: string[];
  /** POST /api/v2/alerts: firing alerts (startsAt now, endsAt in an hour) unless given. */
  post(alerts: { labels: Record<string, string>; annotations?: Record<string, string>; endsAt?: string }[]): Promise<void>;
  /** GET /api/v2/alerts, silenced and inhibited ones included. */
  alerts(): Promise<AmAlert[]>;
  stop(): Promise<void>;
}

/** Starts Alertmanager with the given configuration text, without clustering, on a free loopback port. */
export async function startAlertmanager(opts: { config: string }): Promise<AlertmanagerProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'alertmanager-'));
  const port = await freePort();
  const file = path.join(dir, 'alertmanager.yml');
  writeFileSync(file, opts.config);
  const url = `http://127.0.0.1:${port}`;
  const { output, stop } = await startDaemon({
    binary: '/usr/bin/prometheus-alertmanager',
    pkg: 'prometheus-alertmanager',
    dir,
    args: [
      `--config.file=${file}`,
      `--storage.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // An empty address turns gossip off: a single instance, no mesh port.
      '--cluster.listen-address=',
    ],
    what: 'Alertmanager /-/ready',
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
    timeoutMs: 30_000,
  });
  return {
    url,
    output,
    stop,
    async post(alerts) {
      const now = Date.now();
      const body = alerts.map((a) => ({
        labels: a.labels,
        annotations: a.annotations ?? {},
        startsAt: new Date(now - 1000).toISOString(),
        endsAt: a.endsAt ?? new Date(now + 3_600_000).toISOString(),
      }));
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`POST /api/v2/alerts: ${res.status} ${await res.text()}`);
    },
    async alerts() {
      const res = await fetch(`${url}/api/v2/alerts?silenced=true&inhibited=true&active=true&unprocessed=true`);
      if (!res.ok) throw new Error(`GET /api/v2/alerts: ${res.status} ${await res.text()}`);
      return (await res.json()) as AmAlert[];
    },
  };
}

export type Channel = 'pagerduty' | 'slack' | 'email' | 'webhook';

export interface Notification {
  channel: Channel;
  /** The receiver of the shipped configuration that sent it. */
  receiver: string;
  /** firing or resolved, as the notification says. */
  status: 'firing' | 'resolved';
  /** The whole request body (JSON) or mail (headers and body). */
  text: string;
  at: number;
}

export interface NotificationSink {
  /** Base URL of the HTTP side: /pagerduty/<receiver>, /slack/<receiver>, /webhook/<receiver>. */
  httpUrl: string;
  /** host:port of the SMTP side. */
  smtpAddress: string;
  notifications: Notification[];
  /** Maps an e-mail recipient to its receiver (set by the overlay). */
  mailRecipients: Map<string, string>;
  stop(): Promise<void>;
}

/**
 * A stand-in for the notification services: HTTP for PagerDuty's Events API v2, Slack's incoming webhooks and
 * plain webhooks, and a minimal SMTP server (no STARTTLS, no AUTH advertised) that records every mail.
 */
export async function startNotificationSink(): Promise<NotificationSink> {
  const notifications: Notification[] = [];
  const mailRecipients = new Map<string, string>();

  const web = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [, channel, receiver] = (req.url ?? '').split('/') as [string, string | undefined, string | undefined];
      if (channel === 'pagerduty' || channel === 'slack' || channel === 'webhook') {
        notifications.push({ channel, receiver: decodeURIComponent(receiver ?? ''), status: httpStatusOf(channel, text), text, at: Date.now() });
      }
      if (channel === 'pagerduty') {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end('{"status":"success","message":"Event processed"}');
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('ok');
      }
    });
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));

  const sockets = new Set<net.Socket>();
  const smtp = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = '';
    let data: string | undefined;
    let rcpt: string[] = [];
    sock.write('220 sink.test ESMTP\r\n');
    sock.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      for (;;) {
        if (data !== undefined) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          const mail = data + buf.slice(0, end);
          buf = buf.slice(end + 5);
          data = undefined;
          for (const to of rcpt) {
            const subject = /^Subject: (.*)$/im.exec(mail)?.[1] ?? '';
            notifications.push({
              channel: 'email',
              receiver: mailRecipients.get(to) ?? `unknown:${to}`,
              status: /RESOLVED/i.test(subject) ? 'resolved' : 'firing',
              text: mail,
              at: Date.now(),
            });
          }
          rcpt = [];
          sock.write('250 OK queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') sock.write('250-sink.test\r\n250 8BITMIME\r\n');
        else if (verb === 'HELO') sock.write('250 sink.test\r\n');
        else if (verb === 'MAIL') sock.write('250 OK\r\n');
        else if (verb === 'RCPT') {
          rcpt.push(/<([^>]*)>/.exec(line)?.[1] ?? '');
          sock.write('250 OK\r\n');
        } else if (verb === 'DATA') {
          data = '';
          sock.write('354 end with <CRLF>.<CRLF>\r\n');
        } else if (verb === 'QUIT') {
          sock.end('221 bye\r\n');
          return;
        } else sock.write('250 OK\r\n'); // RSET, NOOP
      }
    });
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));

  return {
    httpUrl: `http://127.0.0.1:${(web.address() as net.AddressInfo).port}`,
    smtpAddress: `127.0.0.1:${(smtp.address() as net.AddressInfo).port}`,
    notifications,
    mailRecipients,
    async stop() {
      for (const s of sockets) s.destroy();
      web.closeAllConnections();
      await Promise.all([new Promise((r) => web.close(r)), new Promise((r) => smtp.close(r))]);
    },
  };
}

function httpStatusOf(channel: string, text: string): 'firing' | 'resolved' {
  try {
    const body = JSON.parse(text) as { event_action?: string; status?: string; attachments?: { title?: string }[] };
    if (channel === 'pagerduty') return body.event_action === 'resolve' ? 'resolved' : 'firing';
    if (channel === 'slack') return /^\[RESOLVED/i.test(body.attachments?.[0]?.title ?? '') ? 'resolved' : 'firing';
    return body.status === 'resolved' ? 'resolved' : 'firing';
  } catch {
    return 'firing';
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The channels each receiver of a configuration notifies, e.g. oncall-critical → [pagerduty, slack, email]. */
export function receiverChannels(configText: string): Map<string, Channel[]> {
  const cfg = parse(configText) as Obj;
  const out = new Map<string, Channel[]>();
  for (const r of (cfg.receivers as Obj[] | undefined) ?? []) {
    const ch: Channel[] = [];
    for (const [key, channel] of [['pagerduty_configs', 'pagerduty'], ['slack_configs', 'slack'], ['email_configs', 'email'], ['webhook_configs', 'webhook']] as const) {
      for (let i = 0; i < ((r[key] as unknown[] | undefined)?.length ?? 0); i++) ch.push(channel);
    }
    out.set(String(r.name), ch);
  }
  return out;
}

/**
 * The test overlay of an Alertmanager configuration: the route tree, matchers, inhibitions and time intervals
 * stay as shipped; every receiver keeps its integrations, whose endpoints now point at the sink (PagerDuty
 * `url`, Slack `api_url`, the SMTP smarthost without TLS), and whose secret files are dummies written to `dir`.
 * The grouping timers are shortened so a test sees notifications in seconds: group_wait 1s, group_interval 2s.
 */
export function alertmanagerTestOverlay(configText: string, sink: NotificationSink, dir: string): string {
  const cfg = parse(configText) as Obj;
  let n = 0;
  const dummy = (what: string): string => {
    const file = path.join(dir, `secret-${++n}`);
    writeFileSync(file, `test-${what}-not-a-secret\n`, { mode: 0o600 });
    return file;
  };
  const global = (cfg.global ?? {}) as Obj;
  cfg.global = global;
  global.smtp_smarthost = sink.smtpAddress;
  global.smtp_require_tls = false;
  if ('smtp_auth_password_file' in global) global.smtp_auth_password_file = dummy('smtp-password');
  if ('slack_api_url_file' in global) {
    const file = path.join(dir, 'slack-global-url');
    writeFileSync(file, `${sink.httpUrl}/slack/unrouted\n`);
    global.slack_api_url_file = file;
  }
  global.pagerduty_url = `${sink.httpUrl}/pagerduty/unrouted`;

  for (const r of (cfg.receivers as Obj[] | undefined) ?? []) {
    const name = String(r.name);
    for (const [key, conf] of Object.entries(r)) {
      if (key === 'name') continue;
      if (!Array.isArray(conf)) continue;
      for (const c of conf as Obj[]) {
        if (key === 'pagerduty_configs') {
          c.url = `${sink.httpUrl}/pagerduty/${encodeURIComponent(name)}`;
          for (const k of ['routing_key_file', 'service_key_file']) if (k in c) c[k] = dummy('pagerduty-key');
        } else if (key === 'slack_configs') {
          delete c.api_url_file;
          c.api_url = `${sink.httpUrl}/slack/${encodeURIComponent(name)}`;
        } else if (key === 'email_configs') {
          const to = String(c.to);
          const known = sink.mailRecipients.get(to);
          if (known && known !== name) throw new Error(`receivers ${known} and ${name} mail the same address ${to}: the sink could not tell them apart`);
          sink.mailRecipients.set(to, name);
          c.smarthost = sink.smtpAddress;
          c.require_tls = false;
          if ('auth_password_file' in c) c.auth_password_file = dummy('smtp-password');
        } else if (key === 'webhook_configs') {
          c.url = `${sink.httpUrl}/webhook/${encodeURIComponent(name)}`;
        } else {
          throw new Error(`receiver ${name}: the test overlay does not know ${key}; add it to test/support/alertmanager.ts`);
        }
      }
    }
  }

  const shorten = (route: Obj, root: boolean): void => {
    if (root || 'group_wait' in route) route.group_wait = '1s';
    if (root || 'group_interval' in route) route.group_interval = '2s';
    for (const child of (route.routes as Obj[] | undefined) ?? []) shorten(child, false);
  };
  if (isObj(cfg.route)) shorten(cfg.route, true);

  const text = stringify(cfg);
  // Nothing may still point outside the test: every *_file is one of ours, every URL is the sink's.
  for (const m of text.matchAll(/_file: (\S+)/g)) if (!m[1]!.startsWith(dir)) throw new Error(`overlay left ${m[0]}`);
  for (const m of text.matchAll(/https?:\/\/[^\s"']+/g)) if (!m[0].startsWith(sink.httpUrl) && !/^https?:\/\/github\.com\//.test(m[0])) throw new Error(`overlay left ${m[0]}`);
  return text;
}
