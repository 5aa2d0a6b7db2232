import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const SERIES_COLORS = { allowed: "#1a7f37", denied: "#cf222e", failed: "#9a6700", events: "#1f4fd1", errors: "#cf222e" };

/** A time-series chart (uPlot) of `series` = {t: [epoch s], name: [values]...}; resizes with its box. */
export function TimeChart({ data, names, label, height = 220 }) {
  const box = useRef(null);
  useEffect(() => {
    const node = box.current;
    if (!node) return undefined;
    const width = Math.max(280, node.clientWidth);
    const options = {
      width,
      height,
      title: undefined,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { size: 50 }],
      series: [
        {},
        ...names.map((name) => ({
          label: name,
          stroke: SERIES_COLORS[name] || "#555",
          width: 2,
          fill: `${SERIES_COLORS[name] || "#555555"}18`,
          points: { show: false },
        })),
      ],
    };
    const chart = new uPlot(options, [data.t, ...names.map((n) => data[n])], node);
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(280, node.clientWidth), height }));
    observer.observe(node);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [data, names.join(","), height]);
  return <div ref={box} class="chart" role="img" aria-label={label} />;
}

/** A tiny inline bar trend (SVG, no script): one bar per window. */
export function Sparkline({ values, label }) {
  const max = Math.max(1, ...values);
  const width = Math.max(values.length * 4, 40);
  return (
    <svg class="spark" viewBox={`0 0 ${width} 20`} width="96" height="20" role="img" aria-label={label} preserveAspectRatio="none">
      {values.map((v, i) => (
        <rect x={i * (width / values.length)} width={Math.max(1, width / values.length - 1)} y={20 - (v / max) * 20} height={(v / max) * 20} />
      ))}
    </svg>
  );
}
