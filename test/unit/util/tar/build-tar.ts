// Builds tar bytes header by header, so tests can write what no well-behaved tar program would.
import { headerChecksums } from '../../../../src/util/tar/header-fields.js';

/** One header to write; data follows it padded to 512 bytes. */
export interface RawMember {
  name: string | Buffer;
  type?: string;
  size?: number;
  data?: Buffer | string;
  linkName?: string;
  mode?: number;
}

/** A ustar header block with a correct checksum. */
export function header(member: RawMember): Buffer {
  const block = Buffer.alloc(512);
  const name = typeof member.name === 'string' ? Buffer.from(member.name) : member.name;
  name.copy(block, 0);
  const data = member.data === undefined ? Buffer.alloc(0) : Buffer.from(member.data);
  block.write(`${(member.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 'latin1');
  block.write('0000000\0', 108, 'latin1');
  block.write('0000000\0', 116, 'latin1');
  block.write(`${(member.size ?? data.length).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  block.write('14000000000\0', 136, 'latin1');
  block.write(member.type ?? '0', 156, 'latin1');
  if (member.linkName) block.write(member.linkName, 157, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  block.write(`${headerChecksums(block).unsigned.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** Header plus padded data. */
export function member(spec: RawMember): Buffer {
  const data = spec.data === undefined ? Buffer.alloc(0) : Buffer.from(spec.data);
  return Buffer.concat([header(spec), data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** A pax 'x' header holding `records`. */
export function paxMember(records: Record<string, string>): Buffer {
  const text = Object.entries(records)
    .map(([key, value]) => {
      const body = ` ${key}=${value}\n`;
      let length = body.length + 1;
      while (`${length}${body}`.length !== length) length += 1;
      return `${length}${body}`;
    })
    .join('');
  return member({ name: 'PaxHeaders/x', type: 'x', data: text });
}

/** The end-of-archive marker. */
export const END = Buffer.alloc(1024);
