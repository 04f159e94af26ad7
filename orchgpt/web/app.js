// The live view: one EventSource; every event is a whole snapshot of the team.
// Everything a peer wrote goes in through textContent, never as HTML.
"use strict";
const $ = (id) => document.getElementById(id);
const time = (s) => (s ? new Date(s * 1000).toLocaleTimeString() : "");

function row(cells, cls) {
  const tr = document.createElement("tr");
  if (cls) tr.className = cls;
  for (const [text, name] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (name) td.className = name;
    tr.appendChild(td);
  }
  return tr;
}

function render(view) {
  $("rate").textContent = view.rate;
  $("total").textContent = view.envelopes;
  $("agent-count").textContent = view.agents.length;
  $("agents").tBodies[0].replaceChildren(...view.agents.map((a) =>
    row([[a.role], [a.agent, "agent"], [a.cert], [time(a.since)], [String(a.in_flight), "in-flight"]], "agent-row")));
  $("requests").tBodies[0].replaceChildren(...view.requests.map((r) => {
    const secs = r.ended ? (r.ended - r.started).toFixed(1) : "";
    const tokens = r.prompt_tokens || r.completion_tokens ? `${r.prompt_tokens}+${r.completion_tokens}` : "";
    const what = r.error ? `${r.what}  [${r.error}]` : r.what;
    return row([[time(r.started)], [r.state, "state"], [secs], [r.requester], [r.agent, "agent"], [what, "what"], [tokens]],
      `request-row state-${r.state}`);
  }));
}

const events = new EventSource("/events");
events.onopen = () => { $("status").textContent = "live"; $("status").className = "status live"; };
events.onerror = () => { $("status").textContent = "reconnecting…"; $("status").className = "status"; };
events.onmessage = (message) => render(JSON.parse(message.data));
