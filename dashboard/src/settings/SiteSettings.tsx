import { useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { UpdateSiteDocument } from "../gql/graphql";
import type { Site } from "../App";
import { Snippet, WordPress } from "./Snippet";
import { timeZones } from "./timezones";

export function SiteSettings(props: { site: Site; onSaved: (s: Site) => void }) {
  const { site } = props;
  const [name, setName] = useState(site.name ?? "");
  const [tz, setTz] = useState(site.timezone);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState("");
  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setStatus("");
    try {
      const saved = (await request(UpdateSiteDocument, { id: site.id, name, timezone: tz })).updateSite;
      props.onSaved(saved);
      setStatus("Saved.");
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <div class="stack">
      <form class="stack" onSubmit={save} aria-labelledby="site-form-title">
        <h3 id="site-form-title">{site.domain}</h3>
        <label class="field"><span>Name</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)}
            aria-invalid={!!error?.at("name")} aria-describedby="site-name-error" />
          <span id="site-name-error" class="error">{error?.at("name")}</span>
        </label>
        <div class="field"><label for="tz">Time zone</label>
          <select id="tz" value={tz} onChange={(e) => setTz(e.currentTarget.value)}
            aria-invalid={!!error?.at("timezone")} aria-describedby="site-tz-error">
            {timeZones(tz).map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
          <span id="site-tz-error" class="error">{error?.at("timezone")}</span>
        </div>
        {error && !error.at("name") && !error.at("timezone") && <p class="error" role="alert">{error.message}</p>}
        <div class="row">
          <button type="submit" class="primary">Save</button>
          <span class="status" role="status">{status}</span>
        </div>
      </form>
      <section class="stack" aria-labelledby="snippet-title">
        <h3 id="snippet-title">Tracker snippet</h3>
        <p>Paste this into the &lt;head&gt; of every page. It counts pageviews, outbound clicks and form
          submissions without cookies; call <code>goalpost.track("Name", props, revenue)</code> for your own events.</p>
        <Snippet site={site} />
      </section>
      <section class="stack" aria-labelledby="wp-title">
        <h3 id="wp-title">WordPress</h3>
        <WordPress site={site} />
      </section>
    </div>
  );
}
