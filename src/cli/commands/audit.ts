// rearguard audit: the read-only look at staleness, size trends, last runs, headroom and risky config; exit 0/1/2.
import { Chalk } from 'chalk';
import { runAudit } from '../../audit/run-audit.js';
import { gatherInventory } from '../../engine/inventory.js';
import type { RunObserver } from '../../engine/observer.js';
import { buildPlan } from '../../plan/build-plan.js';
import type { PlannedPreflight } from '../../plan/types.js';
import { chooseLiveView } from '../../report/choose-live-view.js';
import { createListrRenderer } from '../../report/render-listr.js';
import { createPlainRenderer } from '../../report/render-plain.js';
import type { CommonFlags } from '../options.js';
import { loadForCommand, type CommandIo } from './run.js';

/** Runs the audit and returns its exit code. Reports go only where --json/--junit say. */
export async function auditCommand(flags: CommonFlags, io: CommandIo): Promise<number> {
  const config = await loadForCommand('audit', flags, io);
  const inventory = await gatherInventory(config);
  const plan = buildPlan(config, inventory, 'audit');
  const chalk = new Chalk({ level: config.options.color ? 1 : 0 });
  const observers: Array<RunObserver & { done?: () => Promise<void> }> = [];
  // The live tree needs the findings up front; the audit is quick, so it shows them as they are judged.
  const findingsPlan = { ...plan, preflight: [] as PlannedPreflight[] };
  const renderer: RunObserver & { done?: () => Promise<void> } =
    config.options.interactive && !config.options.quiet
      ? createDeferredListr()
      : createPlainRenderer(io.output, chalk, { quiet: config.options.quiet, verbose: config.options.verbose });
  observers.push(renderer);
  const report = await runAudit(config, plan, {
    observers,
    ...(config.options.jsonPath && { jsonPath: config.options.jsonPath }),
    ...(config.options.junitPath && { junitPath: config.options.junitPath }),
    signal: io.signal,
  });
  await renderer.done?.();
  return report.exit_code;

  // Buffers the events until the findings are known, then replays them into a listr tree.
  function createDeferredListr(): RunObserver & { done(): Promise<void> } {
    const events: Array<(o: RunObserver) => void> = [];
    const record =
      <K extends keyof RunObserver>(key: K) =>
      (...args: Parameters<NonNullable<RunObserver[K]>>): void => {
        if (key === 'preflightFinished') {
          const finding = args[0] as Parameters<NonNullable<RunObserver['preflightFinished']>>[0];
          findingsPlan.preflight.push({ id: finding.id, level: finding.level, item: { kind: 'command', argv: [], timeoutMs: 0, level: finding.level }, description: finding.target });
        }
        events.push((o) => (o[key] as ((...a: unknown[]) => void) | undefined)?.apply(o, args));
      };
    return {
      runStarted: record('runStarted'),
      preflightFinished: record('preflightFinished'),
      stageStarted: record('stageStarted'),
      unitStarted: record('unitStarted'),
      checkFinished: record('checkFinished'),
      unitFinished: record('unitFinished'),
      stageFinished: record('stageFinished'),
      warning: record('warning'),
      runFinished: record('runFinished'),
      async done() {
        // A tree taller than the terminal would scroll its findings away (and listr2 takes minutes to draw
        // thousands of tasks): the audit is over by now, so plain lines say the same at once.
        if (chooseLiveView(findingsPlan, io.screen?.size().rows ?? 0) === 'compact') {
          const plain = createPlainRenderer(io.output, chalk, { quiet: false, verbose: config.options.verbose });
          for (const event of events) event(plain);
          return;
        }
        const listr = createListrRenderer(io.output, chalk, findingsPlan, { verbose: config.options.verbose });
        for (const event of events) event(listr);
        await listr.done();
      },
    };
  }
}
