// Parses pax extended header records ("<length> <key>=<value>\n") and the values rearguard needs from them.
/** One record, in archive order (GNU sparse 0.0 repeats keys, so order matters). */
export interface PaxRecord {
  key: string;
  value: Buffer;
}

/** Parses the data of an 'x' or 'g' header; returns a message instead when a record is malformed. */
export function parsePaxRecords(data: Buffer): PaxRecord[] | string {
  const records: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    // GNU tar stops at NUL padding after the last record.
    if (data[pos] === 0) break;
    const space = data.indexOf(0x20, pos);
    const lengthText = space === -1 ? '' : data.toString('latin1', pos, space);
    if (!/^[0-9]{1,12}$/.test(lengthText)) return `record ${records.length + 1} does not start with its length`;
    const length = Number(lengthText);
    const end = pos + length;
    if (length <= lengthText.length + 1 || end > data.length || data[end - 1] !== 0x0a) {
      return `record ${records.length + 1} says it is ${length} bytes long, which does not match its data`;
    }
    const equals = data.indexOf(0x3d, space + 1);
    if (equals === -1 || equals >= end) return `record ${records.length + 1} has no "key=value"`;
    records.push({ key: data.toString('utf8', space + 1, equals), value: data.subarray(equals + 1, end - 1) });
    pos = end;
  }
  return records;
}

/** A pax decimal integer (size, uid, ...); undefined when it is not one. */
export function parsePaxInteger(value: Buffer): number | undefined {
  const text = value.toString('latin1');
  if (!/^[0-9]{1,16}$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isSafeInteger(number) ? number : undefined;
}

/** A pax time (seconds with an optional fraction, maybe negative); undefined when malformed. */
export function parsePaxTime(value: Buffer): number | undefined {
  const text = value.toString('latin1');
  if (!/^-?[0-9]{1,20}(\.[0-9]*)?$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}
