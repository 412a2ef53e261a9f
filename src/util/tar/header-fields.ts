// Decodes the fixed fields of a 512-byte tar header: strings up to their NUL, numbers in octal or base-256.
/** Thrown for a header field that holds no valid value; the reader names the entry around it. */
export class FieldError extends Error {}

/** The raw bytes of a string field, up to its first NUL. */
export function readString(block: Buffer, start: number, length: number): Buffer {
  const end = block.indexOf(0, start);
  return block.subarray(start, end === -1 || end > start + length ? start + length : end);
}

/**
 * A numeric field as GNU tar reads it: optional leading blanks, octal digits ended by a blank or NUL,
 * or GNU base-256 (first byte 0x80 or 0xFF). Throws FieldError naming `field` when it is not a number.
 */
export function readNumber(block: Buffer, start: number, length: number, field: string): number {
  const first = block[start]!;
  if (first === 0x80 || first === 0xff) return readBase256(block, start, length, field);
  let i = start;
  const end = start + length;
  while (i < end && block[i] === 0x20) i += 1;
  let value = 0;
  let digits = 0;
  while (i < end) {
    const byte = block[i]!;
    if (byte < 0x30 || byte > 0x37) break;
    value = value * 8 + (byte - 0x30);
    digits += 1;
    i += 1;
  }
  // After the digits only terminators may follow (GNU tar accepts a trailing blank or NUL).
  for (; i < end; i += 1) {
    const byte = block[i]!;
    if (byte !== 0 && byte !== 0x20) throw new FieldError(`${field} field holds "${printable(block, start, length)}", not an octal number`);
  }
  if (digits === 0) throw new FieldError(`${field} field is empty where a number was expected`);
  if (!Number.isSafeInteger(value)) throw new FieldError(`${field} field holds a number too large to represent`);
  return value;
}

function readBase256(block: Buffer, start: number, length: number, field: string): number {
  // Rare (only huge or negative values), so BigInt's cost does not matter here.
  let value = 0n;
  for (let i = start; i < start + length; i += 1) value = value * 256n + BigInt(i === start ? block[i]! & 0x7f : block[i]!);
  if (block[start] === 0xff) value -= 1n << BigInt(8 * length - 1);
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new FieldError(`${field} field holds a base-256 number too large to represent`);
  }
  return Number(value);
}

/** The sum GNU tar compares with the checksum field: unsigned bytes, the field itself counted as blanks. */
export function headerChecksums(block: Buffer): { unsigned: number; signed: number } {
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i += 1) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return { unsigned, signed };
}

/** The bytes of a field as text for a message: printable ASCII kept, anything else as \xNN. */
export function printable(block: Buffer, start: number, length: number): string {
  let out = '';
  for (let i = start; i < start + length; i += 1) {
    const byte = block[i]!;
    out += byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
