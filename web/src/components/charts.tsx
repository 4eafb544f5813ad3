// Charts drawn as inline SVG by React, no library: horizontal bars and stacked bars over time. Each
// is a <figure> with a caption, an SVG that names itself (role img, <title>, <desc>), and the same
// figures as a table under a disclosure, so a screen reader (or anyone) can read the numbers.
import type { ReactNode } from 'react';

export interface Series {
  key: string;
  label: string;
  color: string;
}

let nextId = 0;
const uid = (prefix: string) => `${prefix}-${++nextId}`;

function Figure({ id, title, table, children }: { id: string; title: string; table: ReactNode; children: ReactNode }) {
  return (
    <figure className="chart" aria-labelledby={`${id}-caption`}>
      <figcaption id={`${id}-caption`}>{title}</figcaption>
      {children}
      <details>
        <summary>Show as a table</summary>
        <div className="table-wrap">{table}</div>
      </details>
    </figure>
  );
}

/** A chart's figures as a table: a row per label, a column per series. */
function SeriesTable({ head, series, rows }: { head: string; series: Series[]; rows: { key: string; label: string; cells: string[] }[] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">{head}</th>
          {series.map((s) => (
            <th key={s.key} scope="col">
              {s.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <th scope="row">{r.label}</th>
            {r.cells.map((c, i) => (
              <td key={series[i]!.key}>{c}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One bar per row for each series (e.g. median and p90 per group), longest scaled to the width. */
export function BarChart({ title, rows, series, format }: { title: string; rows: { label: string; values: Record<string, number | null> }[]; series: Series[]; format: (v: number | null) => string }) {
  const id = uid('bars');
  const labelW = 150;
  const width = 640;
  const barH = 14;
  const rowH = series.length * (barH + 2) + 10;
  const height = Math.max(rowH * rows.length + 24, 40);
  const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r.values[s.key] ?? 0)));
  const scale = (v: number) => ((width - labelW - 70) * v) / max;
  const desc = rows.map((r) => `${r.label}: ${series.map((s) => `${s.label} ${format(r.values[s.key])}`).join(', ')}`).join('; ');
  const table = <SeriesTable head="Name" series={series} rows={rows.map((r) => ({ key: r.label, label: r.label, cells: series.map((sr) => format(r.values[sr.key])) }))} />;
  return (
    <Figure id={id} title={title} table={table}>
      {rows.length === 0 ? (
        <p className="notice">Nothing was decided in this range.</p>
      ) : (
        <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby={`${id}-title ${id}-desc`}>
          <title id={`${id}-title`}>{title}</title>
          <desc id={`${id}-desc`}>{desc}</desc>
          <Legend series={series} x={labelW} y={4} />
          {rows.map((r, i) => (
            <g key={r.label} transform={`translate(0, ${24 + i * rowH})`}>
              <text x={labelW - 8} y={rowH / 2} textAnchor="end" dominantBaseline="middle" fontSize="12" fill="currentColor">
                {r.label.length > 22 ? `${r.label.slice(0, 21)}…` : r.label}
              </text>
              {series.map((s, j) => {
                const v = r.values[s.key] ?? 0;
                return (
                  <g key={s.key}>
                    <rect x={labelW} y={j * (barH + 2)} width={Math.max(scale(v), 1)} height={barH} fill={s.color} />
                    <text x={labelW + scale(v) + 4} y={j * (barH + 2) + barH / 2} dominantBaseline="middle" fontSize="11" fill="currentColor">
                      {format(r.values[s.key])}
                    </text>
                  </g>
                );
              })}
            </g>
          ))}
        </svg>
      )}
    </Figure>
  );
}

function Legend({ series, x, y }: { series: Series[]; x: number; y: number }) {
  return (
    <g transform={`translate(${x}, ${y})`} aria-hidden="true">
      {series.map((s, i) => (
        <g key={s.key} transform={`translate(${i * 90}, 0)`}>
          <rect width="10" height="10" fill={s.color} />
          <text x="14" y="9" fontSize="11" fill="currentColor">
            {s.label}
          </text>
        </g>
      ))}
    </g>
  );
}

/** Stacked columns, one per bucket of time, with the bucket's label under every few. */
export function StackedBars<P extends { at: string }>({ title, points, series, labelOf }: { title: string; points: P[]; series: Series[]; labelOf: (at: string) => string }) {
  const num = (p: P, key: string) => Number((p as unknown as Record<string, unknown>)[key] ?? 0);
  const id = uid('stack');
  const width = 720;
  const height = 220;
  const left = 40;
  const bottom = 24;
  const top = 24;
  const total = (p: P) => series.reduce((n, s) => n + num(p, s.key), 0);
  const max = Math.max(1, ...points.map(total));
  const step = (width - left) / Math.max(points.length, 1);
  const barW = Math.max(step * 0.8, 1);
  const y = (v: number) => ((height - top - bottom) * v) / max;
  const every = Math.ceil(points.length / 8);
  const desc = `${points.length} ${points.length === 1 ? 'bucket' : 'buckets'}; the largest holds ${max} requests. ${series.map((s) => `${s.label}: ${points.reduce((n, p) => n + num(p, s.key), 0)}`).join(', ')}.`;
  const table = (
    <SeriesTable
      head="When"
      series={series}
      rows={points.filter((p) => total(p) > 0).map((p) => ({ key: p.at, label: labelOf(p.at), cells: series.map((sr) => String(num(p, sr.key))) }))}
    />
  );
  return (
    <Figure id={id} title={title} table={table}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{desc}</desc>
        <Legend series={series} x={left} y={4} />
        <line x1={left} y1={height - bottom} x2={width} y2={height - bottom} stroke="currentColor" strokeOpacity="0.3" />
        <text x={left - 4} y={top + 4} textAnchor="end" fontSize="10" fill="currentColor">
          {max}
        </text>
        <text x={left - 4} y={height - bottom} textAnchor="end" fontSize="10" fill="currentColor">
          0
        </text>
        {points.map((p, i) => {
          let base = height - bottom;
          return (
            <g key={p.at} transform={`translate(${left + i * step}, 0)`}>
              {series.map((s) => {
                const h = y(num(p, s.key));
                base -= h;
                return h > 0 ? <rect key={s.key} x={0} y={base} width={barW} height={h} fill={s.color} /> : null;
              })}
              {i % every === 0 ? (
                <text x={barW / 2} y={height - 8} textAnchor="middle" fontSize="10" fill="currentColor">
                  {labelOf(p.at)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </Figure>
  );
}
