/**
 * A small builder for Grafana dashboard JSON (schemaVersion 41): the shipped `dashboards/*.json`
 * are generated from `definitions.ts` with it, so panels share one layout and one set of queries.
 */

export const SCHEMA_VERSION = 41;

export type DatasourceKind = 'loki' | 'prometheus';
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Every panel and target points at the dashboard's `datasource` variable, never at a uid. */
export const datasourceRef = (type: DatasourceKind): JsonObject => ({ type, uid: '${datasource}' });

export interface Target {
  readonly expr: string;
  readonly legend?: string;
  /** `instant` for stats, tables and bar gauges over the whole time range. */
  readonly instant?: boolean;
  /** Log queries: the most lines to read (newest first). */
  readonly maxLines?: number;
}

export interface PanelSpec {
  readonly type: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'logs' | 'text';
  readonly title: string;
  readonly description: string;
  readonly targets: readonly Target[];
  readonly w: number;
  readonly h: number;
  readonly unit?: string;
  readonly stack?: boolean;
  readonly bars?: boolean;
  /** Stat panels: value from which the background turns red. */
  readonly redFrom?: number;
  readonly options?: JsonObject;
  readonly fieldConfig?: JsonObject;
  /** Grafana transformations; tables default to one row per series (reduce). */
  readonly transformations?: readonly JsonObject[];
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  readonly json: JsonObject;
}

/** The datasource picker: any datasource of that type, so the dashboard imports anywhere. */
export function datasourceVariable(type: DatasourceKind, label: string): VariableSpec {
  return {
    name: 'datasource',
    label,
    json: { type: 'datasource', name: 'datasource', label, query: type, current: {}, hide: 0, refresh: 1, regex: '', includeAll: false, multi: false, options: [] },
  };
}

/**
 * A variable filled from the datasource: multi-select where "All" matches everything, also a
 * missing label; or, given `single`, one value at a time with `single` as the default.
 */
export function queryVariable(type: DatasourceKind, name: string, label: string, query: string, single?: string): VariableSpec {
  const choice: JsonObject = single === undefined ? { includeAll: true, allValue: '.*', multi: true, current: { selected: true, text: ['All'], value: ['$__all'] } } : { includeAll: false, multi: false, current: { selected: true, text: single, value: single } };
  return {
    name,
    label,
    json: {
      type: 'query',
      name,
      label,
      datasource: datasourceRef(type),
      query,
      definition: query,
      refresh: 2,
      sort: 1,
      ...choice,
      options: [],
      regex: '',
      hide: 0,
    },
  };
}

export function textVariable(name: string, label: string, description: string): VariableSpec {
  return { name, label, json: { type: 'textbox', name, label, description, query: '', current: { text: '', value: '' }, options: [], hide: 0 } };
}

export function constantVariable(name: string, value: string): VariableSpec {
  return { name, label: name, json: { type: 'constant', name, label: name, query: value, current: { text: value, value }, options: [], hide: 2 } };
}

/** A custom variable; an option is a value, or a text shown for a value (Grafana's `text : value`). */
export function customVariable(name: string, label: string, values: readonly (string | { readonly text: string; readonly value: string })[], description: string): VariableSpec {
  const options = values.map((v) => (typeof v === 'string' ? { text: v, value: v } : v));
  const first = options[0] ?? { text: '', value: '' };
  return {
    name,
    label,
    json: {
      type: 'custom',
      name,
      label,
      description,
      query: options.map((o) => (o.text === o.value ? o.value : `${o.text} : ${o.value}`)).join(','),
      current: { selected: true, text: first.text, value: first.value },
      options: options.map((o) => ({ selected: o.value === first.value, text: o.text, value: o.value })),
      includeAll: false,
      multi: false,
      hide: 0,
    },
  };
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly datasource: DatasourceKind;
  readonly variables: readonly VariableSpec[];
  /** Rows of panels; each row's widths add up to at most 24. */
  readonly rows: readonly (readonly PanelSpec[])[];
  readonly links?: readonly JsonObject[];
  /** Auto-refresh; Loki dashboards refresh less often, their occurrence queries parse lines. */
  readonly refresh: string;
  /** Annotation queries besides Grafana's built-in one. */
  readonly annotations?: readonly JsonObject[];
}

function panelJson(spec: PanelSpec, id: number, x: number, y: number, datasource: DatasourceKind): JsonObject {
  const targets: Json[] = spec.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: datasourceRef(datasource),
    expr: t.expr,
    ...(t.legend === undefined ? {} : { legendFormat: t.legend }),
    ...(t.maxLines === undefined ? {} : { maxLines: t.maxLines }),
    ...(datasource === 'loki'
      ? { queryType: t.instant === true ? 'instant' : 'range' }
      : { instant: t.instant === true, range: t.instant !== true }),
  }));
  const defaults: JsonObject = { unit: spec.unit ?? 'short' };
  if (spec.type === 'timeseries') {
    defaults['custom'] = {
      drawStyle: spec.bars === true ? 'bars' : 'line',
      fillOpacity: spec.bars === true ? 80 : 10,
      lineWidth: 1,
      showPoints: 'never',
      stacking: { mode: spec.stack === true ? 'normal' : 'none', group: 'A' },
    };
  }
  if (spec.type === 'stat') {
    defaults['color'] = { mode: 'thresholds' };
    defaults['thresholds'] = {
      mode: 'absolute',
      steps: [
        { color: 'green', value: null },
        { color: 'red', value: spec.redFrom ?? 1 },
      ],
    };
    defaults['noValue'] = '0';
  }
  const options: JsonObject =
    spec.type === 'stat'
      ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'none', textMode: 'value', justifyMode: 'center' }
      : spec.type === 'logs'
        ? { showTime: true, wrapLogMessage: true, sortOrder: 'Descending', enableLogDetails: true, prettifyLogMessage: false, dedupStrategy: 'none', showLabels: false, showCommonLabels: false }
        : spec.type === 'timeseries'
          ? { legend: { displayMode: 'table', placement: 'right', calcs: ['sum'], showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } }
          : spec.type === 'bargauge'
            ? { orientation: 'horizontal', displayMode: 'basic', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false } }
            : spec.type === 'table'
              ? { showHeader: true, sortBy: [{ displayName: 'Last *', desc: true }] }
              : {};
  return {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: datasourceRef(datasource),
    gridPos: { h: spec.h, w: spec.w, x, y },
    targets,
    fieldConfig: spec.fieldConfig ?? { defaults, overrides: [] },
    options: { ...options, ...spec.options },
    ...(spec.transformations !== undefined
      ? { transformations: [...spec.transformations] }
      : spec.type === 'table'
        ? { transformations: [{ id: 'reduce', options: { reducers: ['lastNotNull'], mode: 'seriesToRows' } }] }
        : {}),
  };
}

export function dashboardJson(spec: DashboardSpec): JsonObject {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    let x = 0;
    let height = 0;
    for (const panel of row) {
      panels.push(panelJson(panel, id++, x, y, spec.datasource));
      x += panel.w;
      height = Math.max(height, panel.h);
    }
    if (x > 24) throw new Error(`row of "${row[0]?.title ?? ''}" is ${String(x)} wide`);
    y += height;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: [...spec.tags],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    refresh: spec.refresh,
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    fiscalYearStartMonth: 0,
    liveNow: false,
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
        ...(spec.annotations ?? []),
      ],
    },
    links: [...(spec.links ?? [])],
    templating: { list: spec.variables.map((v) => v.json) },
    panels,
  };
}
