// Live status: poll the status fragment until the submission reaches a final state.
(function () {
  const live = document.getElementById("live");
  if (!live) return;
  const url = live.dataset.poll;
  const isFinal = () => live.querySelector("[data-final]")?.dataset.final === "true";
  async function tick() {
    if (isFinal()) return;
    try {
      const resp = await fetch(url, { headers: { "X-Requested-With": "fetch" } });
      if (resp.ok) live.innerHTML = await resp.text();
    } catch (e) { /* network blip: try again next tick */ }
    setTimeout(tick, 1000);
  }
  setTimeout(tick, 1000);
})();
// Drag and drop onto the upload field.
(function () {
  const drop = document.querySelector(".drop");
  if (!drop) return;
  const input = drop.querySelector("input[type=file]");
  const label = drop.querySelector("span");
  ["dragenter", "dragover"].forEach(e => drop.addEventListener(e, ev => { ev.preventDefault(); drop.classList.add("over"); }));
  ["dragleave", "drop"].forEach(e => drop.addEventListener(e, () => drop.classList.remove("over")));
  drop.addEventListener("drop", ev => { ev.preventDefault(); input.files = ev.dataTransfer.files; input.dispatchEvent(new Event("change")); });
  input.addEventListener("change", () => { label.textContent = Array.from(input.files).map(f => f.name).join(", ") || "Drop files here or choose them"; });
})();
// Cooldown countdown: enable the submit button when it reaches zero.
(function () {
  const el = document.querySelector(".countdown[data-seconds]");
  if (!el) return;
  let left = parseInt(el.dataset.seconds, 10);
  const button = document.getElementById("submit");
  const fmt = s => (s >= 60 ? Math.floor(s / 60) + " min " : "") + (s % 60) + " s";
  const timer = setInterval(() => {
    left -= 1;
    if (left <= 0) { clearInterval(timer); el.parentElement.textContent = "You can submit again."; if (button) button.disabled = false; return; }
    el.textContent = fmt(left);
  }, 1000);
  el.textContent = fmt(left);
})();
