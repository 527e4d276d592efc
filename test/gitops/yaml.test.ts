import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Yaml } from 'cdk8s';
import * as YAML from 'yaml';
import { toYaml, writeYamlFile } from '../../src/gitops/yaml';

/** Kubernetes reads manifests with YAML 1.1 rules; other tools use YAML 1.2. */
const VERSIONS = ['1.1', '1.2'] as const;

/** Parses a YAML stream, failing on any parse error. */
function parseAll(text: string, version: '1.1' | '1.2'): unknown[] {
  return YAML.parseAllDocuments(text, { version }).map((doc) => {
    if (doc.errors.length > 0) {
      throw new Error(`YAML ${version} parse error: ${doc.errors[0].message}\n${text}`);
    }
    return doc.toJS();
  });
}

/** Asserts the documents come back unchanged under both YAML versions and returns the text. */
function expectRoundTrip(docs: unknown[]): string {
  const text = toYaml(docs);
  for (const version of VERSIONS) {
    expect({ version, docs: parseAll(text, version) }).toStrictEqual({ version, docs });
  }
  return text;
}

/** Every `.yaml` file below `dir`, sorted for a stable test order. */
function yamlFilesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFilesUnder(full);
      return entry.name.endsWith('.yaml') ? [full] : [];
    })
    .sort();
}

/**
 * A Park-Miller (MINSTD) generator: a tiny seeded PRNG, so the fuzz cases are
 * the same on every run. The products stay below 2^53, so plain arithmetic is exact.
 */
function prng(seed: number): () => number {
  const modulus = 2147483647;
  let state = (seed % (modulus - 1)) + 1;
  return () => {
    state = (state * 48271) % modulus;
    return (state - 1) / (modulus - 1);
  };
}

const DIST = path.join(__dirname, '..', '..', 'dist');
const DIST_FILES = fs.existsSync(DIST) ? yamlFilesUnder(DIST) : [];

describe('matches cdk8s Yaml.stringify on the synthesized manifests', () => {
  test('dist/ holds manifests to compare against', () => {
    expect(DIST_FILES.length).toBeGreaterThan(0);
  });

  test.each(DIST_FILES.map((file) => [path.relative(DIST, file), file]))('%s', (_name, file) => {
    const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((doc) => doc.toJS());
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) {
      expect(toYaml([doc])).toBe(Yaml.stringify(doc));
    }
    expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
    expectRoundTrip(docs);
  });
});

/**
 * Strings that must survive as strings, with or without quotes. Each is used
 * as a value, a key, a sequence item and a whole document.
 */
const TRICKY_STRINGS: string[] = [
  // YAML 1.1 and 1.2 scalars of other types
  'yes', 'Yes', 'YES', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF', 'y', 'Y', 'n', 'N',
  'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '~', 'null', 'Null', 'NULL',
  '0', '-0', '123', '+1', '-1', '1.0', '.5', '-.5', '+.5e3', '1e3', '1E3', '1e+3', '1e-3', '0.', '.',
  '0x1F', '0X1F', '-0x1F', '0x_1F', '0o7', '0O7', '+0o7', '0777', '09', '0b101', '0B1', '-0b1',
  '1_000', '1e_3', '1:20', '12:30:00', '1:20.5', '.inf', '-.Inf', '+.INF', '.nan', '.NaN',
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2001-12-14T21:59:43Z',
  '<<', '=',
  // indicators and structure
  ' a', 'a ', ' ', '   ', 'a: b', 'a:b', 'a:', ':', ':a', '::', 'a #b', 'a#b', '#a', '#',
  '- a', '-', '-a', '--port=5432', '---', '--- a', '---a', '...', '... a', 'a\n---\nb', 'a\n...\nb',
  '@a', '`a`', '%a', '%YAML 1.1', '!a', '!!str', '&a', '*a', '?', '? a', '?a', '|', '|a', '>', '>a',
  '[a]', '{a}', 'a, b', ',a', 'a]', 'a}', 'a,b',
  // quotes
  '"a"', "'a'", "it's", 'say "hi"', 'say "hi": now', "it's: here", 'a"b\'c', "'", '"', '\\', 'C:\\dir',
  // whitespace and control characters
  '\t', 'a\tb', '\ta', 'a\t', 'a \t b', '\r', 'a\rb', 'a\r\nb', '\x00', '\x07', '\x1b[0m', '\x7f', '\x9f',
  '\u0085', 'a\u0085b', '\u00a0', 'a\u00a0b', '\u2028', 'a\u2028b', 'a\u2029b', '\ufeff', '\ufeffa', '\ufffe',
  '\ud800', 'a\udc00b',
  // unicode
  'héllo', '日本語', 'Ünïcödé: x', '😀', 'ok 😀 #1', '\u{1f600}\u{1f600}',
  // empty and multi-line
  '', '\n', '\n\n', '\n\n\n', 'a\nb', 'a\nb\n', 'a\nb\n\n', 'a\nb\n\n\n', '\na', '\n\na', 'a\n\n\nb',
  '  a\nb', ' a\n b', ' \nb', '\n  a', '\n \n', 'a\n  \nb', 'a\n  ', 'a\n\t', 'a \nb', 'a\t\nb', 'a\n b\n',
  '   \n', 'a\n#b', 'a\n- b', 'a\n? b', 'a\nb: c', 'a\n%b', '# a\nb', '- a\n- b', 'a\n\r\nb',
  'set -eu\nexec "$@"\n', 'line one\nline two with a long tail to pass forty chars\n  indented\n\n',
  '\x01 control and a line break\nwith a long second line here\n  and more\n\n\nend ',
  // long strings and long keys (more than 1024 characters need an explicit key)
  'x'.repeat(2000), `${'y'.repeat(1100)}: z`, `${'long line '.repeat(200)}\n${'and another '.repeat(100)}`,
];

/**
 * Strings where toYaml deliberately differs from cdk8s's Yaml.stringify,
 * which writes them plain, raw or as block literals although some YAML reader
 * would change or reject them: go-yaml reads the numbers as ints or floats,
 * PyYAML rejects `=` and `<<` values and tabs in plain scalars, the raw
 * characters are line breaks in YAML 1.1 or non-printable, and blocks of only
 * whitespace read back without their spaces (in the `yaml` package too).
 */
const DELIBERATE_DIFFERENCES = new Set<string>([
  '0o7', '0X1F', '0O7', '+0o7', '0B1', '1e_3', '<<', '=', 'a\tb', 'a \t b', '\n \n', '   \n',
  '\x7f', '\x9f', '\u0085', 'a\u0085b', '\u2028', 'a\u2028b', 'a\u2029b', '\ufeff', '\ufeffa', '\ufffe',
]);

describe('tricky strings', () => {
  test.each(TRICKY_STRINGS.map((s) => [JSON.stringify(s).slice(0, 60), s]))('%s round-trips', (_name, s) => {
    expectRoundTrip([
      { value: s, list: [s, { [s]: s }, [s]] },
      { [s]: 'as a key', nested: { [s]: { [s]: [s] } } },
      [s],
      s,
    ]);
  });

  test.each(TRICKY_STRINGS.filter((s) => !DELIBERATE_DIFFERENCES.has(s)).map((s) => [JSON.stringify(s).slice(0, 60), s]))(
    '%s is written as cdk8s writes it', (_name, s) => {
      const docs = [{ value: s, list: [s, { [s]: s }, [s]] }, { [s]: 'as a key', nested: { [s]: { [s]: [s] } } }, [s]];
      expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
    },
  );

  test.each([
    ['--port=5432', '--port=5432'],
    ['app.kubernetes.io/name', 'app.kubernetes.io/name'],
    ['postgres:16.4-alpine', 'postgres:16.4-alpine'],
    ['a:b', 'a:b'],
    ['a#b', 'a#b'],
    ['-a', '-a'],
    ['it\'s', 'it\'s'],
    ['ok 😀', 'ok 😀'],
    ['a\tb', '"a\\tb"'],
    ['a\t"b', '\'a\t"b\''],
    // a space before a line break is escaped: YAML folding would eat it
    ['   \n', '"  \\ \\n"'],
    ['\n \n', '"\\n\\ \\n"'],
    ['yes', '"yes"'],
    ['y', '"y"'],
    ['~', '"~"'],
    ['0x1F', '"0x1F"'],
    ['1_000', '"1_000"'],
    ['2001-12-14', '"2001-12-14"'],
    ['0o7', '"0o7"'],
    ['0X1F', '"0X1F"'],
    ['1e_3', '"1e_3"'],
    ['<<', '"<<"'],
    ['=', '"="'],
    ['', '""'],
    [' a', '" a"'],
    ['a ', '"a "'],
    ['a: b', '"a: b"'],
    ['a #b', '"a #b"'],
    ['#a', '"#a"'],
    ['- a', '"- a"'],
    ['say "hi": now', '\'say "hi": now\''],
    ['it\'s: here', '"it\'s: here"'],
    ['a"b\'c: d', '"a\\"b\'c: d"'],
    ['\ta', '"\\ta"'],
    ['a\rb', '"a\\rb"'],
    ['\x00\x07\x1b\x01', '"\\0\\a\\e\\x01"'],
    ['a\u0085b', '"a\\u0085b"'],
    ['a\u2028b', '"a\\u2028b"'],
    ['a\u2029b', '"a\\u2029b"'],
    ['\ufeffa', '"\\ufeffa"'],
    ['\x7f', '"\\u007f"'],
    ['\ud800', '"\\ud800"'],
    ['a\nb', '|-\n  a\n  b'],
    ['a\nb\n', '|\n  a\n  b'],
    ['a\nb\n\n', '|+\n  a\n  b\n'],
    ['a\n\nb', '|-\n  a\n\n  b'],
    ['  a\nb', '|2-\n    a\n  b'],
    ['\n  a', '|2-\n  \n    a'],
    ['a\n  ', '"a\\n  "'],
    ['a\n  \nb', '|-\n  a\n    \n  b'],
    ['a\tb\n', '|\n  a\tb'],
  ])('%j is written as %s', (s, expected) => {
    expect(toYaml([{ k: s }])).toBe(`k: ${expected}\n`);
    expectRoundTrip([{ k: s }]);
  });

  test('keys follow the same quoting rules as values', () => {
    const doc = { 'yes': 1, '--port': 2, 'a: b': 3, 'say "hi": x': 4, '0o7': 5, 'a\nb': 6, '': 7, 'app.kubernetes.io/name': 8 };
    expect(toYaml([doc])).toBe([
      '"yes": 1',
      '--port: 2',
      '"a: b": 3',
      '\'say "hi": x\': 4',
      '"0o7": 5',
      '"a\\nb": 6',
      '"": 7',
      'app.kubernetes.io/name: 8',
      '',
    ].join('\n'));
    expectRoundTrip([doc]);
  });

  test('document markers are quoted only where they would start a line', () => {
    const docs = [{ '---': '---', 'nested': { '---': '...' }, 'list': ['---', { '...': 1 }] }];
    expect(toYaml(docs)).toBe([
      '"---": ---',
      'nested:',
      '  ---: ...',
      'list:',
      '  - ---',
      '  - ...: 1',
      '',
    ].join('\n'));
    expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
    expectRoundTrip(docs);
  });

  test('a key longer than 1024 characters becomes an explicit key', () => {
    const long = 'k'.repeat(1030);
    const docs = [{ [long]: 1, nested: { [long]: { a: [1] } }, list: [{ [long]: ['x'] }] }];
    expect(toYaml(docs)).toBe([
      `? ${long}`,
      ': 1',
      'nested:',
      `  ? ${long}`,
      '  : a:',
      '      - 1',
      'list:',
      `  - ? ${long}`,
      '    : - x',
      '',
    ].join('\n'));
    expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
    expectRoundTrip(docs);
  });
});

describe('scalars other than strings', () => {
  test('numbers, booleans and null are written as the yaml package writes them', () => {
    const docs = [{
      ints: [0, -0, 1, -1, 42, 2 ** 31, Number.MAX_SAFE_INTEGER],
      floats: [0.1, -1.5, 1e21, 1.5e-7, 123.456, 5e-324],
      flags: [true, false],
      none: null,
    }];
    expect(toYaml(docs)).toBe(Yaml.stringify(...docs));
    expect(toYaml([{ a: 1.5, b: -0, c: 1e21, d: 1e-7 }])).toBe('a: 1.5\nb: -0\nc: 1e+21\nd: 1e-7\n');
    expectRoundTrip(docs);
  });

  test('scalar documents', () => {
    expect(toYaml(['abc', 1, true, null, 'yes'])).toBe('abc\n---\n1\n---\ntrue\n---\nnull\n---\n"yes"\n');
    // At the root, block content is indented (cdk8s writes it at column 0).
    expect(toYaml(['a\nb'])).toBe('|-\n  a\n  b\n');
    expect(toYaml(['---'])).toBe('|-\n  ---\n');
    expectRoundTrip(['abc', 'a\nb', '---', '...', '%a', '- a\n? b\n: c\n#d\n']);
  });
});

describe('nesting', () => {
  test.each<[string, unknown, string]>([
    ['empty map at the root', {}, '{}\n'],
    ['empty list at the root', [], '[]\n'],
    ['list at the root', ['a', 1], '- a\n- 1\n'],
    ['list in list', [[1, 2], [3, [4, 5]]], '- - 1\n  - 2\n- - 3\n  - - 4\n    - 5\n'],
    ['map in list in map', { a: [{ b: 1, c: { d: [{ e: 'f', g: [] }] } }] }, [
      'a:',
      '  - b: 1',
      '    c:',
      '      d:',
      '        - e: f',
      '          g: []',
      '',
    ].join('\n')],
    ['empty containers as values', { a: {}, b: [], c: { d: {}, e: [] } }, 'a: {}\nb: []\nc:\n  d: {}\n  e: []\n'],
    ['empty containers as items', [{}, [], [[]], [{}], { a: [{}] }], '- {}\n- []\n- - []\n- - {}\n- a:\n    - {}\n'],
    ['list of lists of maps', [[{ a: 1, b: 2 }, { c: 3 }]], '- - a: 1\n    b: 2\n  - c: 3\n'],
    ['block scalars in nested positions', { a: ['x\ny', { b: 'p\nq\n', c: [['r\n\n']] }] }, [
      'a:',
      '  - |-',
      '    x',
      '    y',
      '  - b: |',
      '      p',
      '      q',
      '    c:',
      '      - - |+',
      '          r',
      '',
      '',
    ].join('\n')],
    ['null values', { a: null, b: [null, { c: null }] }, 'a: null\nb:\n  - null\n  - c: null\n'],
  ])('%s', (_name, doc, expected) => {
    expect(toYaml([doc])).toBe(expected);
    expect(toYaml([doc])).toBe(Yaml.stringify(doc));
    expectRoundTrip([doc]);
  });

  test('documents are joined by ---', () => {
    expect(toYaml([])).toBe('');
    expect(toYaml([{ a: 1 }])).toBe('a: 1\n');
    expect(toYaml([{ a: 1 }, [], { b: 'x\n\n' }, { c: 2 }])).toBe('a: 1\n---\n[]\n---\nb: |+\n  x\n\n---\nc: 2\n');
    expectRoundTrip([{ a: 1 }, [], { b: 'x\n\n' }, { c: 2 }]);
  });

  test('keys keep their order and undefined values are skipped', () => {
    // cdk8s writes `skipped: null` here; toYaml behaves like JSON.stringify.
    const doc = { z: 1, a: 2, skipped: undefined, m: { only: undefined }, l: [{ x: undefined, y: 1 }] };
    expect(toYaml([doc])).toBe('z: 1\na: 2\nm: {}\nl:\n  - "y": 1\n');
    expect(parseAll(toYaml([doc]), '1.1')).toStrictEqual([JSON.parse(JSON.stringify(doc))]);
  });

  test('null-prototype objects and shared (non-circular) references are accepted', () => {
    const shared = Object.assign(Object.create(null) as Record<string, unknown>, { name: 'x' });
    expect(toYaml([{ a: shared, b: [shared, shared] }])).toBe('a:\n  name: x\nb:\n  - name: x\n  - name: x\n');
  });
});

/** Builds random nested JSON values from a PRNG. */
class RandomValues {
  constructor(
    private readonly random: () => number,
    private readonly atoms: readonly string[],
    private readonly adjust: (s: string) => string = (s) => s,
  ) {}

  public value(depth: number): unknown {
    const r = this.random();
    if (depth >= 4 || r < 0.45) return this.scalar();
    const size = Math.floor(this.random() * 4);
    if (r < 0.75) {
      const obj: Record<string, unknown> = {};
      for (let i = 0; i < size; i++) obj[this.string()] = this.value(depth + 1);
      return obj;
    }
    return Array.from({ length: size }, () => this.value(depth + 1));
  }

  public scalar(): unknown {
    const r = this.random();
    if (r < 0.75) return this.string();
    if (r < 0.85) return Math.floor(this.random() * 20000 - 10000) / (this.random() < 0.5 ? 1 : 16);
    if (r < 0.93) return this.random() < 0.5;
    return null;
  }

  public string(): string {
    const length = Math.floor(this.random() * 6);
    let s = '';
    for (let i = 0; i < length; i++) s += this.atoms[Math.floor(this.random() * this.atoms.length)];
    return this.adjust(s);
  }
}

/** Pieces that combine into strings YAML treats specially, and ordinary text. */
const COMPATIBLE_ATOMS = [
  ' ', '  ', '\n', '\n\n', '\r', ':', ': ', ' #', '#', '-', '- ', '?', '? ', '---', '...', '%', '@', '`', '!', '&',
  '*', '|', '>', "'", '"', ',', '[', ']', '{', '}', '~', '\\', '/', 'a', 'b', 'x', 'y', 'Y', 'n', 'N', 'e', 'E', 'T',
  'null', 'true', 'False', 'yes', 'no', 'on', 'OFF', '0', '1', '7', '9', '.', '+', '0x', '0b', '1e3', '2001-12-14',
  '12:30', '.inf', '.nan', 'é', '日本', '😀', '\u00a0', '\u0001', '\u001b', '\ud800',
];

/** Additional pieces for which toYaml deliberately quotes or escapes more than cdk8s. */
const EXTRA_ATOMS = ['\t', '<<', '=', '_', '0o', '0O', '0X', '0B', '\u2028', '\u2029', '\u0085', '\ufeff', '\x7f', '\ufffe'];

describe('seeded fuzz', () => {
  test('random nested values round-trip in YAML 1.1 and 1.2', () => {
    const gen = new RandomValues(prng(20240611), [...COMPATIBLE_ATOMS, ...EXTRA_ATOMS]);
    for (let i = 0; i < 2500; i++) {
      // Top-level scalars are included: they take the root code paths.
      const docs = [gen.value(0), gen.value(0), { k: gen.value(1) }];
      const text = toYaml(docs);
      for (const version of VERSIONS) {
        const parsed = parseAll(text, version);
        if (JSON.stringify(parsed) !== JSON.stringify(docs)) {
          // Report the failing case in full; toStrictEqual alone would hide the text.
          expect({ version, text, parsed }).toStrictEqual({ version, text, parsed: docs });
        }
      }
    }
  });

  test('random manifests without deliberate differences match cdk8s byte for byte', () => {
    // Lines of only spaces with no content are a deliberate difference too.
    const gen = new RandomValues(prng(7), COMPATIBLE_ATOMS, (s) => (/^[\n ]*$/.test(s) ? `${s}x` : s));
    for (let i = 0; i < 1500; i++) {
      const docs = [{ k: gen.value(1) }, [gen.value(1)], { [gen.string()]: gen.value(1) }];
      const text = toYaml(docs);
      if (text !== Yaml.stringify(...docs)) {
        expect({ docs, text }).toStrictEqual({ docs, text: Yaml.stringify(...docs) });
      }
    }
  });
});

describe('invalid input', () => {
  const sparseList = () => {
    const list = new Array<string>(2);
    list[1] = 'b';
    return list;
  };
  const containerWith = (image: unknown) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    spec: { template: { spec: { containers: [{ name: 'app', image }] } } },
  });

  test.each<[string, unknown, RegExp]>([
    ['a function', containerWith(() => 'nginx'), /cannot serialize a function at spec\.template\.spec\.containers\[0\]\.image \(document 0\)/],
    ['NaN', containerWith(NaN), /cannot serialize NaN at spec\.template\.spec\.containers\[0\]\.image/],
    ['Infinity', containerWith(Infinity), /cannot serialize Infinity at spec\.template\.spec\.containers\[0\]\.image/],
    ['-Infinity', containerWith(-Infinity), /cannot serialize -Infinity at spec\.template\.spec\.containers\[0\]\.image/],
    ['a bigint', containerWith(BigInt(5)), /cannot serialize a bigint \(5n\) at spec\.template\.spec\.containers\[0\]\.image/],
    ['a symbol', containerWith(Symbol('s')), /cannot serialize a symbol \(Symbol\(s\)\) at spec\.template\.spec\.containers\[0\]\.image/],
    ['a Date', containerWith(new Date(0)), /cannot serialize an instance of Date at spec\.template\.spec\.containers\[0\]\.image/],
    ['a Map', containerWith(new Map()), /cannot serialize an instance of Map at spec\.template\.spec\.containers\[0\]\.image/],
    ['a class instance', containerWith(new (class Image { public ref = 'x'; })()), /an instance of Image at spec\.template\.spec\.containers\[0\]\.image/],
    ['a boxed string', containerWith(Object('x')), /an instance of String at spec\.template\.spec\.containers\[0\]\.image/],
    ['undefined in a list', { spec: { args: ['a', undefined] } }, /cannot serialize undefined at spec\.args\[1\]/],
    ['a sparse list', { spec: { args: sparseList() } }, /cannot serialize undefined at spec\.args\[0\]/],
    ['a key that is not an identifier', { metadata: { labels: { 'app.kubernetes.io/name': NaN } } }, /at metadata\.labels\["app\.kubernetes\.io\/name"\]/],
    ['an invalid item at the root', [1, () => 2], /cannot serialize a function at \[1\]/],
    ['an undefined document', undefined, /cannot serialize undefined as the document \(document 0\)/],
  ])('%s', (_name, doc, message) => {
    expect(() => toYaml([doc])).toThrow(message);
  });

  test('circular references', () => {
    const spec: Record<string, unknown> = { replicas: 1 };
    spec.self = { again: [spec] };
    expect(() => toYaml([{ spec }])).toThrow(/cannot serialize a circular reference at spec\.self\.again\[0\] \(document 0\)/);
    const list: unknown[] = [];
    list.push(list);
    expect(() => toYaml([list])).toThrow(/a circular reference at \[0\]/);
  });

  test('the document index is reported', () => {
    expect(() => toYaml([{ a: 1 }, { b: 2 }, { c: { d: [1, NaN] } }])).toThrow(/at c\.d\[1\] \(document 2\)/);
  });

  test('a non-array argument', () => {
    expect(() => toYaml({ a: 1 } as unknown as unknown[])).toThrow(TypeError);
  });
});

describe('writeYamlFile', () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yaml-write-')); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['no documents', []],
    ['one document', [{ a: 1 }]],
    ['scalar and multi-line documents', ['a\nb', 1, { k: 'v' }, null]],
    // Far past one write chunk, so the stream is written in many pieces.
    ['more than a megabyte', Array.from({ length: 3000 }, (_, i) => ({ metadata: { name: `object-${i}` }, data: { text: 'x'.repeat(500) } }))],
  ])('%s: the bytes of toYaml', (_name, docs) => {
    const file = path.join(dir, 'out.yaml');
    writeYamlFile(file, docs);
    expect(fs.readFileSync(file, 'utf-8')).toBe(toYaml(docs));
  });

  test('fails as toYaml does, and closes the file', () => {
    const file = path.join(dir, 'out.yaml');
    // Open descriptors, where the platform lists them (Linux).
    const openFds = () => (fs.existsSync('/proc/self/fd') ? fs.readdirSync('/proc/self/fd').length : 0);
    const before = openFds();
    expect(() => writeYamlFile(file, [{ a: 1 }, { b: NaN }])).toThrow(/cannot serialize NaN at b \(document 1\)/);
    expect(() => writeYamlFile(file, { a: 1 } as unknown as unknown[])).toThrow(TypeError);
    expect(openFds()).toBe(before);
  });
});
