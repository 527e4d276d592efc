import { ApiObject, ApiObjectProps, App, Chart, JsonPatch, Lazy } from 'cdk8s';
import { VendoredObject } from '../src/common/vendored-object';

/** An upstream-like object: keys out of order at every depth, nulls, arrays of objects. */
const MANIFEST: ApiObjectProps = {
  kind: 'CustomResourceDefinition',
  apiVersion: 'apiextensions.k8s.io/v1',
  metadata: { name: 'widgets.example.com', annotations: { 'z.example.com/b': '2', 'a.example.com/a': '1' } },
  spec: {
    versions: [{ served: true, name: 'v1', schema: { openAPIV3Schema: { type: 'object', properties: { zeta: { type: 'string' }, alpha: { type: 'integer', default: null } } } } }],
    group: 'example.com',
    names: { plural: 'widgets', kind: 'Widget' },
    conversion: null,
    scope: 'Namespaced',
  },
  status: { storedVersions: ['v1', null] },
};

/** The same object synthesized by ApiObject and by VendoredObject, each in its own chart. */
function both(change: (o: ApiObject) => void = () => undefined): [any, any] {
  return [ApiObject, VendoredObject].map(Kind => {
    const chart = new Chart(new App(), 'chart', { namespace: 'ns', labels: { team: 'platform', lazy: Lazy.any({ produce: () => 'resolved' }) as any } });
    const object = new Kind(chart, 'Object', JSON.parse(JSON.stringify(MANIFEST)));
    change(object);
    return JSON.stringify(chart.toJson());
  }) as [any, any];
}

describe('VendoredObject', () => {
  test('synthesizes byte for byte what ApiObject does: keys sorted, nulls dropped, metadata with chart labels (a token resolved) first', () => {
    const [expected, actual] = both();
    expect(actual).toBe(expected);
    const [object] = JSON.parse(actual);
    expect(Object.keys(object)).toEqual(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    expect(object.metadata.labels).toEqual({ lazy: 'resolved', team: 'platform' });
    expect(Object.keys(object.spec)).toEqual(['group', 'names', 'scope', 'versions']);
  });

  test('applies JSON patches as ApiObject does', () => {
    const [expected, actual] = both(o => o.addJsonPatch(JsonPatch.add('/spec/preserveUnknownFields', false), JsonPatch.remove('/status')));
    expect(actual).toBe(expected);
    expect(JSON.parse(actual)[0].spec.preserveUnknownFields).toBe(false);
  });

  test('keeps upstream key order when CDK8S_DISABLE_SORT is set, as ApiObject does', () => {
    process.env.CDK8S_DISABLE_SORT = '1';
    try {
      const [expected, actual] = both();
      expect(actual).toBe(expected);
      expect(Object.keys(JSON.parse(actual)[0].spec)).toEqual(['versions', 'group', 'names', 'scope']);
    } finally {
      delete process.env.CDK8S_DISABLE_SORT;
    }
  });

  test('refuses a value that is not plain JSON, naming the construct path', () => {
    const chart = new Chart(new App(), 'chart');
    new VendoredObject(chart, 'Object', { ...MANIFEST, spec: { when: new Date(0) } });
    expect(() => chart.toJson()).toThrow(/construct at path 'chart\/Object'.*non-simple object of type 'Date'/);
  });
});
