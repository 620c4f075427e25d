// The agent console: a Preact app on the TypeScript client, talking to the Baton that serves it
// over Connect-web, with no backend of its own.
import { render } from "preact";

import { App } from "./app.js";
import "./console.css";

render(<App baseUrl={location.origin} />, document.getElementById("app")!);
