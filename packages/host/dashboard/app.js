// The webjobs dashboard: a small single page over the host's own API (same origin, so the
// browser's Basic credentials come along). Hash routes:
//   #/                               all jobs
//   #/jobs/{type}/{name}             one job (history for triggered jobs)
//   #/jobs/triggered/{name}/runs/{id} one run, with its log (live while it runs)

const app = document.getElementById("app");
let refreshTimer = null;
let liveLog = null;

const escapeHtml = (value) =>
  String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
const enc = encodeURIComponent;

async function api(path, init) {
  const response = await fetch(path, init);
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  }
  return response.status === 204 || response.status === 202 ? null : response.json();
}

const when = (iso) => (!iso || iso.startsWith("0001") ? "—" : new Date(iso).toLocaleString());
const status = (value) => `<span class="status ${escapeHtml(value)}">${escapeHtml(value)}</span>`;
const kind = (job) =>
  job.type === "continuous" ? "continuous" : job.settings?.schedule ? "scheduled" : "on demand";
const jobLink = (job) => `#/jobs/${job.type}/${enc(job.name)}`;

function stopLive() {
  if (refreshTimer) clearTimeout(refreshTimer);
  refreshTimer = null;
  if (liveLog) liveLog.close();
  liveLog = null;
}

async function renderList() {
  const jobs = await api("/api/webjobs");
  const rows = jobs
    .map((job) => {
      const last = job.latest_run;
      const state =
        job.type === "continuous"
          ? status(job.status)
          : last
            ? status(last.status)
            : '<span class="muted">never run</span>';
      return `<tr>
        <td><a href="${jobLink(job)}">${escapeHtml(job.name)}</a></td>
        <td>${kind(job)}</td>
        <td>${state}</td>
        <td>${last ? when(last.start_time) : "—"}</td>
        <td class="error">${escapeHtml(job.error ?? "")}</td>
      </tr>`;
    })
    .join("");
  const empty =
    jobs.length === 0
      ? "No jobs yet. Deploy one below, or with <code>webjobs deploy ./folder --name NAME</code>."
      : "";
  // A refresh updates the table only, so that the deploy form keeps what is being typed.
  const table = document.getElementById("jobs");
  if (table) {
    table.tBodies[0].innerHTML = rows;
    document.getElementById("empty").innerHTML = empty;
    return;
  }
  app.innerHTML = `<h1>Jobs</h1>
    <p class="muted" id="empty">${empty}</p>
    <table id="jobs"><thead><tr><th>Name</th><th>Type</th><th>Status</th><th>Last run</th><th>Error</th></tr></thead><tbody>${rows}</tbody></table>
    <h2>Deploy a job</h2>
    <form id="deploy" class="actions">
      <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_\\-]*" placeholder="name" aria-label="job name" />
      <select name="type" aria-label="job type"><option value="triggered">on demand</option><option value="continuous">continuous</option></select>
      <input name="file" type="file" required accept=".zip,.cmd,.bat,.exe,.ps1,.sh,.py,.php,.js,.ts,.jar" aria-label="zip or script" />
      <button>Deploy</button>
      <span id="message" class="error"></span>
    </form>`;
  document.getElementById("deploy").onsubmit = deploy;
}

/** Uploads a zip or a single script the way Kudu clients do. */
async function deploy(event) {
  event.preventDefault();
  stopLive();
  const form = event.target;
  const file = form.file.files[0];
  const zip = file.name.toLowerCase().endsWith(".zip");
  const response = await fetch(`/api/${form.type.value}webjobs/${enc(form.name.value)}`, {
    method: "PUT",
    headers: {
      "content-type": zip ? "application/zip" : "application/octet-stream",
      "content-disposition": `attachment; filename="${file.name.replace(/["\\]/g, "_")}"`,
    },
    body: file,
  });
  if (!response.ok) {
    document.getElementById("message").textContent =
      (await response.json().catch(() => ({}))).error ?? response.statusText;
    return;
  }
  location.hash = `#/jobs/${form.type.value}/${enc(form.name.value)}`;
}

async function renderJob(type, name) {
  const job = await api(`/api/${type}webjobs/${enc(name)}`);
  let body = `<h1>${escapeHtml(job.name)} <span class="muted">— ${kind(job)}</span></h1>
    <dl>
      <dt>Command</dt><dd><code>${escapeHtml(job.run_command)}</code></dd>
      ${job.error ? `<dt>Error</dt><dd class="error">${escapeHtml(job.error)}</dd>` : ""}
      <dt>Settings</dt><dd><code>${escapeHtml(JSON.stringify(job.settings))}</code></dd>`;
  if (type === "continuous") {
    body += `<dt>Status</dt><dd>${status(job.status)} <span class="muted">${escapeHtml(job.detailed_status)}</span></dd>
      <dt>Restarts</dt><dd>${job.restarts}${job.crash_loop ? ` <span class="error">crash loop, last exit codes ${escapeHtml(job.last_exit_codes.join(", "))}</span>` : ""}</dd>
      </dl>
      <div class="actions">
        <button id="start">Start</button><button id="stop">Stop</button>
        <a href="${escapeHtml(job.log_url)}" target="_blank">Download log</a>
      </div>
      <h2>Log</h2><pre class="log" id="log"></pre>`;
    app.innerHTML = body;
    document.getElementById("start").onclick = () => act(`/api/continuouswebjobs/${enc(name)}/start`);
    document.getElementById("stop").onclick = () => act(`/api/continuouswebjobs/${enc(name)}/stop`);
    followLog(`/api/continuouswebjobs/${enc(name)}/log`);
    return;
  }
  const { runs } = await api(`/api/triggeredwebjobs/${enc(name)}/history`);
  const last = job.latest_run;
  body += `<dt>Last run</dt><dd>${last ? `${status(last.status)} ${when(last.start_time)}` : "never"}</dd></dl>
    <div class="actions">
      <input id="args" placeholder="arguments (optional)" aria-label="arguments" />
      <button id="run">Run</button>
      <span id="message" class="error"></span>
    </div>
    <h2>Recent runs</h2>
    <table><thead><tr><th>Run</th><th>Status</th><th>Started</th><th>Duration</th><th>Exit code</th><th>Trigger</th></tr></thead><tbody>
    ${runs
      .map(
        (run) => `<tr>
          <td><a href="#/jobs/triggered/${enc(name)}/runs/${run.id}">${run.id}</a></td>
          <td>${status(run.status)}${run.reason ? ` <span class="muted">${escapeHtml(run.reason)}</span>` : ""}</td>
          <td>${when(run.start_time)}</td><td>${escapeHtml(run.duration)}</td>
          <td>${run.exit_code ?? "—"}</td><td>${escapeHtml(run.trigger)}</td></tr>`,
      )
      .join("")}
    </tbody></table>`;
  app.innerHTML = body;
  document.getElementById("run").onclick = async () => {
    const args = document.getElementById("args").value;
    const response = await fetch(`/api/triggeredwebjobs/${enc(name)}/run?arguments=${enc(args)}`, {
      method: "POST",
    });
    if (response.status !== 202) {
      document.getElementById("message").textContent =
        (await response.json().catch(() => ({}))).error ?? response.statusText;
      return;
    }
    const id = response.headers.get("location").split("/").pop();
    location.hash = `#/jobs/triggered/${enc(name)}/runs/${id}`;
  };
  refreshTimer = setTimeout(route, 3000);
}

async function renderRun(name, id) {
  const run = await api(`/api/triggeredwebjobs/${enc(name)}/history/${enc(id)}`);
  const running = run.status === "Running" || run.status === "Initializing";
  app.innerHTML = `<h1><a href="#/jobs/triggered/${enc(name)}">${escapeHtml(name)}</a> › run ${escapeHtml(run.id)}</h1>
    <dl>
      <dt>Status</dt><dd>${status(run.status)}${run.reason ? ` <span class="muted">${escapeHtml(run.reason)}</span>` : ""}</dd>
      <dt>Started</dt><dd>${when(run.start_time)}</dd>
      <dt>Ended</dt><dd>${when(run.end_time)}</dd>
      <dt>Duration</dt><dd>${escapeHtml(run.duration)}</dd>
      <dt>Exit code</dt><dd>${run.exit_code ?? "—"}${run.signal ? ` (${escapeHtml(run.signal)})` : ""}</dd>
      <dt>CPU time</dt><dd>${run.cpu_time_ms == null ? "—" : `${run.cpu_time_ms} ms`}</dd>
      <dt>Peak memory</dt><dd>${run.peak_memory_bytes ? `${(run.peak_memory_bytes / 1048576).toFixed(1)} MiB` : "—"}</dd>
      <dt>Trigger</dt><dd>${escapeHtml(run.trigger)}</dd>
      <dt>Arguments</dt><dd><code>${escapeHtml(run.arguments)}</code></dd>
    </dl>
    <div class="actions">
      <button id="toggle" aria-expanded="true">Hide log</button>
      <a href="${escapeHtml(run.output_url)}" download="output_log.txt">Download log</a>
      <button id="copy">Copy log URL</button>
      ${running ? '<button id="cancel">Cancel run</button>' : ""}
    </div>
    <pre class="log" id="log"></pre>`;
  const log = document.getElementById("log");
  document.getElementById("toggle").onclick = (event) => {
    const hidden = (log.hidden = !log.hidden);
    event.target.textContent = hidden ? "Show log" : "Hide log";
    event.target.setAttribute("aria-expanded", String(!hidden));
  };
  document.getElementById("copy").onclick = async (event) => {
    await navigator.clipboard?.writeText(run.output_url).catch(() => undefined);
    event.target.textContent = "Copied";
  };
  const cancel = document.getElementById("cancel");
  if (cancel) cancel.onclick = () => act(`/api/triggeredwebjobs/${enc(name)}/history/${enc(id)}/cancel`);
  followLog(`/api/triggeredwebjobs/${enc(name)}/history/${enc(id)}/log`, () => {
    if (running) route();
  });
}

/** Shows a log as it grows, over Server-Sent Events. */
function followLog(url, onEnd) {
  const log = document.getElementById("log");
  liveLog = new EventSource(url);
  liveLog.onmessage = (event) => {
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    log.textContent += event.data + "\n";
    if (atBottom) log.scrollTop = log.scrollHeight;
  };
  liveLog.addEventListener("end", () => {
    liveLog.close();
    liveLog = null;
    onEnd?.();
  });
  liveLog.onerror = () => liveLog?.close();
}

async function act(path) {
  try {
    await api(path, { method: "POST" });
  } catch (error) {
    alert(error.message);
  }
  route();
}

async function route() {
  stopLive();
  // Leaving the list page: its table must not be mistaken for the current page's.
  if (location.hash.replace(/^#\/?/, "") !== "") document.getElementById("jobs")?.remove();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "jobs" && parts[3] === "runs") await renderRun(parts[2], parts[4]);
    else if (parts[0] === "jobs") await renderJob(parts[1], parts[2]);
    else {
      await renderList();
      refreshTimer = setTimeout(route, 3000);
    }
  } catch (error) {
    app.innerHTML = `<p class="error">${escapeHtml(error.message)}</p><p><a href="#/">All jobs</a></p>`;
  }
}

window.addEventListener("hashchange", route);
fetch("/api/health")
  .then((r) => r.json())
  .then(
    (h) =>
      (document.getElementById("health").textContent =
        `instance ${h.instance}${h.stopped ? " · WebJobs stopped" : ""}`),
  )
  .catch(() => undefined);
route();
