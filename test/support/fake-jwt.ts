// A JWT-shaped string for tests of redaction and leak detection, built at run time so no token-shaped literal
// sits in the repository. It is not signed: the signature part is the given text, base64url-encoded.
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

export function fakeJwt(claims: Record<string, unknown>, signatureText: string): string {
  return [b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' })), b64url(JSON.stringify(claims)), b64url(signatureText)].join('.');
}
