// orchestrate, verify, restore-test and plan: resolve, plan, run, render; returns the exit code.
import { describeContainment, prefillFifoPool, prestartLauncher } from '../../exec/index.js';
import { ARTIFACT_KINDS } from '../artifact-kinds.js';
import { Chalk } from 'chalk';
import type { CommandName, ResolvedConfig } from '../../config/types.js';
import { resolveConfig } from '../../config/resolve.js';
import { gatherInventory } from '../../engine/inventory.js';
import { buildPlan } from '../../plan/build-plan.js';
import { renderPlanText, serializePlan } from '../../plan/render-plan.js';
import { createPlainRenderer, type Output } from '../../report/render-plain.js';
import type { LiveScreen } from '../../report/live-screen.js';
import { chooseLiveView } from '../../report/choose-live-view.js';
import { createCompactRenderer } from '../../report/render-live.js';
import type { Plan } from '../../plan/types.js';
import type { ChalkInstance } from 'chalk';
import { writeReportText } from '../../report/json.js';
import type { RunObserver } from '../../engine/observer.js';
import { resolveRunOptions, type CommonFlags, type Terminal } from '../options.js';

/** Everything a command needs from the process, passed in so commands stay testable. */
export interface CommandIo extends Terminal {
  output: Output;
  cwd: string;
  signal: AbortSignal;
  configFile(flag: string | undefined): string;
  /** The terminal the live view draws on (stdout); absent where there is none. */
  screen?: LiveScreen;
}

/** Loads the config of a command (ConfigError / UsageError propagate to the CLI). */
export async function loadForCommand(command: CommandName, flags: CommonFlags, io: CommandIo): Promise<ResolvedConfig> {
  const options = resolveRunOptions(command, flags, io);
  return resolveConfig(io.configFile(flags.config), options, io.env, ARTIFACT_KINDS);
}

/** Runs a planned command and returns its exit code. */
export async function runCommand(command: CommandName, flags: CommonFlags, io: CommandIo): Promise<number> {
  // The commands that start backup programs get their process launcher and their output pipes going while the config is read.
  if ((command === 'orchestrate' || command === 'restore-test') && !flags.dryRun) {
    prestartLauncher();
    prefillFifoPool();
  }
  const config = await loadForCommand(command, flags, io);
  const inventory = await gatherInventory(config);
  const plan = buildPlan(config, inventory, command === 'plan' ? 'orchestrate' : command);
  if (command === 'plan' || config.options.dryRun) {
    for (const line of renderPlanText(plan)) io.output.out(line);
    if (plan.runsUnits) io.output.out(`containment: ${describeContainment({ cgroups: config.defaults.cgroups }).summary}`);
    if (config.options.jsonPath) await writeReportText(config.options.jsonPath, serializePlan(plan));
    return 0;
  }
  const chalk = new Chalk({ level: config.options.color ? 1 : 0 });
  const renderer = await createRenderer(config, plan, chalk, io);
  // The engine loads only for a run: plan and --dry-run stop before it.
  const { executeRun } = await import('../../engine/run.js');
  try {
    const report = await executeRun(config, plan, { observers: [renderer], signal: io.signal });
    return report.exit_code;
  } finally {
    // Also when the run throws (the lock is held): the live view gives the screen back before the error is printed.
    await renderer.done?.();
  }
}

/** Plain lines unless the run is interactive; then the listr2 tree while it fits the terminal, the compact frame beyond. */
async function createRenderer(config: ResolvedConfig, plan: Plan, chalk: ChalkInstance, io: CommandIo): Promise<RunObserver & { done?: () => Promise<void> }> {
  const { interactive, quiet, verbose } = config.options;
  if (!interactive || quiet || !io.screen) return createPlainRenderer(io.output, chalk, { quiet, verbose });
  if (chooseLiveView(plan, io.screen.size().rows) === 'compact') return createCompactRenderer(io.output, io.screen, chalk, plan, { verbose });
  // listr2 loads only for a terminal, and only for a tree that fits it.
  return (await import('../../report/render-listr.js')).createListrRenderer(io.output, chalk, plan, { verbose });
}
