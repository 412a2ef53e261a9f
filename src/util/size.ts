// Parses and formats byte sizes: "500MB", "50GiB", "1.5GB", plain integers.

const MULTIPLIERS: Record<string, bigint> = {
  b: 1n,
  kb: 1000n, mb: 1000n ** 2n, gb: 1000n ** 3n, tb: 1000n ** 4n, pb: 1000n ** 5n,
  k: 1024n, m: 1024n ** 2n, g: 1024n ** 3n, t: 1024n ** 4n, p: 1024n ** 5n,
  kib: 1024n, mib: 1024n ** 2n, gib: 1024n ** 3n, tib: 1024n ** 4n, pib: 1024n ** 5n,
};

/** Regular expression for a size string: a number and an optional SI or IEC unit. */
export const SIZE_PATTERN = '^\\d+(?:\\.\\d+)?\\s*(?:[bB]|[kKmMgGtTpP](?:i?[bB])?)?$';
const SIZE_RE = /^(\d+)(?:\.(\d+))?\s*([a-zA-Z]*)$/;

/** Converts a size (string or whole number of bytes) to an integer number of bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new Error(`expected a whole number of bytes, got ${input}`);
    return input;
  }
  const match = SIZE_RE.exec(input.trim());
  const multiplier = match ? MULTIPLIERS[(match[3] || 'b').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new Error(`expected a size like "500MB", "50GiB" or a number of bytes, got "${input}"`);
  }
  // Fixed-point arithmetic on BigInt: "1.5GB" never goes through a float.
  const fraction = match[2] ?? '';
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(match[1] + fraction) * multiplier) / scale;
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`size "${input}" is too large`);
  return Number(bytes);
}

/** Formats bytes for people with IEC units: "1.4 GiB", "512 B". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

/** "1.2 MiB (1234567 bytes)": people read the unit, scripts and audits read the exact count. */
export function describeBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${formatBytes(bytes)} (${bytes} bytes)`;
}
