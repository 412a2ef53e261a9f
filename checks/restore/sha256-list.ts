// The sha256sum file format ("<64 hex digits>  <name>" per line), read by checksum manifests and the restore rule.
const LINE_RE = /^([0-9a-fA-F]{64})(?: [ *]|\s+\*?)(.+)$/;

/** Parses sha256sum-format text into entries; lines that do not parse are returned as garbled. */
export function parseSha256Sums(text: string): { entries: Array<{ hash: string; name: string }>; garbled: string[] } {
  const entries: Array<{ hash: string; name: string }> = [];
  const garbled: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = LINE_RE.exec(line);
    if (match?.[1] && match[2]) entries.push({ hash: match[1].toLowerCase(), name: match[2].trim() });
    else garbled.push(line);
  }
  return { entries, garbled };
}
