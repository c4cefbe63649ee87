// Renders the Victor chat view. Protocol work happens in the extension (src/chatView.ts); this
// script only draws messages and forwards input. Text is inserted with textContent, never as
// HTML, so model output cannot inject markup into the view.
(function () {
  const vscode = acquireVsCodeApi();
  const log = document.getElementById("log");
  const input = document.getElementById("input");
  const sessions = document.getElementById("sessions");
  const send = document.getElementById("send");
  const stop = document.getElementById("stop");
  let current = null; // the assistant bubble being streamed
  let tools = new Map(); // tool call id -> element, for the turn being streamed

  function bubble(role, text) {
    const el = document.createElement("div");
    el.className = `msg ${role}`;
    const who = document.createElement("div");
    who.className = "who";
    who.textContent = role === "user" ? "You" : role === "assistant" ? "Victor" : role;
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = text || "";
    el.append(who, body);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function footer(el, text) {
    const f = document.createElement("div");
    f.className = "meta";
    f.textContent = text;
    el.append(f);
  }

  window.addEventListener("message", (event) => {
    const m = event.data;
    switch (m.type) {
      case "user":
        bubble("user", m.text);
        break;
      case "assistantStart":
        current = bubble("assistant", "");
        tools = new Map();
        break;
      case "delta":
        if (current) {
          current.querySelector(".body").textContent += m.text;
          log.scrollTop = log.scrollHeight;
        }
        break;
      case "toolCall": {
        if (!current) break;
        let el = tools.get(m.call.id);
        if (!el) {
          el = document.createElement("div");
          el.className = "tool";
          current.insertBefore(el, current.querySelector(".body"));
          tools.set(m.call.id, el);
        }
        el.textContent = `🔧 ${m.call.name} — ${m.call.status}`;
        el.dataset.status = m.call.status;
        break;
      }
      case "assistantEnd":
        if (current) {
          const body = current.querySelector(".body");
          // Without streaming (or if deltas were missed) the result carries the full text.
          if (!body.textContent) body.textContent = m.content;
          const u = m.usage || {};
          const stopped = m.stopReason === "cancelled" ? " · stopped" : "";
          footer(current, `${u.inputTokens ?? 0} in · ${u.outputTokens ?? 0} out${stopped}`);
        }
        current = null;
        vscode.postMessage({ type: "listSessions" });
        break;
      case "error":
        bubble("error", m.message);
        current = null;
        break;
      case "sessions": {
        sessions.replaceChildren(new Option("Sessions…", ""));
        for (const s of m.sessions) {
          const opt = new Option(s.label, s.id);
          opt.selected = s.id === m.current;
          sessions.append(opt);
        }
        break;
      }
      case "transcript":
        log.replaceChildren();
        for (const e of m.entries) bubble(e.role, e.text);
        break;
      case "reset":
        log.replaceChildren();
        sessions.value = "";
        break;
      case "busy":
        send.disabled = m.busy;
        stop.disabled = !m.busy;
        break;
    }
  });

  document.getElementById("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    vscode.postMessage({ type: "send", text });
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      document.getElementById("composer").requestSubmit();
    }
  });
  stop.addEventListener("click", () => vscode.postMessage({ type: "cancel" }));
  document.getElementById("new").addEventListener("click", () => vscode.postMessage({ type: "newSession" }));
  document.getElementById("refresh").addEventListener("click", () => vscode.postMessage({ type: "listSessions" }));
  sessions.addEventListener("change", () => {
    if (sessions.value) vscode.postMessage({ type: "resume", sessionId: sessions.value });
  });
  vscode.postMessage({ type: "ready" });
})();
