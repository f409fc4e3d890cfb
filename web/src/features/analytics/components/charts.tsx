/**
 * The analytics charts, drawn as SVG with visx pieces (scales, shapes, axes): React renders
 * every element, nothing injects a <style> element (the CSP's style-src 'self' holds), and
 * colours come from `currentColor`, so light and dark follow the theme. Each chart sits in a
 * `role="img"` with a summary in words; the numbers are also in the page's text.
 */
import { AxisBottom, AxisLeft } from "@visx/axis";
import { GridRows } from "@visx/grid";
import { Group } from "@visx/group";
import { ParentSize } from "@visx/responsive";
import { scaleBand, scaleLinear, scalePoint } from "@visx/scale";
import { LinePath } from "@visx/shape";

const MARGIN = { top: 8, right: 12, bottom: 28, left: 56 };
const TICK = { fill: "currentColor", fontSize: 12 } as const;

export type LinePoint = { label: string; value: number | null };

function LineSvg({ points, width, height, name }: { points: LinePoint[]; width: number; height: number; name: string }) {
  const innerWidth = Math.max(0, width - MARGIN.left - MARGIN.right);
  const innerHeight = Math.max(0, height - MARGIN.top - MARGIN.bottom);
  const known = points.filter((p): p is { label: string; value: number } => p.value != null);
  const values = known.map((p) => p.value);
  const low = Math.min(...values);
  const high = Math.max(...values);
  const pad = high === low ? Math.max(1, Math.abs(high) * 0.05) : 0;
  const x = scalePoint<string>({ domain: points.map((p) => p.label), range: [0, innerWidth], padding: 0.2 });
  const y = scaleLinear<number>({ domain: [low - pad, high + pad], range: [innerHeight, 0], nice: true });
  const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(innerWidth / 64))));
  return (
    <svg width={width} height={height} aria-hidden="true">
      <Group left={MARGIN.left} top={MARGIN.top}>
        <GridRows scale={y} width={innerWidth} stroke="currentColor" strokeOpacity={0.15} numTicks={5} />
        <AxisLeft
          scale={y}
          numTicks={5}
          stroke="currentColor"
          tickStroke="currentColor"
          tickLabelProps={{ ...TICK, textAnchor: "end", dx: -4, dy: 4 }}
          tickFormat={(v) => Number(v).toLocaleString("en")}
        />
        <AxisBottom
          top={innerHeight}
          scale={x}
          stroke="currentColor"
          tickStroke="currentColor"
          tickValues={points.filter((_, i) => i % every === 0).map((p) => p.label)}
          tickLabelProps={{ ...TICK, textAnchor: "middle" }}
        />
        <LinePath
          data={known}
          x={(p) => x(p.label) ?? 0}
          y={(p) => y(p.value)}
          stroke="currentColor"
          strokeWidth={2}
          fill="none"
        />
        {known.map((p) => (
          <circle key={p.label} cx={x(p.label) ?? 0} cy={y(p.value)} r={3} fill="currentColor">
            <title>{`${p.label}: ${p.value.toLocaleString("en")} ${name}`}</title>
          </circle>
        ))}
      </Group>
    </svg>
  );
}

/** A line of one value per label (days), gaps (null) skipped; sized to its parent. */
export function LineChart({ points, name, label }: { points: LinePoint[]; name: string; label: string }) {
  return (
    <div role="img" aria-label={label} className="h-64 w-full min-w-0 overflow-hidden">
      <ParentSize>{({ width, height }) => (width > 0 ? <LineSvg points={points} width={width} height={height} name={name} /> : null)}</ParentSize>
    </div>
  );
}

export type BarDatum = { label: string; value: number };

function BarsSvg({ bars, width, height, format }: { bars: BarDatum[]; width: number; height: number; format: (v: number) => string }) {
  const innerWidth = Math.max(0, width - MARGIN.left - MARGIN.right);
  const innerHeight = Math.max(0, height - MARGIN.top - MARGIN.bottom);
  const x = scaleBand<string>({ domain: bars.map((b) => b.label), range: [0, innerWidth], padding: 0.3 });
  const y = scaleLinear<number>({ domain: [Math.min(0, ...bars.map((b) => b.value)), Math.max(0, ...bars.map((b) => b.value))], range: [innerHeight, 0], nice: true });
  return (
    <svg width={width} height={height} aria-hidden="true">
      <Group left={MARGIN.left} top={MARGIN.top}>
        <GridRows scale={y} width={innerWidth} stroke="currentColor" strokeOpacity={0.15} numTicks={5} />
        <AxisLeft
          scale={y}
          numTicks={5}
          stroke="currentColor"
          tickStroke="currentColor"
          tickLabelProps={{ ...TICK, textAnchor: "end", dx: -4, dy: 4 }}
          tickFormat={(v) => format(Number(v))}
        />
        <AxisBottom top={innerHeight} scale={x} stroke="currentColor" tickStroke="currentColor" tickLabelProps={{ ...TICK, textAnchor: "middle" }} />
        {bars.map((b) => {
          const top = y(Math.max(0, b.value));
          return (
            <rect
              key={b.label}
              x={x(b.label) ?? 0}
              y={top}
              width={x.bandwidth()}
              height={Math.abs(y(b.value) - y(0))}
              fill="currentColor"
              fillOpacity={0.8}
            >
              <title>{`${b.label}: ${format(b.value)}`}</title>
            </rect>
          );
        })}
      </Group>
    </svg>
  );
}

/** One bar per label (accounts side by side); sized to its parent. */
export function BarChart({ bars, label, format }: { bars: BarDatum[]; label: string; format: (v: number) => string }) {
  return (
    <div role="img" aria-label={label} className="h-56 w-full min-w-0 overflow-hidden">
      <ParentSize>{({ width, height }) => (width > 0 ? <BarsSvg bars={bars} width={width} height={height} format={format} /> : null)}</ParentSize>
    </div>
  );
}
