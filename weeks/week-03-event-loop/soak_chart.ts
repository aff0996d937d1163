/**
 * A soak run as an SVG chart, built as a plain string: no chart library, no DOM.
 *
 * Two panels share the time axis. The top one shows what clients saw: median and
 * 95th-percentile latency (left axis) and the error rate against its cap (right
 * axis). The bottom one shows what the server measured about itself: resident memory
 * (left) and event-loop delay at the 99th percentile (right). A leak shows as a
 * climbing memory line; a blocked loop as a delay spike lined up with a latency spike.
 * An optional third panel shows throughput: answers and refusals per second, for runs
 * whose load changes on purpose (week 6's backpressure report).
 * @module
 */
import type { SoakInterval } from './soak_report.ts';

/** What the chart needs besides the intervals. */
export interface SoakChartOptions {
  /** The title line, e.g. `soak: 50 clients, 30 min`. */
  readonly title: string;
  /** The error-rate cap, drawn as a dashed line (a fraction: 0.001 is 0.1 %). */
  readonly errorRateCap: number;
  /** Adds a third panel: requests answered and requests failed or refused, per second. */
  readonly throughput?: boolean;
}

const WIDTH = 880;
const PANEL_HEIGHT = 210;
const LEFT = 70;
const RIGHT = 80;
const TOP = 64;
const GAP = 70;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;

/** The height of a chart with `panels` panels: title, panels with gaps, time axis. */
function heightOf(panels: number): number {
  return TOP + panels * PANEL_HEIGHT + (panels - 1) * GAP + 60;
}

/** Escapes text for an SVG text node or attribute. */
function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Formats a tick label without trailing noise: 0.25, 2, 1500. */
function label(value: number): string {
  return Number.parseFloat(value.toPrecision(3)).toString();
}

/** One series: its name, colour, axis and values (null is a gap). */
interface Series {
  readonly name: string;
  readonly color: string;
  readonly axis: 'left' | 'right';
  readonly values: readonly (number | null)[];
  readonly dashed?: boolean;
}

/** A polyline per run of non-null values. */
function polylines(xs: readonly number[], series: Series, y: (v: number) => number): string {
  const runs: string[][] = [[]];
  series.values.forEach((v, i) => {
    if (v === null) runs.push([]);
    else runs[runs.length - 1]?.push(`${(xs[i] ?? 0).toFixed(1)},${y(v).toFixed(1)}`);
  });
  const dash = series.dashed === true ? ' stroke-dasharray="6 4"' : '';
  return runs
    .filter((run) => run.length > 0)
    .map((run) => run.length === 1
      ? `<circle cx="${run[0]?.split(',')[0]}" cy="${run[0]?.split(',')[1]}" r="2.5" fill="${series.color}"/>`
      : `<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${run.join(' ')}"/>`)
    .join('\n');
}

/** One panel: frame, grid, both axes with ticks, the series and a legend. */
function panel(top: number, xs: readonly number[], heading: string, units: { left: string; right: string }, series: readonly Series[]): string {
  // A quarter of headroom above the highest value, so no line runs along the frame.
  const max = (axis: 'left' | 'right') => niceCeiling(1.25 * Math.max(0, ...series.filter((s) => s.axis === axis).flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const scale = { left: max('left'), right: max('right') };
  const yOf = (axis: 'left' | 'right') => (v: number) => top + PANEL_HEIGHT - (v / scale[axis]) * PANEL_HEIGHT;
  const out: string[] = [];
  out.push(`<text x="${LEFT}" y="${top - 10}" font-size="13" font-weight="bold">${escapeXml(heading)}</text>`);
  out.push(`<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 5; i += 1) {
    const y = top + PANEL_HEIGHT - (i / 5) * PANEL_HEIGHT;
    out.push(`<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${LEFT + PLOT_WIDTH}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" font-size="11" text-anchor="end">${label((scale.left * i) / 5)}</text>`);
    out.push(`<text x="${LEFT + PLOT_WIDTH + 6}" y="${(y + 4).toFixed(1)}" font-size="11">${label((scale.right * i) / 5)}</text>`);
  }
  out.push(`<text x="${LEFT - 52}" y="${top + PANEL_HEIGHT / 2}" font-size="11" transform="rotate(-90 ${LEFT - 52} ${top + PANEL_HEIGHT / 2})" text-anchor="middle">${escapeXml(units.left)}</text>`);
  out.push(`<text x="${LEFT + PLOT_WIDTH + 62}" y="${top + PANEL_HEIGHT / 2}" font-size="11" transform="rotate(90 ${LEFT + PLOT_WIDTH + 62} ${top + PANEL_HEIGHT / 2})" text-anchor="middle">${escapeXml(units.right)}</text>`);
  for (const s of series) out.push(polylines(xs, s, yOf(s.axis)));
  series.forEach((s, i) => { // the legend, on the heading's line
    const x = LEFT + 170 + i * 140;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(`<line x1="${x}" y1="${top - 14}" x2="${x + 20}" y2="${top - 14}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${x + 25}" y="${top - 10}" font-size="11">${escapeXml(`${s.name} (${s.axis})`)}</text>`);
  });
  return out.join('\n');
}

// #region render-soak-svg
/**
 * Draws a soak run.
 * @param intervals - the run, in order (see {@link closeInterval})
 * @param options - the title and the error-rate cap
 * @returns a complete SVG document
 */
export function renderSoakSvg(intervals: readonly SoakInterval[], options: SoakChartOptions): string {
  const end = Math.max(1, ...intervals.map((i) => i.endS));
  const inMinutes = end > 300;
  const unit = inMinutes ? 60 : 1;
  // Five or so ticks of a nice step, the last one at or just past the end of the run.
  const step = niceCeiling(end / unit / 5);
  const ticks = Math.max(1, Math.ceil(end / unit / step - 0.01)); // a run that overshoots by a hair does not get a whole extra tick
  const span = step * ticks;
  const xs = intervals.map((i) => LEFT + (i.endS / unit / span) * PLOT_WIDTH);
  const mib = (bytes: number | undefined) => (bytes === undefined ? null : bytes / (1024 * 1024));
  const top = panel(TOP, xs, 'What clients saw', { left: 'latency (ms)', right: 'error rate (%)' }, [
    { name: 'p50 latency', color: '#1f77b4', axis: 'left', values: intervals.map((i) => i.p50Ms) },
    { name: 'p95 latency', color: '#ff7f0e', axis: 'left', values: intervals.map((i) => i.p95Ms) },
    { name: 'error rate', color: '#d62728', axis: 'right', values: intervals.map((i) => i.errorRate * 100) },
    { name: 'error-rate cap', color: '#d62728', axis: 'right', values: intervals.map(() => options.errorRateCap * 100), dashed: true },
  ]);
  const bottomTop = TOP + PANEL_HEIGHT + GAP;
  const bottom = panel(bottomTop, xs, 'What the server measured', { left: 'RSS (MiB)', right: 'loop delay p99 (ms)' }, [
    { name: 'server RSS', color: '#2ca02c', axis: 'left', values: intervals.map((i) => mib(i.server?.rssBytes)) },
    { name: 'loop delay p99', color: '#9467bd', axis: 'right', values: intervals.map((i) => i.server?.loopDelayP99Ms ?? null) },
  ]);
  const panels = [top, bottom];
  if (options.throughput === true) {
    const perSecond = (count: number, i: SoakInterval) => (i.endS > i.startS ? count / (i.endS - i.startS) : null);
    panels.push(panel(bottomTop + PANEL_HEIGHT + GAP, xs, 'Throughput', { left: 'answered (req/s)', right: 'failed or refused (req/s)' }, [
      { name: 'answered', color: '#17becf', axis: 'left', values: intervals.map((i) => perSecond(i.ok, i)) },
      { name: 'failed or refused', color: '#d62728', axis: 'right', values: intervals.map((i) => perSecond(i.errors, i)) },
    ]));
  }
  const panelTops = panels.map((_, k) => TOP + k * (PANEL_HEIGHT + GAP));
  const axisY = (panelTops.at(-1) ?? TOP) + PANEL_HEIGHT;
  const height = heightOf(panels.length);
  const axis: string[] = [];
  for (let i = 0; i <= ticks; i += 1) {
    const x = LEFT + (i / ticks) * PLOT_WIDTH;
    for (const y of panelTops.map((t) => t + PANEL_HEIGHT)) axis.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 5}" stroke="#999"/>`);
    axis.push(`<text x="${x.toFixed(1)}" y="${axisY + 18}" font-size="11" text-anchor="middle">${label(step * i)}</text>`);
  }
  axis.push(`<text x="${LEFT + PLOT_WIDTH / 2}" y="${axisY + 38}" font-size="12" text-anchor="middle">time since start (${inMinutes ? 'min' : 's'})</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" font-size="15" font-weight="bold" text-anchor="middle">${escapeXml(options.title)}</text>`,
    ...panels,
    ...axis,
    '</svg>',
    '',
  ].join('\n');
}
// #endregion render-soak-svg
