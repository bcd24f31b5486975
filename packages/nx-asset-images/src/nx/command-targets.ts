/**
 * Whether an Nx command may run a given target, from its argv alone: what the
 * content index hook (`preTasksExecution`, which sees argv but no task graph)
 * uses to do nothing for a command that runs no asset build. A "maybe" costs
 * only the index's stat pass; a wrong "no" costs speed, never correctness (the
 * runtime input computes the key itself when the hook has not set it).
 */
import type { ProjectGraph, TargetDependencyConfig } from '@nx/devkit';

/** Characters that make a `dependsOn` target name a pattern (Nx matches those with minimatch). */
const PATTERN = /[*?[\]{}!()|+@]/;

/**
 * The target names of the graph whose tasks may run `target`'s tasks: `target` and every target whose
 * `dependsOn` names one of them (`name`, `^name`, `project:name` or `{ target: name }`), transitively.
 * A `dependsOn` name that is a pattern counts as reaching (it may match).
 */
export function targetsReaching(graph: Pick<ProjectGraph, 'nodes'>, target: string): Set<string> {
  const dependents = new Map<string, Set<string>>(); // dependency name -> names of targets that depend on it
  const patterned = new Set<string>();
  for (const node of Object.values(graph.nodes)) {
    for (const [name, config] of Object.entries(node.data.targets ?? {})) {
      for (const dependency of config.dependsOn ?? []) {
        const depName = dependsOnTargetName(dependency);
        if (depName === undefined) continue;
        if (PATTERN.test(depName)) patterned.add(name);
        else {
          let set = dependents.get(depName);
          if (!set) dependents.set(depName, (set = new Set()));
          set.add(name);
        }
      }
    }
  }
  const reaching = new Set<string>([target, ...patterned]);
  const queue = [...reaching];
  while (queue.length > 0) {
    for (const name of dependents.get(queue.pop()!) ?? []) {
      if (!reaching.has(name)) {
        reaching.add(name);
        queue.push(name);
      }
    }
  }
  return reaching;
}

function dependsOnTargetName(dependency: string | TargetDependencyConfig): string | undefined {
  if (typeof dependency !== 'string') return dependency.target;
  const name = dependency.startsWith('^') ? dependency.slice(1) : dependency;
  // `project:target` (Nx 19+): the target is after the last colon that is not part of a configuration.
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/**
 * Whether the command `argv` (Nx's `context.argv`: `run-many -t a,b`, `run p:t:c`, `affected --targets=a`,
 * the infix `t p`) names any of `targets`. Every word is split at `:`, `,` and `=`, so a target is found
 * wherever the command names it; a word that only looks like one (a project of that name) is a harmless "maybe".
 */
export function commandNamesTarget(argv: readonly string[], targets: ReadonlySet<string>): boolean {
  for (const word of argv) for (const part of word.split(/[:,=]/)) if (targets.has(part)) return true;
  return false;
}
