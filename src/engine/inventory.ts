// Gathers what buildPlan needs to know about the machines: the systemd services to expand matches against.
import type { ResolvedConfig } from '../config/types.js';
import { UsageError } from '../errors.js';
import { createExec } from '../exec/index.js';
import { CONTROL_TIMEOUT_MS, createSystemctl, isSystemctlError } from '../exec/systemd.js';
import type { Exec } from '../exec/types.js';
import type { Inventory } from '../plan/types.js';

/**
 * Lists services for every host ('' for this machine) that has a systemd match unit, when the
 * command runs units (orchestrate, plan). Other commands only verify artifacts and keep a match as
 * one unit, so they ask no manager. Throws UsageError when a manager cannot be asked.
 */
export async function gatherInventory(config: ResolvedConfig, exec?: Exec): Promise<Inventory> {
  const systemdServices: Record<string, string[]> = {};
  const { command } = config.options;
  if (command !== 'orchestrate' && command !== 'plan') return { systemdServices };
  const hosts = new Set<string>();
  for (const stage of config.stages) {
    for (const unit of stage.units) if (unit.action.kind === 'systemd-match') hosts.add(unit.host ?? '');
  }
  if (hosts.size === 0) return { systemdServices };

  const own = exec ? undefined : createExec({ hosts: config.hosts, stateDir: config.stateDir, env: config.env });
  const runner = exec ?? own!;
  try {
    await Promise.all(
      [...hosts].map(async (host) => {
        const systemctl = createSystemctl(runner, {
          prefix: config.defaults.systemctl,
          ...(host !== '' && { host }),
          env: config.env,
          killGraceMs: Math.min(config.defaults.killGraceMs, 5_000),
        });
        const listed = await systemctl.listServices(CONTROL_TIMEOUT_MS);
        if (isSystemctlError(listed)) {
          throw new UsageError(
            `cannot expand systemd matches on ${host === '' ? 'this machine' : host}: expected a service list, but ${listed.error}; ${host === '' ? '' : `check that ${host} is reachable, and `}check defaults.systemctl (now ${JSON.stringify(config.defaults.systemctl)})`,
          );
        }
        systemdServices[host] = listed.services;
      }),
    );
  } finally {
    await own?.close().catch(() => undefined);
  }
  return { systemdServices };
}
