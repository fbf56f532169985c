/**
 * Checks a LogQL expression with Grafana's own grammar (`@grafana/lezer-logql`): it parses with
 * no error node, selects only stream labels the shipper emits, and filters, groups, extracts and
 * formats only structured metadata and line keys it writes (names from `src/transform`).
 */
import { parser } from '@grafana/lezer-logql';
import { DEFAULT_TRANSFORM_OPTIONS, EVENT_LABELS, LINE_KEYS as TRANSFORM_LINE_KEYS, STRUCTURED_METADATA_NAMES } from '../../src/transform/index.js';

/** lezer's node type, taken from the parser rather than from an undeclared `@lezer/common` import. */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/**
 * Stream labels: the transform's event labels, its default static label (`job`) and `cluster`,
 * the static label the deployment docs tell users to add.
 */
export const STREAM_LABELS: readonly string[] = [...EVENT_LABELS, ...Object.keys(DEFAULT_TRANSFORM_OPTIONS.staticLabels), 'cluster'];
export const METADATA_KEYS: readonly string[] = STRUCTURED_METADATA_NAMES;
export const LINE_KEYS: readonly string[] = TRANSFORM_LINE_KEYS;
/** Labels Loki itself adds while querying. */
const LOKI_LABELS = ['__error__', '__error_details__'];

const streamLabels = new Set<string>(STREAM_LABELS);
const lineKeys = new Set<string>(LINE_KEYS);
/** After a parser, a line key that clashes with a stream label or metadata name gets `_extracted`. */
const queryLabels = new Set<string>([
  ...STREAM_LABELS,
  ...METADATA_KEYS,
  ...LINE_KEYS,
  ...LINE_KEYS.map((k) => `${k}_extracted`),
  ...LOKI_LABELS,
]);

export interface LogqlProblem {
  readonly expr: string;
  readonly problem: string;
}

function unquote(text: string): string {
  if (text.startsWith('`')) return text.slice(1, -1);
  return JSON.parse(text) as string;
}

/** Fields a Go template reads: `.name` inside `{{ … }}`. */
function templateFields(template: string): string[] {
  const fields: string[] = [];
  for (const action of template.matchAll(/\{\{(.*?)\}\}/g)) {
    for (const match of (action[1] ?? '').replace(/"(?:[^"\\]|\\.)*"/g, '').matchAll(/(?<![A-Za-z0-9_])\.([A-Za-z_][A-Za-z0-9_]*)/g)) fields.push(match[1] ?? '');
  }
  return fields;
}

function children(node: SyntaxNode, name: string): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child !== null; child = child.nextSibling) if (child.name === name) found.push(child);
  return found;
}

function insideOf(node: SyntaxNode, name: string): boolean {
  for (let parent = node.parent; parent !== null; parent = parent.parent) if (parent.name === name) return true;
  return false;
}

/** Every problem with one expression; an empty list means it is fine. */
export function checkLogql(expr: string): LogqlProblem[] {
  const problems: LogqlProblem[] = [];
  const report = (problem: string): void => void problems.push({ expr, problem });
  const text = (node: SyntaxNode): string => expr.slice(node.from, node.to);
  if (expr.includes('$')) report('a template variable is left in the expression');
  const tree = parser.parse(expr);
  let sawSelector = false;
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (ref.type.isError) {
        report(`syntax error at ${String(ref.from)}: "${expr.slice(Math.max(0, ref.from - 20), ref.to + 20)}"`);
        return;
      }
      switch (ref.name) {
        case 'Selector':
          sawSelector = true;
          break;
        case 'Matcher': {
          const [name] = children(node, 'Identifier');
          if (name === undefined) break;
          const label = text(name);
          if (insideOf(node, 'Selector')) {
            if (!streamLabels.has(label)) report(`stream selector uses "${label}", not a stream label the shipper emits`);
          } else if (!queryLabels.has(label)) {
            report(`label filter uses "${label}", which the shipper neither labels, attaches nor writes`);
          }
          break;
        }
        case 'Grouping':
          node.cursor().iterate((inner) => {
            if (inner.name === 'Identifier' && !queryLabels.has(expr.slice(inner.from, inner.to))) {
              report(`groups by "${expr.slice(inner.from, inner.to)}", which the shipper neither labels, attaches nor writes`);
            }
          });
          break;
        case 'LabelExtractionExpression': {
          const [target] = children(node, 'Identifier');
          const [source] = children(node, 'String');
          const key = source === undefined ? (target === undefined ? '' : text(target)) : unquote(text(source));
          if (!lineKeys.has(key)) report(`extracts "${key}", not a key of the shipper's lines`);
          break;
        }
        case 'UnwrapExpr': {
          for (const id of children(node, 'Identifier')) if (!queryLabels.has(text(id))) report(`unwraps "${text(id)}", not a key the shipper writes`);
          break;
        }
        case 'LineFormatExpr':
          for (const str of children(node, 'String')) {
            for (const key of templateFields(unquote(text(str)))) if (!queryLabels.has(key)) report(`line_format reads "${key}", which the shipper does not write`);
          }
          break;
        case 'LabelFormatMatcher': {
          // `label_format name=\`template\`` sets a label: only to a name the shipper writes, from fields it writes.
          const [target] = children(node, 'Identifier');
          if (target !== undefined && !queryLabels.has(text(target))) report(`label_format sets "${text(target)}", which the shipper neither labels, attaches nor writes`);
          for (const str of children(node, 'String')) {
            for (const key of templateFields(unquote(text(str)))) if (!queryLabels.has(key)) report(`label_format reads "${key}", which the shipper does not write`);
          }
          break;
        }
        default:
          break;
      }
    },
  });
  if (!sawSelector) report('no stream selector');
  return problems;
}

/** `label_values({selector}, label)`: the selector and the label, checked like an expression. */
export function checkLabelValuesQuery(query: string): LogqlProblem[] {
  const match = /^label_values\((\{.*\}),\s*([A-Za-z_][A-Za-z0-9_]*)\)$/s.exec(query);
  if (match === null) return [{ expr: query, problem: 'not label_values({selector}, label)' }];
  const [, selector = '', label = ''] = match;
  const problems = checkLogql(selector);
  if (!streamLabels.has(label)) problems.push({ expr: query, problem: `lists values of "${label}", not a stream label` });
  return problems;
}
