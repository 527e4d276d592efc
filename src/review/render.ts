import { Danger } from './dangers';
import { describeObject, ObjectChange } from './object-diff';

/** A finished review: what changed and what of it is dangerous. */
export interface Review {
  /** The git ref the working tree was compared with. */
  readonly base: string;
  /** Changed objects, sorted by directory, kind, namespace and name. */
  readonly changes: readonly ObjectChange[];
  /** Dangerous changes. */
  readonly dangers: readonly Danger[];
}

/** Output formats of the `diff` command. */
export const REVIEW_FORMATS = ['terminal', 'markdown', 'json'] as const;
/** One of {@link REVIEW_FORMATS}. */
export type ReviewFormat = typeof REVIEW_FORMATS[number];

/** Exit status of the `diff` command: no change, changes, dangerous changes. */
export function reviewExitCode(review: Review): 0 | 1 | 2 {
  return review.dangers.length > 0 ? 2 : review.changes.length > 0 ? 1 : 0;
}

/** Renders `review` in `format`; terminal output is coloured when `color` is set. */
export function renderReview(review: Review, format: ReviewFormat, color = false): string {
  switch (format) {
    case 'json': return `${JSON.stringify(review, undefined, 2)}\n`;
    case 'markdown': return markdown(review);
    default: return terminal(review, color);
  }
}

const SIGN = { added: '+', removed: '-', changed: '~' } as const;

function show(value: unknown): string {
  if (value === undefined) return '(absent)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** One line: how many objects changed, were added and removed, and how many changes are dangerous. */
export function reviewSummary(review: Review): string {
  const count = (kind: string) => review.changes.filter(c => c.change === kind).length;
  const dirs = new Set(review.changes.map(c => c.directory)).size;
  if (review.changes.length === 0) return `no changes against ${review.base}`;
  return `${count('changed')} changed, ${count('added')} added, ${count('removed')} removed in ${dirs} director${dirs === 1 ? 'y' : 'ies'} against ${review.base}`
    + `; ${review.dangers.length} dangerous change${review.dangers.length === 1 ? '' : 's'}`;
}

function terminal(review: Review, color: boolean): string {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const tint = { added: 32, removed: 31, changed: 33 } as const;
  const lines: string[] = [];
  for (const c of review.changes) {
    lines.push(paint(tint[c.change], `${SIGN[c.change]} ${c.directory}: ${describeObject(c)} (${c.change})`));
    for (const f of c.fields) lines.push(`    ${f.path}: ${paint(31, show(f.before))} -> ${paint(32, show(f.after))}`);
  }
  if (review.dangers.length > 0) {
    lines.push('', paint(31, `DANGEROUS (${review.dangers.length}):`));
    for (const d of review.dangers) {
      lines.push(paint(31, `  ! ${d.directory}: ${d.object} [${d.rule}]`), `      ${d.reason}`, `      instead: ${d.advice}`);
    }
  }
  lines.push('', reviewSummary(review));
  return `${lines.join('\n')}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function markdown(review: Review): string {
  const lines = [`### GitOps diff against \`${review.base}\``, '', reviewSummary(review), ''];
  if (review.dangers.length > 0) {
    lines.push('#### :warning: Dangerous changes', '', '| directory | object | rule | why | instead |', '| --- | --- | --- | --- | --- |');
    for (const d of review.dangers) lines.push(`| ${d.directory} | ${cell(d.object)} | \`${d.rule}\` | ${cell(d.reason)} | ${cell(d.advice)} |`);
    lines.push('');
  }
  for (const directory of [...new Set(review.changes.map(c => c.directory))]) {
    lines.push(`#### \`${directory}\``, '', '| object | change | field | before | after |', '| --- | --- | --- | --- | --- |');
    for (const c of review.changes.filter(x => x.directory === directory)) {
      if (c.fields.length === 0) lines.push(`| ${cell(describeObject(c))} | ${c.change} | | | |`);
      for (const f of c.fields) lines.push(`| ${cell(describeObject(c))} | ${c.change} | \`${cell(f.path)}\` | ${cell(show(f.before))} | ${cell(show(f.after))} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}`;
}
