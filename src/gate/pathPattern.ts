// Model-aware path patterns for fault rules. A pattern names the steps the path resolver found, not URL text:
//   "changeAssignments"            any path ending in that operation (keys in parentheses or segments alike)
//   "managedDevices/{id}/wipe"     a run of steps ending the path: a navigation or set, a key, an operation
//   "/deviceManagement/**"         anchored at the root; `*` is any one step, `**` any number of steps
//   "~/singleton/navigation/key/action"   the resolver's route template, exactly
// Literal names must exist in the model (an entity set, singleton, navigation, operation or type), so a typo
// is a 400 instead of a rule that never fires.

import type { CompiledModel } from "../odata/compiledModel.js";
import type { PathStep, ResolvedPath } from "../odata/pathResolver.js";

type Token = { kind: "name"; name: string } | { kind: "key" } | { kind: "one" } | { kind: "many" };

export interface PathPattern {
  readonly text: string;
  matches(resolved: ResolvedPath): boolean;
}

export class PathPatternError extends Error {}

/** The name a step answers to in a pattern; keys are `{key}`. */
function stepName(step: PathStep): string | undefined {
  switch (step.kind) {
    case "entitySet":
      return step.set.name;
    case "singleton":
      return step.name;
    case "navigation":
      return step.nav.name;
    case "operation":
      return step.op.name;
    case "cast":
      return step.type.name;
    case "count":
      return "$count";
    case "ref":
      return "$ref";
    case "key":
      return undefined;
  }
}

function tokenMatches(token: Token, step: PathStep): boolean {
  if (token.kind === "one") return true;
  if (token.kind === "key") return step.kind === "key";
  if (token.kind === "many") return false;
  return step.kind !== "key" && stepName(step)?.toLowerCase() === token.name;
}

/** Whether tokens[i..] match steps[j..] to the end. */
function matchFrom(tokens: Token[], i: number, steps: PathStep[], j: number): boolean {
  if (i === tokens.length) return j === steps.length;
  const token = tokens[i];
  if (token.kind === "many") {
    for (let k = j; k <= steps.length; k++) if (matchFrom(tokens, i + 1, steps, k)) return true;
    return false;
  }
  return j < steps.length && tokenMatches(token, steps[j]) && matchFrom(tokens, i + 1, steps, j + 1);
}

/** Every name a pattern may use. */
function modelNames(model: CompiledModel): Set<string> {
  const names = new Set<string>(["$count", "$ref"]);
  for (const n of model.entitySets.keys()) names.add(n.toLowerCase());
  for (const n of model.singletons.keys()) names.add(n.toLowerCase());
  for (const t of model.entityTypes.values()) {
    names.add(t.name.toLowerCase());
    for (const n of t.navigation.keys()) names.add(n.toLowerCase());
  }
  for (const op of model.decl.operations) names.add(op.name.toLowerCase());
  return names;
}

export function compilePathPattern(model: CompiledModel, text: string): PathPattern {
  const trimmed = text.trim();
  if (trimmed === "") throw new PathPatternError("the path pattern is empty");
  if (trimmed.startsWith("~/")) {
    return { text: trimmed, matches: (resolved) => resolved.template === trimmed };
  }
  const anchored = trimmed.startsWith("/");
  const known = modelNames(model);
  const tokens: Token[] = trimmed
    .split("/")
    .filter((s) => s !== "")
    .map((segment): Token => {
      if (segment === "**") return { kind: "many" };
      if (segment === "*") return { kind: "one" };
      if (/^\{[^{}]*\}$/.test(segment)) return { kind: "key" };
      const name = segment.replace(new RegExp(`^${model.namespace.replace(/\./g, "\\.")}\\.`), "").toLowerCase();
      if (!known.has(name)) throw new PathPatternError(`'${segment}' in the path pattern '${text}' is no entity set, singleton, navigation, operation or type of the model`);
      return { kind: "name", name };
    });
  if (tokens.length === 0) throw new PathPatternError("the path pattern names no step");
  const full = anchored ? tokens : [{ kind: "many" } as Token, ...tokens];
  return { text: trimmed, matches: (resolved) => matchFrom(full, 0, resolved.steps, 0) };
}
