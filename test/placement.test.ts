import { Testing } from 'cdk8s';
import { GoWebService, TopologySpread, ValidationError } from '../src';
import { APP_IMAGE } from './support/fixtures';
import { SchemaValidator } from './support/schema';
import { only, synthChart } from './support/synth';

const schema = new SchemaValidator();
const SELECTOR = { 'app.kubernetes.io/name': 'todo', 'app.kubernetes.io/component': 'web' };

function podSpec(placement?: ConstructorParameters<typeof GoWebService>[2]['placement']): any {
  const objects = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE, placement }));
  for (const o of objects) expect(schema.errors(o)).toEqual([]);
  return only(objects, 'Deployment', 'todo').spec.template.spec;
}

describe('GoWebService placement defaults', () => {
  const pod = podSpec();

  test('replicas spread over nodes (required) and zones (preferred), per revision, tainted nodes not counted', () => {
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: SELECTOR }, matchLabelKeys: ['pod-template-hash'], nodeTaintsPolicy: 'Honor' },
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: SELECTOR }, matchLabelKeys: ['pod-template-hash'], nodeTaintsPolicy: 'Honor' },
    ]);
  });

  test('the selector of the spread is the Deployment\'s', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE }));
    expect(only(objects, 'Deployment').spec.selector.matchLabels).toEqual(SELECTOR);
  });

  test('pods leave a lost node after 30 s, not Kubernetes\' 300', () => {
    expect(pod.tolerations).toEqual([
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
    ]);
  });

  test('the PodDisruptionBudget lets a drain evict one pod at a time', () => {
    const objects = synthChart(chart => new GoWebService(chart, 'todo', { image: APP_IMAGE }));
    expect(only(objects, 'PodDisruptionBudget').spec).toEqual({ selector: { matchLabels: SELECTOR }, maxUnavailable: 1 });
  });
});

describe('GoWebService placement options', () => {
  test('an empty spread turns spreading off; the tolerations stay', () => {
    const pod = podSpec({ spread: [] });
    expect(pod.topologySpreadConstraints).toBeUndefined();
    expect(pod.tolerations).toHaveLength(2);
  });

  test('nodes only, preferred, with a larger skew; a custom label', () => {
    const pod = podSpec({ spread: [TopologySpread.acrossNodes({ required: false, maxSkew: 2 }), TopologySpread.byNodeLabel('example.com/rack')] });
    expect(pod.topologySpreadConstraints.map((c: any) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable])).toEqual([
      ['kubernetes.io/hostname', 2, 'ScheduleAnyway'],
      ['example.com/rack', 1, 'ScheduleAnyway'],
    ]);
  });

  test('zones required', () => {
    const pod = podSpec({ spread: [TopologySpread.acrossZones({ required: true })] });
    expect(pod.topologySpreadConstraints.map((c: any) => c.whenUnsatisfiable)).toEqual(['DoNotSchedule']);
  });

  test('nodeLossTolerationSeconds sets both tolerations', () => {
    const pod = podSpec({ nodeLossTolerationSeconds: 300 });
    expect(pod.tolerations.map((t: any) => t.tolerationSeconds)).toEqual([300, 300]);
  });
});

describe('GoWebService placement: bad input', () => {
  const fails = (placement: any) => {
    const chart = Testing.chart();
    try {
      new GoWebService(chart, 'todo', { image: APP_IMAGE, placement });
    } catch (e) {
      return e as ValidationError;
    }
    throw new Error('no error');
  };

  test.each([
    [{ nodeLossTolerationSeconds: -1 }, 'test/todo: placement.nodeLossTolerationSeconds -1 is out of range: use an integer from 0 to 86400'],
    [{ spread: [TopologySpread.acrossNodes({ maxSkew: 0 })] }, 'test/todo: placement.spread[kubernetes.io/hostname].maxSkew 0 is out of range: use an integer from 1 to 1000'],
    [{ spread: [TopologySpread.byNodeLabel('bad key!')] }, 'test/todo: placement.spread.topologyKey "bad key!" is not a valid label key'],
    [{ spread: [TopologySpread.acrossZones(), TopologySpread.acrossZones()] }, 'test/todo: placement.spread names topology key "topology.kubernetes.io/zone" twice; keep one TopologySpread per key'],
  ])('%j', (placement, message) => {
    const error = fails(placement);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message.startsWith(message)).toBe(true);
  });
});
