/**
 * Module resolve hook (node:module register) installed while a config module loads: an import
 * of `ifpp-station` or `ifpp-station/…` that resolves nowhere else resolves to the running
 * ifpp's own package, through its `exports` map. So a layout script beside a globally installed
 * ifpp can `import { gridSlots } from 'ifpp-station/config'` without a local node_modules.
 */
interface ResolveContext {
  parentURL?: string;
  conditions?: string[];
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<{ url: string }>;

let packageJsonUrl: string | undefined;

export function initialize(data: { packageJsonUrl: string }): void {
  packageJsonUrl = data.packageJsonUrl;
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{ url: string }> {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (!packageJsonUrl || !(specifier === 'ifpp-station' || specifier.startsWith('ifpp-station/'))) throw e;
    // Resolved as if imported from inside the package: Node's self-reference applies the exports map.
    return nextResolve(specifier, { ...context, parentURL: packageJsonUrl });
  }
}
