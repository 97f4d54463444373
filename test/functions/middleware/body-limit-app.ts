import { Hono } from "hono";
import { bodyLimits } from "../../../functions/middleware/body-limit.ts";
import { ProblemError, sendProblem } from "../../../functions/problem.ts";

/** The app-wide body limit alone, as createApp installs it; bundled for workerd by the test. */
export const app = new Hono();
app.use(bodyLimits([]));
app.post("/echo", async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
app.onError((err, c) => {
  if (err instanceof ProblemError) return sendProblem(c, err);
  return c.text(String(err), 500);
});
export default app;
