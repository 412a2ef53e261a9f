// Readable text for names kept as raw bytes: valid UTF-8 as is, every other byte escaped as \xNN.
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Shows `raw` for messages and reports; distinct byte strings always give distinct texts. */
export function displayName(raw: Buffer): string {
  // Fast path: printable ASCII without backslashes needs no escaping.
  let plain = true;
  for (let i = 0; i < raw.length; i += 1) {
    const byte = raw[i]!;
    if (byte < 0x20 || byte >= 0x7f || byte === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return raw.toString('latin1');
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const length = utf8SequenceLength(raw, i);
    if (length > 1) {
      out += raw.toString('utf8', i, i + length);
      i += length;
      continue;
    }
    const byte = raw[i]!;
    if (byte === 0x5c) out += '\\\\';
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    else out += String.fromCharCode(byte);
    i += 1;
  }
  return out;
}

/** Length of the valid multi-byte UTF-8 sequence at `start`, or 1 when there is none. */
function utf8SequenceLength(raw: Buffer, start: number): number {
  const lead = raw[start]!;
  const length = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 && lead <= 0xdf ? 2 : 1;
  if (length === 1 || lead >= 0xf5 || start + length > raw.length) return 1;
  try {
    decoder.decode(raw.subarray(start, start + length));
    return length;
  } catch {
    return 1;
  }
}
