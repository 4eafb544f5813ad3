// Charts drawn as inline SVG by React, no library: horizontal bars and stacked bars over time (with,
// when asked, a narrower column beside each and a rate line). Each is a <figure> with a caption, an
// SVG that names itself (role img, <title>, <desc>), and the same figures as a table under a
// disclosure, so a screen reader (or anyone) can read the numbers.
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

/** A legend in one row: each entry as wide as its label (a line and a dot for a rate). */
function Legend({ series, x, y, rate }: { series: Series[]; x: number; y: number; rate?: Series }) {
  const entries = rate ? [...series, rate] : series;
  const at = entries.map((_, i) => entries.slice(0, i).reduce((w, s) => w + 26 + s.label.length * 6.2, 0));
  return (
    <g transform={`translate(${x}, ${y})`} aria-hidden="true">
      {entries.map((s, i) => (
        <g key={s.key} transform={`translate(${at[i]}, 0)`}>
          {s === rate ? (
            <>
              <line x1="0" y1="5" x2="10" y2="5" stroke={s.color} strokeWidth="2" />
              <circle cx="5" cy="5" r="2.5" fill={s.color} />
            </>
          ) : (
            <rect width="10" height="10" fill={s.color} />
          )}
          <text x="14" y="9" fontSize="11" fill="currentColor">
            {s.label}
          </text>
        </g>
      ))}
    </g>
  );
}

/** A share per bucket (e.g. the approval rate), drawn as a line on its own 0–100% scale. */
export interface RateSeries<P> extends Series {
  of: (p: P) => number | null;
}

const percentText = (rate: number | null) => (rate === null ? '–' : `${Math.round(rate * 1000) / 10}%`);

/**
 * Stacked columns, one per bucket of time, with the bucket's label under every few. `beside`: a
 * narrower stacked column next to each (what became of part of the main one, e.g. the runs of the
 * approved requests), on the same scale. `rate`: a share per bucket, a line on a 0–100% scale.
 */
export function StackedBars<P extends { at: string }>({ title, points, series, labelOf, beside = [], rate }: { title: string; points: P[]; series: Series[]; labelOf: (at: string) => string; beside?: Series[]; rate?: RateSeries<P> }) {
  const num = (p: P, key: string) => Number((p as unknown as Record<string, unknown>)[key] ?? 0);
  const id = uid('stack');
  const width = 720;
  const height = 220;
  const left = 40;
  const right = rate ? 36 : 0;
  const bottom = 24;
  const top = 24;
  const total = (p: P) => series.reduce((n, s) => n + num(p, s.key), 0);
  const max = Math.max(1, ...points.map(total), ...points.map((p) => beside.reduce((n, s) => n + num(p, s.key), 0)));
  const step = (width - left - right) / Math.max(points.length, 1);
  const barW = Math.max(step * (beside.length ? 0.55 : 0.8), 1);
  const besideW = beside.length ? Math.max(step * 0.25, 1) : 0;
  const y = (v: number) => ((height - top - bottom) * v) / max;
  const rateY = (r: number) => top + (height - top - bottom) * (1 - r);
  const every = Math.ceil(points.length / 8);
  const sumOf = (s: Series) => points.reduce((n, p) => n + num(p, s.key), 0);
  const rated = rate ? points.filter((p) => rate.of(p) !== null) : [];
  const rateDesc = rate ? ` ${rate.label} by bucket: ${rated.length ? rated.map((p) => `${labelOf(p.at)} ${percentText(rate.of(p))}`).join(', ') : 'none decided'}.` : '';
  const desc = `${points.length} ${points.length === 1 ? 'bucket' : 'buckets'}; the largest holds ${max} requests. ${[...series, ...beside].map((s) => `${s.label}: ${sumOf(s)}`).join(', ')}.${rateDesc}`;
  const columns = rate ? [...series, ...beside, rate] : [...series, ...beside];
  const cellsOf = (p: P) => [...[...series, ...beside].map((sr) => String(num(p, sr.key))), ...(rate ? [percentText(rate.of(p))] : [])];
  const table = <SeriesTable head="When" series={columns} rows={points.filter((p) => total(p) > 0).map((p) => ({ key: p.at, label: labelOf(p.at), cells: cellsOf(p) }))} />;
  /** A column of stacked `parts` at x, from the baseline up. */
  const column = (p: P, parts: Series[], x: number, w: number) => {
    let base = height - bottom;
    return parts.map((s) => {
      const h = y(num(p, s.key));
      base -= h;
      return h > 0 ? <rect key={s.key} x={x} y={base} width={w} height={h} fill={s.color} /> : null;
    });
  };
  const xOf = (i: number) => left + i * step;
  const line = rate
    ? points
        .map((p, i) => ({ i, r: rate.of(p) }))
        .filter((d): d is { i: number; r: number } => d.r !== null)
        .map((d) => ({ ...d, x: xOf(d.i) + (barW + besideW) / 2, y: rateY(d.r) }))
    : [];
  return (
    <Figure id={id} title={title} table={table}>
      <svg viewBox={`0 0 ${width} ${height}`} width="100%" role="img" aria-labelledby={`${id}-title ${id}-desc`}>
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{desc}</desc>
        <Legend series={[...series, ...beside]} rate={rate} x={left} y={4} />
        <line x1={left} y1={height - bottom} x2={width - right} y2={height - bottom} stroke="currentColor" strokeOpacity="0.3" />
        <text x={left - 4} y={top + 4} textAnchor="end" fontSize="10" fill="currentColor">
          {max}
        </text>
        <text x={left - 4} y={height - bottom} textAnchor="end" fontSize="10" fill="currentColor">
          0
        </text>
        {rate ? (
          <>
            <text x={width - right + 4} y={top + 4} fontSize="10" fill={rate.color}>
              100%
            </text>
            <text x={width - right + 4} y={height - bottom} fontSize="10" fill={rate.color}>
              0%
            </text>
          </>
        ) : null}
        {points.map((p, i) => (
          <g key={p.at} transform={`translate(${xOf(i)}, 0)`}>
            {column(p, series, 0, barW)}
            {beside.length ? column(p, beside, barW, besideW) : null}
            {i % every === 0 ? (
              <text x={(barW + besideW) / 2} y={height - 8} textAnchor="middle" fontSize="10" fill="currentColor">
                {labelOf(p.at)}
              </text>
            ) : null}
          </g>
        ))}
        {rate && line.length ? (
          <g>
            {/* Joined only between neighbouring buckets: a gap where none was decided. */}
            {line.slice(1).map((d, k) => (line[k]!.i === d.i - 1 ? <line key={`l${d.i}`} x1={line[k]!.x} y1={line[k]!.y} x2={d.x} y2={d.y} stroke={rate.color} strokeWidth="2" /> : null))}
            {line.map((d) => (
              <circle key={`c${d.i}`} cx={d.x} cy={d.y} r="3.5" fill={rate.color} stroke="#fff" strokeWidth="1" />
            ))}
          </g>
        ) : null}
      </svg>
    </Figure>
  );
}
