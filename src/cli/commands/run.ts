// orchestrate, verify, restore-test and plan: resolve, plan, run, render; returns the exit code.
import { describeContainment } from '../../exec/index.js';
import { ARTIFACT_KINDS } from '../artifact-kinds.js';
import { Chalk } from 'chalk';
import type { CommandName, ResolvedConfig } from '../../config/types.js';
import { resolveConfig } from '../../config/resolve.js';
import { gatherInventory } from '../../engine/inventory.js';
import { buildPlan } from '../../plan/build-plan.js';
import { renderPlanText, serializePlan } from '../../plan/render-plan.js';
import { createPlainRenderer, type Output } from '../../report/render-plain.js';
import { writeReportText } from '../../report/json.js';
import type { RunObserver } from '../../engine/observer.js';
import { resolveRunOptions, type CommonFlags, type Terminal } from '../options.js';

/** Everything a command needs from the process, passed in so commands stay testable. */
export interface CommandIo extends Terminal {
  output: Output;
  cwd: string;
  signal: AbortSignal;
  configFile(flag: string | undefined): string;
}

/** Loads the config of a command (ConfigError / UsageError propagate to the CLI). */
export async function loadForCommand(command: CommandName, flags: CommonFlags, io: CommandIo): Promise<ResolvedConfig> {
  const options = resolveRunOptions(command, flags, io);
  return resolveConfig(io.configFile(flags.config), options, io.env, ARTIFACT_KINDS);
}

/** Runs a planned command and returns its exit code. */
export async function runCommand(command: CommandName, flags: CommonFlags, io: CommandIo): Promise<number> {
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
  // listr2 loads only for a terminal.
  const renderer: RunObserver & { done?: () => Promise<void> } =
    config.options.interactive && !config.options.quiet
      ? (await import('../../report/render-listr.js')).createListrRenderer(io.output, chalk, plan, { verbose: config.options.verbose })
      : createPlainRenderer(io.output, chalk, { quiet: config.options.quiet, verbose: config.options.verbose });
  // The engine loads only for a run: plan and --dry-run stop before it.
  const { executeRun } = await import('../../engine/run.js');
  const report = await executeRun(config, plan, { observers: [renderer], signal: io.signal });
  await renderer.done?.();
  return report.exit_code;
}
