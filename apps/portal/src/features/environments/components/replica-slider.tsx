"use client";
// A labelled range input with its value and bounds visible.
import type { Limits, ReplicaBounds } from "../../../shared/environment-schemas";

export function ReplicaSlider({
  id,
  name,
  label,
  hint,
  bounds,
  value,
  onChange,
  error,
}: {
  id: string;
  name: string;
  label: string;
  hint?: string;
  bounds: ReplicaBounds;
  value: number;
  onChange: (value: number) => void;
  error?: string;
}) {
  return (
    <div>
      <div className="flex items-baseline justify-between">
        <label htmlFor={id} className="text-sm font-medium text-slate-800">
          {label}
        </label>
        <output
          htmlFor={id}
          className="text-lg font-semibold tabular-nums text-indigo-700"
          data-testid={`${id}-value`}
        >
          {value}
        </output>
      </div>
      <input
        id={id}
        name={name}
        type="range"
        min={bounds.min}
        max={bounds.max}
        step={1}
        value={value}
        onChange={(e) => onChange(Number(e.target.value))}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
        aria-invalid={error ? true : undefined}
        className="mt-2 w-full"
      />
      <div className="flex justify-between text-xs text-slate-500" aria-hidden>
        <span>{bounds.min}</span>
        <span>{bounds.max}</span>
      </div>
      <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
        {hint ?? `Between ${bounds.min} and ${bounds.max}.`}
      </p>
      {error && (
        <p id={`${id}-error`} className="mt-1 text-sm text-rose-700">
          {error}
        </p>
      )}
    </div>
  );
}

type Tier = "frontend" | "redis";
type Tiers<T> = Record<Tier, T>;

const TIERS = [
  {
    tier: "frontend",
    name: "frontendReplicas",
    label: "Frontend replicas",
    hint: "Web servers behind the load balancer.",
  },
  {
    tier: "redis",
    name: "redisReplicas",
    label: "Redis replicas",
    hint: "1 writer, the rest read replicas.",
  },
] as const;

/** The two sliders of the create and scale forms (field names as the schemas expect them). */
export function ReplicaSliders({
  ids,
  limits,
  values,
  onChange,
  errors,
  cacheLabel,
}: {
  ids: Tiers<string>;
  limits: Limits;
  values: Tiers<number>;
  onChange: Tiers<(value: number) => void>;
  errors?: Record<string, string>;
  /** What the cache slider counts (Redis tasks, or ElastiCache nodes); default: Redis replicas. */
  cacheLabel?: { label: string; hint: string };
}) {
  return (
    <>
      {TIERS.map((t) => (
        <ReplicaSlider
          key={t.tier}
          id={ids[t.tier]}
          name={t.name}
          label={t.tier === "redis" && cacheLabel ? cacheLabel.label : t.label}
          hint={t.tier === "redis" && cacheLabel ? `${cacheLabel.hint}.` : t.hint}
          bounds={limits[t.name]}
          value={values[t.tier]}
          onChange={onChange[t.tier]}
          error={errors?.[t.name]}
        />
      ))}
    </>
  );
}
