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
