// Interactive renderer: a listr2 task tree fed by run events (placeholder until the TTY tree lands).
import type { ChalkInstance } from 'chalk';
import type { RunObserver } from '../engine/observer.js';
import type { Plan } from '../plan/types.js';
import { createPlainRenderer, type Output } from './render-plain.js';

/** Renders the run as a live task tree on a terminal. */
export function createListrRenderer(output: Output, chalk: ChalkInstance, plan: Plan, options: { verbose: boolean }): RunObserver & { done(): Promise<void> } {
  void plan;
  return { ...createPlainRenderer(output, chalk, { quiet: false, verbose: options.verbose }), done: async () => undefined };
}
