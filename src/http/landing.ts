// The `/` page: name, version, links and a short description of the data source. Everything shown is
// escaped; the provider decides what goes into `info` and must leave secrets out (no tokens, no URLs
// with credentials).

export interface LandingInfo {
  title: string;
  version: string;
  links: { href: string; text: string }[];
  info: Record<string, string>;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Only relative links and http(s) URLs: a provider mistake must not become a javascript: link.
function safeHref(href: string): string {
  return /^(\/|\.\/|https?:\/\/)/i.test(href) ? href : '#';
}

export function renderLanding(page: LandingInfo): string {
  const title = escapeHtml(page.title);
  const links = page.links
    .map((l) => `      <li><a href="${escapeHtml(safeHref(l.href))}">${escapeHtml(l.text)}</a></li>`)
    .join('\n');
  const info = Object.entries(page.info)
    .map(([k, v]) => `      <tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>${title}</title>
    <style>body{font-family:sans-serif;margin:2em}th{text-align:left;padding-right:1em}</style>
  </head>
  <body>
    <h1>${title}</h1>
    <p>Version ${escapeHtml(page.version)}</p>
    <ul>
${links}
    </ul>
    <table>
${info}
    </table>
  </body>
</html>
`;
}
