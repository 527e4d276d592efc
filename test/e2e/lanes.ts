/**
 * How `npm run test:e2e` (test/e2e/run.ts) deals the suites to its lanes.
 */

/**
 * Each suite (test/e2e/<name>.ts) and its seconds in a run of all in three lanes on this machine,
 * caches warm (2026-12-03, twelfth session): what the lanes are balanced by.
 */
export const SUITE_SECONDS: Record<string, number> = {
  'cloudnative-pg': 1171,
  'pods': 571,
  'sealed-secrets': 369,
  'image-build': 335,
  'demo': 230,
  'argocd': 195,
  'live-view': 103,
  'fleet': 102,
  'cluster': 82,
  'package': 64,
  'tanka': 46,
};
export const SUITES = Object.keys(SUITE_SECONDS);
export const DEFAULT_LANES = 3;

export interface Suite {
  readonly name: string;
  /** 1-based. */
  readonly lane: number;
}

/**
 * `names` dealt to `count` lanes, longest first, each to the lane with the least seconds so far
 * (Graham's longest-processing-time rule: a suite longer than the rest divided among the other
 * lanes gets a lane of its own). Lanes left empty, when there are fewer suites than lanes, are dropped.
 */
export function dealToLanes(names: string[], count: number): Suite[][] {
  const lanes = Array.from({ length: count }, () => ({ seconds: 0, suites: [] as Suite[] }));
  for (const name of [...names].sort((a, b) => SUITE_SECONDS[b] - SUITE_SECONDS[a])) {
    const index = lanes.reduce((best, lane, i) => lane.seconds < lanes[best].seconds ? i : best, 0);
    lanes[index].seconds += SUITE_SECONDS[name];
    lanes[index].suites.push({ name, lane: index + 1 });
  }
  return lanes.map(l => l.suites).filter(l => l.length > 0);
}
