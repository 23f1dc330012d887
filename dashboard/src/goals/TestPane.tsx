// "Test": runs testEvent (a dry run of the ingestion matcher, nothing stored) on an example
// event of the goal's type and shows each condition's actual value and result.
import { useState } from "preact/hooks";
import type { Site } from "../App";
import { request } from "../api/client";
import { TestEventDocument, type GoalFieldsFragment, type TestEventQuery } from "../gql/graphql";
import { fieldLabel, operatorLabel } from "./model";

type Example = Record<string, string>;

const INPUTS: Record<string, { key: string; label: string; placeholder: string }[]> = {
  CLICK: [
    { key: "clickUrl", label: "Link URL", placeholder: "https://www.amazon.de/dp/B08N5WRWNW" },
    { key: "clickText", label: "Link text", placeholder: "Buy now" },
    { key: "url", label: "Page URL", placeholder: "https://example.com/pricing" },
  ],
  PAGEVIEW: [{ key: "url", label: "Page URL", placeholder: "https://example.com/pricing" }],
  FORM: [
    { key: "plugin", label: "Form plugin", placeholder: "cf7, wpforms, gravity or html" },
    { key: "formId", label: "Form id", placeholder: "123" },
    { key: "formName", label: "Form name", placeholder: "Contact" },
    { key: "url", label: "Page URL", placeholder: "https://example.com/contact" },
  ],
  CUSTOM_EVENT: [
    { key: "name", label: "Event name", placeholder: "Purchase" },
    { key: "props", label: "Properties (JSON)", placeholder: '{"plan": "pro"}' },
  ],
};

function eventOf(type: string, site: Site, x: Example) {
  const url = x.url || `https://${site.domain}/`;
  switch (type) {
    case "CLICK":
      return { type: "click", url, click: { url: x.clickUrl ?? "", text: x.clickText ?? "" } };
    case "PAGEVIEW":
      return { type: "pageview", url };
    case "FORM": {
      const plugin = x.plugin || "html";
      const form = plugin === "html" ? { plugin, id: x.formId ?? "", name: x.formName ?? "" } : { plugin, id: x.formId ?? "", title: x.formName ?? "" };
      return { type: "form", url, form };
    }
    default:
      return { type: "custom", url, name: x.name ?? "", props: x.props ? JSON.parse(x.props) : undefined };
  }
}

export function TestPane(props: { site: Site; goal: GoalFieldsFragment; onBack: () => void }) {
  const { goal } = props;
  const [example, setExample] = useState<Example>({});
  const [result, setResult] = useState<TestEventQuery["testEvent"] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const event = eventOf(goal.type, props.site, example);
      setResult((await request(TestEventDocument, { siteId: props.site.id, event })).testEvent);
    } catch (err) {
      setResult(null);
      setError(err instanceof SyntaxError ? "Properties must be a JSON object." : (err as Error).message);
    }
  };
  const mine = result?.tried.find((t) => t.goal.id === goal.id);
  return (
    <section class="stack" aria-labelledby="test-title">
      <h3 id="test-title">Test {goal.name}</h3>
      <p class="muted">Try an example event against this site's goals. Nothing is stored.</p>
      <form class="stack" onSubmit={run}>
        {INPUTS[goal.type].map((f) => (
          <label class="field" key={f.key}>
            <span>{f.label}</span>
            <input value={example[f.key] ?? ""} placeholder={f.placeholder}
              onInput={(e) => setExample({ ...example, [f.key]: e.currentTarget.value })} />
          </label>
        ))}
        <div class="row">
          <button type="submit" class="primary">Run test</button>
          <button type="button" onClick={props.onBack}>Back to goals</button>
        </div>
      </form>
      {error && <p class="error" role="alert">{error}</p>}
      {result && (
        <div class="stack" role="status" aria-live="polite">
          <p>
            <strong>{mine?.matched ? `${goal.name} matches this event.` : `${goal.name} does not match this event.`}</strong>{" "}
            {result.goal ? `The event would record ${result.goal.name}.` : "The event would record no goal."}
          </p>
          {mine && (
            <div class="scroll-x">
              <table class="data" aria-label="Condition results">
                <thead><tr><th scope="col">Condition</th><th scope="col">Actual value</th><th scope="col">Result</th></tr></thead>
                <tbody>
                  {mine.conditions.map((c, i) => (
                    <tr key={i}>
                      <td>{fieldLabel(c.condition.field)} {operatorLabel(c.condition.operator)} {c.condition.value !== null ? `“${c.condition.value}”` : ""}</td>
                      <td>{c.actual === null ? <span class="muted">(none)</span> : c.actual}</td>
                      <td class={c.matched ? "result-ok" : "result-no"}>{c.matched ? "Matched" : "Not matched"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
