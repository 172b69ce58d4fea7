import { useEffect, useState } from "preact/hooks";
import {
  ApiError,
  api,
  jobPath,
  post,
  type SchedulePreview,
  type Settings,
  type TriggeredJob,
} from "../api.ts";
import { exactUtc } from "../format.ts";

const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const OCCURRENCES = [
  [1, "first"],
  [2, "second"],
  [3, "third"],
  [4, "fourth"],
  [-1, "last"],
] as const;
const FREQUENCIES = ["Minute", "Hour", "Day", "Week", "Month"] as const;
type Frequency = (typeof FREQUENCIES)[number];
type Mode = "none" | "once" | "recurring" | "cron";

interface Form {
  mode: Mode;
  cron: string;
  startAt: string;
  frequency: Frequency;
  interval: string;
  end: "never" | "date" | "count";
  endTime: string;
  count: string;
  hours: string;
  minutes: string;
  weekDays: string[];
  monthDays: number[];
  occurrences: { day: string; occurrence: number }[];
  timeZone: string;
}

type Recurrence = {
  frequency?: Frequency;
  interval?: number;
  startTime?: string;
  endTime?: string;
  count?: number;
  schedule?: {
    hours?: number | number[];
    minutes?: number | number[];
    weekDays?: string[];
    monthDays?: number[];
    monthlyOccurrences?: { day: string; occurrence?: number }[];
  };
};

const list = (value: number | number[] | undefined) => (value === undefined ? "" : [value].flat().join(", "));
const numbers = (text: string) =>
  text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(Number);

/** The form's fields from a job's current schedule (a string is NCRONTAB, an object a recurrence). */
function fromSettings(settings: Settings): Form {
  const schedule = settings.schedule as string | Recurrence | undefined;
  const form: Form = {
    mode: "none",
    cron: "0 */5 * * * *",
    startAt: "",
    frequency: "Day",
    interval: "1",
    end: "never",
    endTime: "",
    count: "",
    hours: "",
    minutes: "",
    weekDays: [],
    monthDays: [],
    occurrences: [],
    timeZone: typeof settings.time_zone === "string" ? settings.time_zone : "",
  };
  if (typeof schedule === "string") return { ...form, mode: "cron", cron: schedule };
  if (!schedule || typeof schedule !== "object") return form;
  const inner = schedule.schedule ?? {};
  return {
    ...form,
    mode: schedule.frequency ? "recurring" : "once",
    startAt: schedule.startTime?.slice(0, 16) ?? "",
    frequency: (FREQUENCIES.find((f) => f.toLowerCase() === schedule.frequency?.toLowerCase()) ??
      "Day") as Frequency,
    interval: String(schedule.interval ?? 1),
    end: schedule.count ? "count" : schedule.endTime ? "date" : "never",
    endTime: schedule.endTime?.slice(0, 16) ?? "",
    count: schedule.count ? String(schedule.count) : "",
    hours: list(inner.hours),
    minutes: list(inner.minutes),
    weekDays: inner.weekDays ?? [],
    monthDays: inner.monthDays ?? [],
    occurrences: (inner.monthlyOccurrences ?? []).map((o) => ({ day: o.day, occurrence: o.occurrence ?? 1 })),
  };
}

/** The schedule value the host expects, from the form (null: no schedule). */
function toSchedule(form: Form): string | Recurrence | null {
  if (form.mode === "none") return null;
  if (form.mode === "cron") return form.cron.trim();
  const startTime = form.startAt ? `${form.startAt}:00` : undefined;
  if (form.mode === "once") return { startTime: startTime ?? new Date().toISOString().slice(0, 19) + "Z" };
  const recurrence: Recurrence = { frequency: form.frequency, interval: Number(form.interval) };
  if (startTime) recurrence.startTime = startTime;
  if (form.end === "date" && form.endTime) recurrence.endTime = `${form.endTime}:00`;
  if (form.end === "count" && form.count) recurrence.count = Number(form.count);
  const inner: NonNullable<Recurrence["schedule"]> = {};
  if (["Day", "Week", "Month"].includes(form.frequency)) {
    if (form.hours.trim()) inner.hours = numbers(form.hours);
    if (form.minutes.trim()) inner.minutes = numbers(form.minutes);
  }
  if (form.frequency === "Week" && form.weekDays.length) inner.weekDays = form.weekDays;
  if (form.frequency === "Month" && form.monthDays.length) inner.monthDays = form.monthDays;
  if (form.frequency === "Month" && form.occurrences.length) inner.monthlyOccurrences = form.occurrences;
  if (Object.keys(inner).length) recurrence.schedule = inner;
  return recurrence;
}

const zones = (() => {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return [];
  }
})();

/**
 * The schedule of a triggered job: none, one time, recurring (Azure Scheduler's model) or an
 * NCRONTAB string, with a time zone. The next runs are previewed by the host as the user types;
 * saving replaces settings.job and shows the host's message when it refuses.
 */
export function ScheduleForm({ job, onSaved }: { job: TriggeredJob; onSaved: () => void }) {
  const [form, setForm] = useState<Form>(() => fromSettings(job.settings));
  const [preview, setPreview] = useState<SchedulePreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (patch: Partial<Form>) => {
    setForm((old) => ({ ...old, ...patch }));
    setSaved(false);
  };
  const schedule = toSchedule(form);
  const key = JSON.stringify([schedule, form.timeZone]);

  useEffect(() => {
    setPreviewError(null);
    if (schedule === null) {
      setPreview(null);
      return;
    }
    const controller = new AbortController();
    const timer = setTimeout(async () => {
      try {
        const body = { schedule, count: 5, ...(form.timeZone ? { time_zone: form.timeZone } : {}) };
        const result = await api<SchedulePreview>("/api/schedule/preview", {
          method: "POST",
          body: JSON.stringify(body),
          signal: controller.signal,
        });
        setPreview(result);
      } catch (error) {
        if (controller.signal.aborted) return;
        setPreview(null);
        setPreviewError(
          error instanceof ApiError && error.status === 404
            ? "This host cannot preview schedules."
            : (error as Error).message,
        );
      }
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [key]);

  const save = async (event: Event) => {
    event.preventDefault();
    setSaveError(null);
    const settings: Record<string, unknown> = { ...job.settings };
    delete settings.schedule;
    delete settings.time_zone;
    if (schedule !== null) settings.schedule = schedule;
    if (schedule !== null && form.timeZone) settings.time_zone = form.timeZone;
    try {
      await api(`${jobPath("triggered", job.name)}/settings`, {
        method: "PUT",
        body: JSON.stringify(settings),
      });
      setSaved(true);
      onSaved();
    } catch (error) {
      setSaveError((error as Error).message);
    }
  };

  const toggleDay = (day: string) =>
    set({
      weekDays: form.weekDays.includes(day)
        ? form.weekDays.filter((d) => d !== day)
        : [...form.weekDays, day],
    });
  const toggleMonthDay = (day: number) =>
    set({
      monthDays: form.monthDays.includes(day)
        ? form.monthDays.filter((d) => d !== day)
        : [...form.monthDays, day],
    });

  return (
    <form class="schedule" onSubmit={save} aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule</h2>
      <fieldset>
        <legend>Runs</legend>
        {(
          [
            ["none", "On demand only"],
            ["once", "Once"],
            ["recurring", "Recurring"],
            ["cron", "Cron expression"],
          ] as const
        ).map(([mode, label]) => (
          <label key={mode} class="inline">
            <input type="radio" name="mode" checked={form.mode === mode} onChange={() => set({ mode })} />{" "}
            {label}
          </label>
        ))}
      </fieldset>

      {form.mode === "cron" && (
        <label>
          NCRONTAB (sec min hour day month weekday)
          <input value={form.cron} onInput={(e) => set({ cron: e.currentTarget.value })} spellcheck={false} />
        </label>
      )}

      {(form.mode === "once" || form.mode === "recurring") && (
        <fieldset>
          <legend>Start</legend>
          <label class="inline">
            <input type="radio" name="start" checked={!form.startAt} onChange={() => set({ startAt: "" })} />{" "}
            Now
          </label>
          <label class="inline">
            <input
              type="radio"
              name="start"
              checked={!!form.startAt}
              onChange={() => set({ startAt: new Date(Date.now() + 3600_000).toISOString().slice(0, 16) })}
            />{" "}
            At
          </label>
          {form.startAt && (
            <input
              type="datetime-local"
              aria-label="Start at (in the job's time zone)"
              value={form.startAt}
              onInput={(e) => set({ startAt: e.currentTarget.value })}
            />
          )}
        </fieldset>
      )}

      {form.mode === "recurring" && (
        <>
          <div class="row">
            <label>
              Every
              <input
                type="number"
                min={1}
                value={form.interval}
                onInput={(e) => set({ interval: e.currentTarget.value })}
                class="short"
              />
            </label>
            <label>
              Unit
              <select
                value={form.frequency}
                onChange={(e) => set({ frequency: e.currentTarget.value as Frequency })}
              >
                {FREQUENCIES.map((f) => (
                  <option key={f} value={f}>
                    {f.toLowerCase()}s
                  </option>
                ))}
              </select>
            </label>
          </div>
          {["Day", "Week", "Month"].includes(form.frequency) && (
            <div class="row">
              <label>
                At hours
                <input
                  value={form.hours}
                  placeholder="9, 17"
                  onInput={(e) => set({ hours: e.currentTarget.value })}
                  class="short"
                />
              </label>
              <label>
                At minutes
                <input
                  value={form.minutes}
                  placeholder="0, 30"
                  onInput={(e) => set({ minutes: e.currentTarget.value })}
                  class="short"
                />
              </label>
            </div>
          )}
          {form.frequency === "Week" && (
            <fieldset>
              <legend>On week days</legend>
              {DAYS.map((day) => (
                <label key={day} class="inline">
                  <input
                    type="checkbox"
                    checked={form.weekDays.includes(day)}
                    onChange={() => toggleDay(day)}
                  />{" "}
                  {day.slice(0, 3)}
                </label>
              ))}
            </fieldset>
          )}
          {form.frequency === "Month" && (
            <>
              <fieldset class="month-days">
                <legend>On days of the month</legend>
                {[...Array.from({ length: 31 }, (_, i) => i + 1), -1].map((day) => (
                  <label key={day} class="inline">
                    <input
                      type="checkbox"
                      checked={form.monthDays.includes(day)}
                      onChange={() => toggleMonthDay(day)}
                    />{" "}
                    {day === -1 ? "last day" : day}
                  </label>
                ))}
              </fieldset>
              <fieldset>
                <legend>On week days of the month</legend>
                {form.occurrences.map((o, i) => (
                  <div class="row" key={i}>
                    <select
                      aria-label="Which"
                      value={o.occurrence}
                      onChange={(e) =>
                        set({
                          occurrences: form.occurrences.map((x, j) =>
                            j === i ? { ...x, occurrence: Number(e.currentTarget.value) } : x,
                          ),
                        })
                      }
                    >
                      {OCCURRENCES.map(([value, label]) => (
                        <option key={value} value={value}>
                          {label}
                        </option>
                      ))}
                    </select>
                    <select
                      aria-label="Day"
                      value={o.day}
                      onChange={(e) =>
                        set({
                          occurrences: form.occurrences.map((x, j) =>
                            j === i ? { ...x, day: e.currentTarget.value } : x,
                          ),
                        })
                      }
                    >
                      {DAYS.map((day) => (
                        <option key={day}>{day}</option>
                      ))}
                    </select>
                    <button
                      type="button"
                      onClick={() => set({ occurrences: form.occurrences.filter((_, j) => j !== i) })}
                    >
                      Remove
                    </button>
                  </div>
                ))}
                <button
                  type="button"
                  onClick={() =>
                    set({ occurrences: [...form.occurrences, { day: "Monday", occurrence: 1 }] })
                  }
                >
                  Add a week day
                </button>
              </fieldset>
            </>
          )}
          <fieldset>
            <legend>Ends</legend>
            <label class="inline">
              <input
                type="radio"
                name="end"
                checked={form.end === "never"}
                onChange={() => set({ end: "never" })}
              />{" "}
              Never
            </label>
            <label class="inline">
              <input
                type="radio"
                name="end"
                checked={form.end === "date"}
                onChange={() => set({ end: "date" })}
              />{" "}
              On
            </label>
            {form.end === "date" && (
              <input
                type="datetime-local"
                aria-label="End time"
                value={form.endTime}
                onInput={(e) => set({ endTime: e.currentTarget.value })}
              />
            )}
            <label class="inline">
              <input
                type="radio"
                name="end"
                checked={form.end === "count"}
                onChange={() => set({ end: "count" })}
              />{" "}
              After
            </label>
            {form.end === "count" && (
              <input
                type="number"
                min={1}
                class="short"
                aria-label="Number of runs"
                value={form.count}
                onInput={(e) => set({ count: e.currentTarget.value })}
              />
            )}
          </fieldset>
        </>
      )}

      {form.mode !== "none" && (
        <label>
          Time zone
          <input
            list="time-zones"
            value={form.timeZone}
            placeholder="the host's (UTC unless WEBSITE_TIME_ZONE)"
            onInput={(e) => set({ timeZone: e.currentTarget.value })}
          />
          <datalist id="time-zones">
            {zones.map((zone) => (
              <option key={zone} value={zone} />
            ))}
          </datalist>
        </label>
      )}

      <div class="preview" aria-live="polite">
        {previewError && (
          <p class="error" role="alert">
            {previewError}
          </p>
        )}
        {preview && (
          <>
            <p>{preview.description}</p>
            <p class="muted">Next runs ({preview.time_zone}):</p>
            <ol class="next-runs">
              {preview.occurrences.map((when) => (
                <li key={when} title={when}>
                  {new Date(when).toLocaleString()} <span class="muted">({exactUtc(new Date(when))})</span>
                </li>
              ))}
            </ol>
          </>
        )}
      </div>
      {saveError && (
        <p class="error" role="alert">
          {saveError}
        </p>
      )}
      <div class="actions">
        <button type="submit" class="primary">
          Save schedule
        </button>
        {saved && <span role="status">Saved.</span>}
      </div>
    </form>
  );
}

/** Pause / resume of a job's schedule (only shown when the host reports `schedule_paused`). */
export function SchedulePause({ job, onDone }: { job: TriggeredJob; onDone: () => void }) {
  const [error, setError] = useState<string | null>(null);
  if (job.schedule_paused === undefined || !job.settings.schedule) return null;
  const act = async (what: "pause" | "resume") => {
    try {
      await post(`${jobPath("triggered", job.name)}/schedule/${what}`);
      setError(null);
      onDone();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      {job.schedule_paused ? (
        <button type="button" onClick={() => act("resume")}>
          Resume schedule
        </button>
      ) : (
        <button type="button" onClick={() => act("pause")}>
          Pause schedule
        </button>
      )}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
