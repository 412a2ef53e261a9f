// The compact UTC timestamp used in names of run folders, set-aside files and backups: 20261123T004814Z.

/** Formats `date` as YYYYMMDDTHHMMSSZ (whole seconds, UTC). */
export function compactTimestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
