// Matches history files with the artifacts of the config, for `rearguard history` (pure).
import { sizeCheck, type SizeOptions } from '../../checks/size.js';
import { loadPicomatch } from '../util/picomatch.js';
import { computeBaseline, type SizeBaseline } from '../../checks/size/baseline.js';
import type { ResolvedArtifact, ResolvedConfig } from '../config/types.js';
import type { HistoryEntry } from '../contract/history.js';
import { historyFile, type HistoryDocument } from '../state/history.js';

/** One artifact's history as `rearguard history` shows it. */
export interface HistoryView {
  unit: string;
  pattern: string;
  /** The history file (it may not exist yet). */
  file: string;
  /** The size rule of the artifact in the config; undefined when it has none or left the config. */
  size?: SizeOptions;
  inConfig: boolean;
  entries: HistoryEntry[];
  /** Entries dropped because their byte count was not a whole number. */
  dropped: number;
  baseline?: SizeBaseline;
  /** Why the file could not be read (corrupt). */
  problem?: string;
}

/** What was read from state_dir/history. */
export interface ReadHistory {
  file: string;
  doc?: HistoryDocument;
  dropped: number;
  problem?: string;
}

/** Builds one view per configured artifact and per history file no longer in the config, in config order. */
export function buildHistoryViews(config: ResolvedConfig, histories: ReadHistory[]): HistoryView[] {
  const byFile = new Map(histories.map((history) => [history.file, history]));
  const used = new Set<string>();
  const views: HistoryView[] = [];
  const add = (unit: string, artifact: ResolvedArtifact | undefined, history: ReadHistory | undefined, file: string, pattern: string): void => {
    used.add(file);
    const entries = history?.doc?.entries ?? [];
    const size = sizeRule(artifact);
    const window = size?.window ?? 14;
    const baseline = computeBaseline(entries, { window, ...sizeBounds(artifact) });
    views.push({
      unit,
      pattern,
      file,
      ...(size && { size }),
      inConfig: artifact !== undefined,
      entries,
      dropped: history?.dropped ?? 0,
      ...(baseline && { baseline }),
      ...(history?.problem && { problem: history.problem }),
    });
  };
  for (const stage of config.stages) {
    for (const unit of stage.units) {
      for (const artifact of unit.artifacts) {
        if (unit.action.kind === 'systemd-match') {
          // One history per expanded service: find them by the unit names recorded in the files.
          const isMatch = loadPicomatch()(unit.action.match);
          const found = histories.filter((h) => h.doc && h.doc.pattern === artifact.pattern && isMatch(h.doc.unit));
          for (const history of found) add(history.doc!.unit, artifact, history, history.file, artifact.pattern);
          if (found.length === 0) add(unit.name, artifact, undefined, historyFile(config.stateDir, unit.name, artifact.pattern), artifact.pattern);
          continue;
        }
        const file = historyFile(config.stateDir, unit.name, artifact.pattern);
        add(unit.name, artifact, byFile.get(file), file, artifact.pattern);
      }
    }
  }
  for (const history of histories) {
    if (used.has(history.file)) continue;
    add(history.doc?.unit ?? '?', undefined, history, history.file, history.doc?.pattern ?? '?');
  }
  return views;
}

/** The size rule of an artifact, as the size check resolved it. */
function sizeRule(artifact: ResolvedArtifact | undefined): SizeOptions | undefined {
  return artifact?.options[sizeCheck.config!.key] as SizeOptions | undefined;
}

function sizeBounds(artifact: ResolvedArtifact | undefined): { maxShrinkPct?: number; maxGrowthPct?: number } {
  const size = sizeRule(artifact);
  return {
    ...(size?.maxShrinkPct !== undefined && { maxShrinkPct: size.maxShrinkPct }),
    ...(size?.maxGrowthPct !== undefined && { maxGrowthPct: size.maxGrowthPct }),
  };
}
