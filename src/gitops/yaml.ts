/**
 * A fast, deterministic YAML emitter for Kubernetes manifests.
 *
 * cdk8s writes manifests with `Yaml.stringify`, which builds a full `yaml`
 * Document (node objects, schema lookups, comment handling) for every API
 * object; for large apps that dominates synth time. Manifests are plain JSON
 * data, so this module writes the same bytes directly from the values.
 *
 * The output mirrors `YAML.stringify(doc, { lineWidth: 0, version: '1.1' })`
 * from the `yaml` package (the call cdk8s makes) so that switching emitters
 * produces no diff in the GitOps repository. Where that output would not
 * read back as the same string in every YAML dialect a manifest meets
 * (go-yaml with YAML 1.1 rules in Kubernetes and Argo CD, YAML 1.2 parsers in
 * other tools), this emitter quotes or escapes instead:
 * - strings that YAML 1.2 or Go's number syntax would read as numbers but
 *   YAML 1.1 would not (`0o17`, `0X1F`, `1e_3`), `<<` and `=` (YAML 1.1
 *   merge and value keys, which PyYAML refuses as values), and single-line
 *   strings with tabs (PyYAML rejects tabs in plain scalars) are quoted;
 * - strings of only spaces, tabs and line breaks are quoted rather than
 *   written as block literals, which would read back without the spaces;
 * - U+0085, U+2028, U+2029 (line breaks in YAML 1.1), U+FEFF, C1 controls,
 *   U+FFFE/U+FFFF and lone surrogates are escaped as `\uXXXX` inside double
 *   quotes rather than written raw;
 * - object keys whose value is `undefined` are skipped (as `JSON.stringify`
 *   does) instead of being written as `null`;
 * - a document that is itself a multi-line string has its content indented
 *   (the `yaml` package writes it at column 0, where its own parser misreads
 *   lines that start with an indicator). Manifests are objects, so this never
 *   affects them.
 */

import * as fs from 'fs';

/** The YAML indentation step; block sequences are indented under their key. */
const INDENT_STEP = '  ';

/**
 * Keys longer than this must be written as explicit `? key` entries: the
 * YAML spec limits implicit keys to 1024 characters.
 */
const MAX_IMPLICIT_KEY_LENGTH = 1024;

/**
 * Characters that cannot appear raw in a plain or single-quoted scalar, so
 * the string must be double-quoted with escapes. C0 controls other than tab
 * and line feed, DEL and C1 controls (NEL is a YAML 1.1 line break), the
 * Unicode line and paragraph separators (YAML 1.1 line breaks), the byte
 * order mark, the non-characters U+FFFE/U+FFFF and lone surrogates.
 */
const NEEDS_DOUBLE_QUOTES = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\u{d800}-\u{dfff}]/u;

/**
 * Characters that `JSON.stringify` leaves raw but that must be escaped inside
 * a double-quoted YAML scalar (see {@link NEEDS_DOUBLE_QUOTES}); JSON already
 * escapes C0 controls and lone surrogates.
 */
const ESCAPE_AFTER_JSON = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g;

/**
 * Strings that cannot be written plain because of where YAML indicators sit
 * (copied from the `yaml` package so the quoting decisions match): a leading
 * indicator character, a lone or space-followed `-`/`?`, `: ` anywhere,
 * whitespace before a line break, ` #` anywhere, or a trailing space, tab or
 * colon.
 */
const PLAIN_UNSAFE = /^[\n\t ,[\]{}#&*!|>'"%@`]|^[?-]$|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]$/;

/**
 * A line starting with `%`, `---` or `...` would be read as a directive or a
 * document marker when it starts at column 0.
 */
const DOCUMENT_MARKER = /^(?:%|---|\.\.\.)/m;

/**
 * Plain scalars that some parser would resolve to something other than a
 * string. The union of the YAML 1.1 types the `yaml` package knows (null,
 * booleans incl. y/n/on/off, ints incl. binary, octal, hex, underscores and
 * base 60, floats, `.inf`/`.nan`, timestamps, the merge key `<<`), the YAML
 * 1.2 core schema (`0o` octal, `1e3`), and the YAML 1.1 value key `=`.
 */
const RESOLVES_TO_NON_STRING = new RegExp([
  '^(?:',
  // null
  '~|[Nn]ull|NULL|',
  // booleans (YAML 1.1 and 1.2)
  '[Yy]|[Yy]es|YES|[Nn]|[Nn]o|NO|[Tt]rue|TRUE|[Ff]alse|FALSE|[Oo]n|ON|[Oo]ff|OFF|',
  // infinity and not-a-number
  '[-+]?\\.(?:inf|Inf|INF)|\\.nan|\\.NaN|\\.NAN|',
  // integers: binary, octal (1.1 and 1.2 style), hex, decimal, base 60
  '[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?0o[0-7]+|[-+]?0x[0-9a-fA-F_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])*|',
  // floats: with exponent, with a dot, base 60
  '[-+]?(?:[0-9][0-9_]*)?(?:\\.[0-9_]*)?[eE][-+]?[0-9]+|[-+]?(?:[0-9][0-9_]*)?\\.[0-9_]*|',
  '[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|',
  // timestamps
  '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}',
  '(?:(?:t|T|[ \\t]+)[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(?:\\.[0-9]+)?(?:[ \\t]*(?:Z|[-+][012]?[0-9](?::[0-9]{2})?))?)?|',
  // merge key and value key
  '<<|=',
  ')?$',
].join(''));

/**
 * Numbers as go-yaml reads them: it strips every `_` and then accepts Go's
 * base-prefixed integers (`0X1F`, `0B1`, `0O7`) and YAML-style floats.
 * Only tried when the string starts like a number, as go-yaml does.
 */
const GO_NUMBER = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/;

/** Whether a plain scalar could resolve to a non-string in any YAML dialect. */
function resolvesToNonString(s: string): boolean {
  if (RESOLVES_TO_NON_STRING.test(s)) return true;
  const c = s.charCodeAt(0);
  // '+', '-', '.', '0'-'9'
  if (c === 43 || c === 45 || c === 46 || (c >= 48 && c <= 57)) {
    return GO_NUMBER.test(s.indexOf('_') === -1 ? s : s.replace(/_/g, ''));
  }
  return false;
}

/** Whether the string holds a line that would read as a document marker. */
function containsDocumentMarker(s: string): boolean {
  return DOCUMENT_MARKER.test(s);
}

/**
 * Writes a double-quoted scalar. Ported from the `yaml` package: escapes come
 * from `JSON.stringify` (all valid YAML escapes), and long values that contain
 * line breaks are written over several lines, as the `yaml` package does.
 *
 * @param s the string
 * @param indent the indentation of continuation lines
 * @param implicitKey whether the scalar is a mapping key (must stay on one line)
 */
function doubleQuoted(s: string, indent: string, implicitKey: boolean): string {
  const json = JSON.stringify(s).replace(ESCAPE_AFTER_JSON, escapeChar);
  // Continuation lines at the root are indented too (the `yaml` package only
  // does so when a line would look like a document marker).
  if (indent === '') indent = INDENT_STEP;
  let str = '';
  let start = 0;
  for (let i = 0, ch = json[i]; ch; ch = json[++i]) {
    if (ch === ' ' && json[i + 1] === '\\' && json[i + 2] === 'n') {
      // A space before a line break would be eaten by folding: escape it.
      str += json.slice(start, i) + '\\ ';
      i += 1;
      start = i;
      ch = '\\';
    }
    if (ch !== '\\') continue;
    const next = json[i + 1];
    if (next === 'u') {
      const code = json.slice(i + 2, i + 6);
      const short = C0_ESCAPES[code];
      if (short !== undefined) {
        str += json.slice(start, i) + short;
        start = i + 6;
      }
      i += 5;
    } else if (next === 'n') {
      if (implicitKey || json[i + 2] === '"' || json.length < 40) {
        i += 1;
      } else {
        // Folding turns a single line break into a space, so one break is
        // written as an empty line; more breaks are written as more lines.
        str += json.slice(start, i) + '\n\n';
        while (json[i + 2] === '\\' && json[i + 3] === 'n' && json[i + 4] !== '"') {
          str += '\n';
          i += 2;
        }
        str += indent;
        // Leading spaces of a continuation line are indentation: escape one.
        if (json[i + 2] === ' ') str += '\\';
        i += 1;
        start = i + 1;
      }
    } else {
      i += 1;
    }
  }
  return start ? str + json.slice(start) : json;
}

/** Short YAML escapes for the C0 controls `JSON.stringify` writes as `\u00XX`. */
const C0_ESCAPES: Record<string, string> = (() => {
  const table: Record<string, string> = {};
  for (let c = 0; c < 0x20; c++) {
    const hex = c.toString(16).padStart(2, '0');
    table[`00${hex}`] = `\\x${hex}`;
  }
  table['0000'] = '\\0';
  table['0007'] = '\\a';
  table['000b'] = '\\v';
  table['001b'] = '\\e';
  return table;
})();

/** Escapes one character as `\uXXXX`. */
function escapeChar(ch: string): string {
  return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * Writes a quoted scalar: single quotes when the string contains `"` but no
 * `'` (the `yaml` package's choice, avoiding escapes) unless line breaks
 * rule them out, double quotes otherwise.
 */
function quoted(s: string, indent: string, implicitKey: boolean): string {
  if (s.indexOf('"') !== -1 && s.indexOf("'") === -1
    && !(implicitKey && s.indexOf('\n') !== -1) && !/[ \t]\n|\n[ \t]/.test(s)) {
    if (indent === '' && containsDocumentMarker(s)) indent = INDENT_STEP;
    return "'" + s.replace(/'/g, "''").replace(/\n+/g, `$&\n${indent}`) + "'";
  }
  return doubleQuoted(s, indent, implicitKey);
}

/**
 * Writes a literal block scalar (`|`), choosing the chomping indicator from
 * the trailing line breaks and adding an indentation indicator when the first
 * line starts with a space. Ported from the `yaml` package.
 *
 * @param s the multi-line string
 * @param indent the indentation of the content lines (`''` at the root)
 */
function blockLiteral(s: string, indent: string): string {
  // A final line of only whitespace cannot be represented in a block scalar.
  // Neither can whitespace-only lines when no line has content: the reader
  // takes the longest of them as the indentation (the `yaml` package writes
  // such blocks, e.g. for '  \n', and they read back as '\n').
  if (/\n[\t ]+$|^[\n\t ]*[\t ][\n\t ]*$/.test(s)) return quoted(s, indent, false);
  // At the document root the `yaml` package writes content at column 0,
  // which its own parser misreads when a line starts with an indicator.
  if (indent === '') indent = INDENT_STEP;

  let endStart = s.length;
  for (; endStart > 0; --endStart) {
    const ch = s[endStart - 1];
    if (ch !== '\n' && ch !== '\t' && ch !== ' ') break;
  }
  let end = s.substring(endStart);
  const endNl = end.indexOf('\n');
  // strip: no final line break; clip: exactly one; keep: more.
  const chomp = endNl === -1 ? '-' : (s === end || endNl !== end.length - 1) ? '+' : '';
  let value = s;
  if (end) {
    value = s.slice(0, -end.length);
    if (end[end.length - 1] === '\n') end = end.slice(0, -1);
    end = end.replace(/(^|(?<!\n))\n+(?!\n|$)/g, `$&${indent}`);
  }

  let startWithSpace = false;
  let startEnd = 0;
  let startNl = -1;
  for (; startEnd < value.length; ++startEnd) {
    const ch = value[startEnd];
    if (ch === ' ') startWithSpace = true;
    else if (ch === '\n') startNl = startEnd;
    else break;
  }
  let start = value.substring(0, startNl + 1);
  if (start) {
    value = value.substring(start.length);
    start = start.replace(/\n+/g, `$&${indent}`);
  }
  // The indentation indicator counts from the parent node; the root is at -1.
  const header = (startWithSpace ? '2' : '') + chomp;
  return `|${header}\n${indent}${start}${value.replace(/\n+/g, `$&${indent}`)}${end}`;
}

/**
 * Renders a string scalar with the `yaml` package's style choices: plain when
 * safe, a block literal for multi-line values, otherwise quoted.
 *
 * @param s the string
 * @param indent the indentation of continuation lines (`''` at the root)
 * @param implicitKey whether the string is a mapping key
 * @param rootKey whether it is a key of the root mapping (column 0)
 */
function renderString(s: string, indent: string, implicitKey: boolean, rootKey: boolean): string {
  if (NEEDS_DOUBLE_QUOTES.test(s)) return doubleQuoted(s, indent, implicitKey);
  const multiLine = s.indexOf('\n') !== -1;
  if (implicitKey && multiLine) return quoted(s, indent, implicitKey);
  if (PLAIN_UNSAFE.test(s)) {
    return implicitKey || !multiLine ? quoted(s, indent, implicitKey) : blockLiteral(s, indent);
  }
  if (multiLine) return blockLiteral(s, indent);
  if (containsDocumentMarker(s)) {
    if (indent === '') return blockLiteral(s, indent);
    if (rootKey) return quoted(s, indent, implicitKey);
  }
  // Tabs are valid in plain scalars, but PyYAML refuses them there.
  if (resolvesToNonString(s) || s.indexOf('\t') !== -1) return quoted(s, indent, implicitKey);
  return s;
}

/** Renders a number as the `yaml` package does (JSON notation, keeping -0). */
function renderNumber(n: number): string {
  return n === 0 && 1 / n < 0 ? '-0' : JSON.stringify(n);
}

/** Thrown inside the writer when a value cannot be serialized. */
class InvalidValue extends Error {}

/** Sentinel instance: the writer only signals; the path is found afterwards. */
const INVALID = new InvalidValue('invalid value');

/**
 * Describes why a value is not plain JSON data, or returns `undefined` for a
 * valid scalar, array or plain object. Shared by the writer and the error
 * path search so both agree on what is invalid.
 */
function problemWith(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : String(value);
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `a bigint (${String(value)}n)`;
    case 'symbol':
      return `a symbol (${String(value)})`;
    case 'function':
      return `a function${(value as Function).name ? ` (${(value as Function).name})` : ''}`;
    default: {
      const obj = value as object | null;
      if (obj === null || Array.isArray(obj) || isPlainObject(obj)) return undefined;
      return `an instance of ${constructorName(obj)}`;
    }
  }
}

/**
 * Whether the prototype is `Object.prototype` (of any realm, e.g. a Jest or
 * `vm` context) or `null`.
 */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/** The constructor name of a class instance, for error messages. */
function constructorName(value: object): string {
  const ctor = (value as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'a non-plain object';
}

/** Formats a key as a path segment: `.name` or `["app.kubernetes.io/name"]`. */
function keySegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/**
 * Finds the first invalid value in depth-first order (the order the writer
 * visits), returning its path and the reason. Only runs after the writer
 * failed, so the fast path never builds paths.
 */
function findProblem(value: unknown, path: string, ancestors: object[]): { path: string; reason: string } | undefined {
  const reason = problemWith(value);
  if (reason !== undefined) return { path, reason };
  if (value === null || typeof value !== 'object') return undefined;
  if (ancestors.includes(value)) return { path, reason: 'a circular reference' };
  ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const found = findProblem(value[i], `${path}[${i}]`, ancestors);
        if (found) return found;
      }
    } else {
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) continue;
        const found = findProblem(v, path + keySegment(key), ancestors);
        if (found) return found;
      }
    }
  } finally {
    ancestors.pop();
  }
  return undefined;
}

/**
 * Writes documents into one string. Per call state: the ancestor stack for
 * cycle detection and caches of rendered keys and single-line scalars, which
 * repeat heavily across Kubernetes objects (labels, field names, kinds).
 */
class Writer {
  /** The YAML written so far. */
  public out = '';
  /** Containers currently being written, for cycle detection. */
  private readonly ancestors: object[] = [];
  private depth = 0;
  /** Rendered keys of nested mappings, with the trailing `:`. */
  private readonly keys = new Map<string, string>();
  /** Rendered keys of root mappings (document markers must be quoted there). */
  private readonly rootKeys = new Map<string, string>();
  /** Rendered single-line string values; these do not depend on indentation. */
  private readonly scalars = new Map<string, string>();

  /** Writes one document, ending with a line break. */
  public document(value: unknown): void {
    if (value !== null && typeof value === 'object') {
      this.collectionAt(value, '', true);
    } else if (typeof value === 'string') {
      this.out += renderString(value, '', false, false);
    } else {
      this.out += this.scalar(value);
    }
    this.out += '\n';
  }

  /**
   * Writes a collection whose first line continues the current line (after
   * `- `, after the `:` of an explicit key, or at the start of a document):
   * `{}`/`[]` when empty, otherwise its entries, later ones on new lines at
   * `indent`.
   */
  private collectionAt(value: object, indent: string, root: boolean): void {
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.out += '[]';
      } else {
        this.enter(value);
        this.sequence(value, indent);
        this.depth--;
      }
    } else if (!this.mapping(value, indent, root, '')) {
      this.out += '{}';
    }
  }

  /**
   * Writes a collection that is the value of a mapping key: inline when
   * empty, otherwise on the next lines at `indent` (sequences included).
   */
  private nestedCollection(value: object, indent: string): void {
    if (Array.isArray(value)) {
      if (value.length === 0) {
        this.out += ' []';
      } else {
        this.enter(value);
        this.out += '\n' + indent;
        this.sequence(value, indent);
        this.depth--;
      }
    } else if (!this.mapping(value, indent, false, '\n' + indent)) {
      this.out += ' {}';
    }
  }

  /** Pushes a container on the ancestor stack, failing on a cycle. */
  private enter(value: object): void {
    const ancestors = this.ancestors;
    const depth = this.depth;
    for (let i = 0; i < depth; i++) {
      if (ancestors[i] === value) throw INVALID;
    }
    ancestors[depth] = value;
    this.depth = depth + 1;
  }

  /** Writes block sequence entries (`- item`) at `indent`. */
  private sequence(items: readonly unknown[], indent: string): void {
    const inner = indent + INDENT_STEP;
    const next = '\n' + indent + '- ';
    for (let i = 0; i < items.length; i++) {
      this.out += i === 0 ? '- ' : next;
      const item = items[i];
      if (typeof item === 'string') {
        this.out += this.stringValue(item, inner);
      } else if (item !== null && typeof item === 'object') {
        this.collectionAt(item, inner, false);
      } else {
        this.out += this.scalar(item);
      }
    }
  }

  /**
   * Writes block mapping entries (`key: value`) at `indent`, skipping
   * undefined values; `prefix` goes before the first entry. Returns false,
   * having written nothing, when no entry has a value (the caller writes
   * `{}`), so emptiness needs no separate pass over the keys.
   */
  private mapping(obj: object, indent: string, root: boolean, prefix: string): boolean {
    if (!isPlainObject(obj)) throw INVALID;
    const record = obj as Record<string, unknown>;
    const keys = Object.keys(record);
    const inner = indent + INDENT_STEP;
    const next = '\n' + indent;
    const keyCache = root ? this.rootKeys : this.keys;
    let written = false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const value = record[key];
      if (value === undefined) continue;
      if (written) {
        this.out += next;
      } else {
        this.enter(obj);
        this.out += prefix;
        written = true;
      }
      let k = keyCache.get(key);
      if (k === undefined) {
        k = renderString(key, inner, true, root);
        if (k.length > MAX_IMPLICIT_KEY_LENGTH) {
          this.explicitEntry(k, value, indent, inner);
          continue;
        }
        k += ':';
        keyCache.set(key, k);
      }
      this.out += k;
      if (typeof value === 'string') {
        this.out += ' ';
        this.out += this.stringValue(value, inner);
      } else if (value !== null && typeof value === 'object') {
        this.nestedCollection(value, inner);
      } else {
        this.out += ' ';
        this.out += this.scalar(value);
      }
    }
    if (written) this.depth--;
    return written;
  }

  /**
   * Writes an entry whose key is too long for an implicit key (YAML allows at
   * most 1024 characters): `? key`, then `: value` on the next line, where a
   * collection value starts on the `:` line.
   */
  private explicitEntry(key: string, value: unknown, indent: string, inner: string): void {
    this.out += `? ${key}\n${indent}: `;
    if (typeof value === 'string') {
      this.out += this.stringValue(value, inner);
    } else if (value !== null && typeof value === 'object') {
      this.collectionAt(value, inner, false);
    } else {
      this.out += this.scalar(value);
    }
  }

  /** Renders a string value below the root; single-line results are cached. */
  private stringValue(s: string, indent: string): string {
    let r = this.scalars.get(s);
    if (r === undefined) {
      r = renderString(s, indent, false, false);
      // Multi-line renderings embed the indentation and cannot be reused.
      if (s.indexOf('\n') === -1) this.scalars.set(s, r);
    }
    return r;
  }

  /** Renders a non-string scalar, rejecting anything that is not JSON data. */
  private scalar(value: unknown): string {
    if (value === null) return 'null';
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw INVALID;
      return renderNumber(value);
    }
    if (typeof value === 'boolean') return value ? 'true' : 'false';
    throw INVALID;
  }
}

/**
 * Serializes plain JSON values (objects from `ApiObject.toJson()`) as a
 * multi-document YAML stream: documents joined by `'---\n'`, each ending
 * with `'\n'`.
 *
 * The bytes match cdk8s's `Yaml.stringify(...documents)` for Kubernetes
 * manifests, except where that output would not read back identically under
 * both YAML 1.1 (go-yaml, used by Kubernetes) and YAML 1.2 rules; see the
 * module documentation. Object keys keep their order; keys whose value is
 * `undefined` are skipped.
 *
 * @param documents the documents; each must be plain JSON data (objects with
 *   `Object.prototype` or `null` prototypes, arrays, strings, finite numbers,
 *   booleans, `null`)
 * @returns the YAML stream (`''` for no documents)
 * @throws Error naming the document index and the path of the first value
 *   that is not plain JSON data (e.g. `spec.containers[0].image`): `undefined`
 *   in an array or as a document, functions, symbols, bigints, `NaN`,
 *   infinities, class instances and circular references
 */
export function toYaml(documents: readonly unknown[]): string {
  const parts: string[] = [];
  eachDocument(documents, yaml => parts.push(yaml));
  return parts.join('---\n');
}

/**
 * Characters of YAML gathered before each write of {@link writeYamlFile}:
 * enough to make the writes few, small enough that a pending chunk seldom
 * lives through a scavenge into the old generation (peak RSS for large apps).
 */
const WRITE_CHUNK = 64 * 1024;

/**
 * Writes what {@link toYaml} returns to `file`, without holding the whole
 * stream as one string: for large apps the joined string and its pieces
 * together were the largest allocation of a synth. On an error the file may
 * be partly written.
 * @internal
 */
export function writeYamlFile(file: string, documents: readonly unknown[]): void {
  const fd = fs.openSync(file, 'w');
  try {
    let pending = '';
    eachDocument(documents, (yaml, i) => {
      pending += i === 0 ? yaml : '---\n' + yaml;
      if (pending.length >= WRITE_CHUNK) {
        fs.writeSync(fd, pending);
        pending = '';
      }
    });
    if (pending) fs.writeSync(fd, pending);
  } finally {
    fs.closeSync(fd);
  }
}

/** Serializes the documents one by one (see {@link toYaml}), handing each to `emit` in order. */
function eachDocument(documents: readonly unknown[], emit: (yaml: string, index: number) => void): void {
  if (!Array.isArray(documents)) {
    throw new TypeError('toYaml: expected an array of documents');
  }
  const writer = new Writer();
  for (let i = 0; i < documents.length; i++) {
    const doc: unknown = documents[i];
    writer.out = '';
    try {
      writer.document(doc);
    } catch (e) {
      if (e !== INVALID) throw e;
      const found = findProblem(doc, '', []);
      const where = found && found.path ? `at ${found.path.replace(/^\./, '')}` : 'as the document';
      throw new Error(`toYaml: cannot serialize ${found ? found.reason : 'a value'} ${where} (document ${i})`);
    }
    emit(flatten(writer.out), i);
  }
}

/**
 * Returns the string after making V8 store it contiguously. Appending with
 * `+=` builds a tree of rope pieces; flattening each document right away lets
 * the garbage collector drop the pieces young instead of copying millions of
 * them around until the end (halves the time for large apps). Reading a
 * character is what triggers the flattening; the result is the same string.
 */
function flatten(s: string): string {
  s.charCodeAt(s.length - 1);
  return s;
}
