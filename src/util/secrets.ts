// Keeps secrets out of output: keys that look secret are masked, and their values are scrubbed from text.

const SECRET_KEY_RE = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;

/** True for env keys whose values must never be shown (PGPASSWORD, API_TOKEN, AWS_SECRET_ACCESS_KEY...). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** Shows an env map with secret values replaced by ***. */
export function maskEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, isSecretKey(key) ? '***' : value]));
}

/** Replaces known secret values (and credentials in URLs) with *** in any text. */
export class Redactor {
  private readonly values = new Set<string>();

  /** Remembers the secret values of an env map. */
  addEnv(env: Record<string, string>): void {
    for (const [key, value] of Object.entries(env)) if (isSecretKey(key) && value.length >= 4) this.values.add(value);
  }

  /** Returns `text` with every known secret replaced. */
  redact(text: string): string {
    let out = text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+)(:[^/@\s]*)?@/gi, '$1***@');
    for (const value of this.values) out = out.split(value).join('***');
    return out;
  }
}

/** Shows a URL without its credentials: `https://user:pass@host/x?token=abc` → `https://***@host/x?token=***`. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return new Redactor().redact(url);
  }
  const auth = parsed.username || parsed.password ? '***@' : '';
  const query = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=***`).join('&');
  return `${parsed.protocol}//${auth}${parsed.host}${parsed.pathname}${query ? `?${query}` : ''}`;
}
