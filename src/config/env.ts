// ${VAR} and ${VAR:-default} in the config file's text, expanded before YAML parsing (as Prometheus'
// and Loki's -config.expand-env do). `$$` is a literal `$`; a bare `$VAR` is left alone so passwords and
// PromQL-like text survive. Comment lines are not expanded: a commented-out ${UNSET} must not fail.
import { ConfigError } from './errors.ts';

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** @param where prefix for error messages, e.g. `config /etc/slurm-exporter.yaml` */
export function expandEnv(text: string, env: NodeJS.ProcessEnv, where: string): string {
  const lines = text.split('\n');
  return lines.map((line, i) => (/^\s*#/.test(line) ? line : expandLine(line, env, `${where}: line ${i + 1}`))).join('\n');
}

function expandLine(line: string, env: NodeJS.ProcessEnv, where: string): string {
  let out = '';
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = line[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next !== '{') {
      out += c;
      i++;
      continue;
    }
    const end = line.indexOf('}', i + 2);
    if (end < 0) throw new ConfigError(`${where}: unterminated "\${" (write "$$" for a literal "$")`);
    const body = line.slice(i + 2, end);
    const sep = body.indexOf(':-');
    const name = sep < 0 ? body : body.slice(0, sep);
    if (!NAME_RE.test(name)) throw new ConfigError(`${where}: "\${${body}}" is not a valid variable reference (use \${NAME} or \${NAME:-default})`);
    const value = env[name];
    if (value !== undefined && value !== '') out += value;
    else if (sep >= 0) out += body.slice(sep + 2);
    else if (value === '') out += '';
    else throw new ConfigError(`${where}: environment variable ${name} is not set (set it, or write \${${name}:-default})`);
    i = end + 1;
  }
  return out;
}
