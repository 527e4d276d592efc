import { App, ApiObject, ImplicitTokenResolver, Lazy, LazyResolver, NumberStringUnionResolver } from 'cdk8s';

/** What {@link plainJson} does besides copying. */
export interface PlainJsonOptions {
  /** Whether object keys are sorted, as cdk8s sorts them unless `CDK8S_DISABLE_SORT` is set. */
  readonly sortKeys: boolean;
  /**
   * Object keys at which the copy gives up and returns {@link STOPPED} (the
   * caller then takes cdk8s's own path).
   * @default - none
   */
  readonly stopAt?: ReadonlySet<string>;
  /**
   * Whether empty arrays and objects are dropped, as cdk8s drops them from
   * an object's metadata (an array before its items are copied, an object
   * after).
   * @default false
   */
  readonly dropEmpty?: boolean;
}

/** What {@link plainJson} returns when it met a key of `stopAt`. */
export const STOPPED: unique symbol = Symbol('plainJson stopped');

/**
 * A copy of a value as cdk8s's resolution with its built-in resolvers and
 * then its sanitizing give it, in one walk: `Lazy` values produced, implicit
 * tokens (objects with a `resolve()`) resolved, number-or-string unions
 * (`IntOrString`, `Quantity`) replaced by their value, null and undefined
 * dropped from objects, keys sorted when asked.
 *
 * cdk8s's `resolve` asks every resolver about every value through a context
 * object and copies the key path at each step, then `sanitizeValue` copies
 * the result again: for the 12,000 objects of 1,000 service and database
 * pairs that was a quarter of a synth. Use it only where the App's resolvers
 * are the built-in ones ({@link hasBuiltInResolversOnly}): a custom resolver
 * may rewrite any value.
 * @internal
 */
export function plainJson(value: any, options: PlainJsonOptions): any {
  if (value == null) return undefined;
  if (typeof value !== 'object') return value;
  // cdk8s's resolvers in their order: Lazy, then anything with a resolve(), then unions (below).
  if (value instanceof Lazy) return plainJson(value.produce(), options);
  if (typeof value.resolve === 'function') return plainJson(value.resolve(), options);
  if (Array.isArray(value)) {
    if (options.dropEmpty && value.length === 0) return undefined;
    const items = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      if ((items[i] = plainJson(value[i], options)) === STOPPED) return STOPPED;
    }
    return items;
  }
  if (value.constructor !== Object) return unionValue(value);
  const keys = Object.keys(value);
  if (options.sortKeys) keys.sort();
  const copy: Record<string, unknown> = {};
  let empty = true;
  for (const key of keys) {
    if (options.stopAt?.has(key)) return STOPPED;
    const item = plainJson(value[key], options);
    if (item === STOPPED) return STOPPED;
    if (item != null) {
      copy[key] = item;
      empty = false;
    }
  }
  return options.dropEmpty && empty ? undefined : copy;
}

/** The value of a number-or-string union such as `IntOrString`; any other class is refused as cdk8s refuses it. */
function unionValue(value: any): string | number {
  if (typeof value.value === 'number' || typeof value.value === 'string') return value.value;
  throw new Error(`can't render non-simple object of type '${value.constructor?.name}'`);
}

/** Whether the App of `object` resolves with cdk8s's built-in resolvers alone (no `resolvers` prop). */
export function hasBuiltInResolversOnly(object: ApiObject): boolean {
  return App.of(object).resolvers.every(r =>
    r instanceof LazyResolver || r instanceof ImplicitTokenResolver || r instanceof NumberStringUnionResolver);
}
