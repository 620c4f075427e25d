// The demo page's one job: add the widget's tag for the channel the page's URL names
// (?channel=...), as a site would in its HTML.
const channel = new URLSearchParams(location.search).get("channel");
const statusLine = document.getElementById("status");
if (!channel) {
  if (statusLine) statusLine.textContent = "Add ?channel=<web chat channel id> to this page's address to open the chat.";
} else {
  const s = document.createElement("script");
  s.src = "widget.js";
  s.dataset.channel = channel;
  s.dataset.title = "Demo support";
  document.body.appendChild(s);
}
export {};
