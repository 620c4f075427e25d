// Builds the baton binary once for every test file (unless BATON_BIN names one already).
import { binary } from "../../client/ts/test/server.js";

export default async function globalSetup() {
  process.env.BATON_BIN = await binary();
}
