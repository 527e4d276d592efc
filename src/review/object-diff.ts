import { ManifestObject, ManifestTree } from './manifest-tree';

/** One field that differs; `before` or `after` is undefined where the field is absent. */
export interface FieldChange {
  /** Path of the field, e.g. `spec.template.spec.containers[name=app].image`. */
  readonly path: string;
  /** Value at the base. */
  readonly before?: unknown;
  /** Value in the working tree. */
  readonly after?: unknown;
}

/** What happened to one object. */
export type ChangeKind = 'added' | 'removed' | 'changed';

/** An object that differs between two trees, identified by directory, kind, namespace and name. */
export interface ObjectChange {
  /** The tree directory: an environment, `apps` or `bootstrap`. */
  readonly directory: string;
  /** API group of the object (`''` for the core group). */
  readonly group: string;
  /** Kind. */
  readonly kind: string;
  /** Namespace, if namespaced. */
  readonly namespace?: string;
  /** Name. */
  readonly name: string;
  /** Added, removed or changed. */
  readonly change: ChangeKind;
  /** The object at the base (absent when added). */
  readonly before?: any;
  /** The object in the working tree (absent when removed). */
  readonly after?: any;
  /** For a changed object, the fields that differ, in path order. */
  readonly fields: readonly FieldChange[];
}

/** `Kind namespace/name`, how findings and reports name an object. */
export function describeObject(o: { kind: string; namespace?: string; name: string }): string {
  return `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;
}

/**
 * Compares two trees object by object (directory, group, kind, namespace and
 * name), ignoring the order of objects and files. Lists of named items
 * (containers, env, ports, volumes) are matched by name, so reordering them
 * is no change and a changed item is reported under its name.
 */
export function diffTrees(base: ManifestTree, head: ManifestTree): ObjectChange[] {
  const before = index(base.objects);
  const after = index(head.objects);
  const changes: ObjectChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(key);
    const a = after.get(key);
    const identity = identify((a ?? b)!);
    if (!b) {changes.push({ ...identity, change: 'added', after: a!.object, fields: [] });} else if (!a) {changes.push({ ...identity, change: 'removed', before: b.object, fields: [] });} else {
      const fields: FieldChange[] = [];
      diffValues(b.object, a.object, '', fields);
      if (fields.length > 0) changes.push({ ...identity, change: 'changed', before: b.object, after: a.object, fields });
    }
  }
  return changes;
}

function identify(m: ManifestObject) {
  const apiVersion: string = m.object.apiVersion ?? '';
  return {
    directory: m.directory,
    group: apiVersion.includes('/') ? apiVersion.split('/')[0] : '',
    kind: String(m.object.kind),
    ...(m.object.metadata?.namespace ? { namespace: String(m.object.metadata.namespace) } : {}),
    name: String(m.object.metadata?.name),
  };
}

function index(objects: readonly ManifestObject[]): Map<string, ManifestObject> {
  const byKey = new Map<string, ManifestObject>();
  for (const m of objects) {
    const id = identify(m);
    byKey.set([id.directory, id.kind, id.group, id.namespace ?? '', id.name].join('\u0000'), m);
  }
  return byKey;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyPath(parent: string, key: string): string {
  const segment = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : JSON.stringify(key);
  return parent === '' ? segment : segment.startsWith('"') ? `${parent}[${segment}]` : `${parent}.${segment}`;
}

/** The name of a list item: `name` (containers, env, ports) or `metadata.name` (claim templates). */
function itemName(item: unknown): string | undefined {
  if (!isPlainObject(item)) return undefined;
  const name = item.name ?? (isPlainObject(item.metadata) ? item.metadata.name : undefined);
  return typeof name === 'string' ? name : undefined;
}

/** Whether every item on both sides has a name, unique within its list. */
function namedItems(before: unknown[], after: unknown[]): boolean {
  for (const list of [before, after]) {
    const names = list.map(itemName);
    if (names.some(n => n === undefined) || new Set(names).size !== names.length) return false;
  }
  return before.length + after.length > 0;
}

function diffValues(before: unknown, after: unknown, at: string, out: FieldChange[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      diffValues(before[key], after[key], keyPath(at, key), out);
    }
  } else if (Array.isArray(before) && Array.isArray(after) && namedItems(before, after)) {
    const byName = (list: unknown[]) => new Map(list.map(i => [itemName(i)!, i]));
    const b = byName(before);
    const a = byName(after);
    for (const name of [...new Set([...b.keys(), ...a.keys()])].sort()) diffValues(b.get(name), a.get(name), `${at}[name=${name}]`, out);
  } else if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    before.forEach((item, i) => diffValues(item, after[i], `${at}[${i}]`, out));
  } else if (JSON.stringify(before) !== JSON.stringify(after)) {
    out.push({ path: at, ...(before !== undefined ? { before } : {}), ...(after !== undefined ? { after } : {}) });
  }
}
