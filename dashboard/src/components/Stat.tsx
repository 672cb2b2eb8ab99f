import type { ReactNode } from "react";

interface StatProps {
  label: string;
  value: string;
  unit?: string;
  hint?: ReactNode;
  tone?: "in" | "out" | "neutral";
  testId?: string;
  /** The raw number, for tests and tools reading the page. */
  raw?: number;
}

export function Stat({ label, value, unit, hint, tone = "neutral", testId, raw }: StatProps) {
  return (
    <div className={`stat stat-${tone}`}>
      <div className="stat-label">{label}</div>
      <div className="stat-value">
        <span data-testid={testId} data-value={raw}>
          {value}
        </span>
        {unit && <span className="stat-unit">{unit}</span>}
      </div>
      {hint && <div className="stat-hint">{hint}</div>}
    </div>
  );
}
