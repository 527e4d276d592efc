import * as fs from 'fs';
import * as path from 'path';
import { SUITES, SUITE_SECONDS, dealToLanes } from './e2e/lanes';

// How `npm run test:e2e` deals its suites to lanes (test/e2e/run.ts runs them).
const E2E = path.join(__dirname, 'e2e');

describe('the lanes of npm run test:e2e', () => {
  test('every suite of test/e2e (a file that calls e2eMain) has a time, and every timed suite exists', () => {
    const suites = fs.readdirSync(E2E).filter(f => f.endsWith('.ts') && f !== 'harness.ts')
      .filter(f => /^e2eMain\(/m.test(fs.readFileSync(path.join(E2E, f), 'utf-8'))).map(f => f.replace(/\.ts$/, ''));
    expect([...SUITES].sort()).toEqual(suites.sort());
  });

  test.each([1, 2, 3, 4, SUITES.length])('%i lane(s): every suite exactly once, longest first within a lane', count => {
    const lanes = dealToLanes(SUITES, count);
    expect(lanes).toHaveLength(count);
    expect(lanes.flat().map(s => s.name).sort()).toEqual([...SUITES].sort());
    lanes.forEach((lane, i) => {
      expect(lane.every(s => s.lane === i + 1)).toBe(true);
      const seconds = lane.map(s => SUITE_SECONDS[s.name]);
      expect(seconds).toEqual([...seconds].sort((a, b) => b - a));
    });
  });

  test('three lanes: CloudNativePG\'s suite, longer than the others divided between two lanes, runs alone', () => {
    const lanes = dealToLanes(SUITES, 3);
    expect(lanes[0].map(s => s.name)).toEqual(['cloudnative-pg']);
    const totals = lanes.map(lane => lane.reduce((sum, s) => sum + SUITE_SECONDS[s.name], 0));
    // The other two within the shortest suite of each other.
    expect(Math.abs(totals[1] - totals[2])).toBeLessThanOrEqual(Math.min(...Object.values(SUITE_SECONDS)));
  });

  test('some suites by name: as many lanes as suites at most', () => {
    expect(dealToLanes(['tanka', 'fleet'], 3).map(lane => lane.map(s => s.name))).toEqual([['fleet'], ['tanka']]);
  });
});
