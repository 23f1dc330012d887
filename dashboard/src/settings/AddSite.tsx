import { useState } from "preact/hooks";
import { ApiError, request } from "../api/client";
import { CreateSiteDocument } from "../gql/graphql";
import type { Site } from "../App";
import { Modal } from "../ui";
import { timeZones } from "./timezones";

export function AddSite(props: { onClose: () => void; onCreated: (s: Site) => void }) {
  const [domain, setDomain] = useState("");
  const [name, setName] = useState("");
  const [tz, setTz] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC");
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      props.onCreated((await request(CreateSiteDocument, { domain, name: name || null, timezone: tz })).createSite);
    } catch (err) {
      setError(err as ApiError);
    }
  };
  return (
    <Modal title="Add site" onClose={props.onClose}>
      <form class="stack" onSubmit={submit}>
        <label class="field"><span>Domain</span>
          <input value={domain} placeholder="example.com" onInput={(e) => setDomain(e.currentTarget.value)}
            aria-invalid={!!error?.at("domain")} aria-describedby="add-site-domain-error" />
          <span id="add-site-domain-error" class="error">{error?.at("domain")}</span>
        </label>
        <label class="field"><span>Name (optional)</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <div class="field"><label for="tz">Time zone</label>
          <select id="tz" value={tz} onChange={(e) => setTz(e.currentTarget.value)}>
            {timeZones(tz).map((z) => <option key={z} value={z}>{z}</option>)}
          </select>
        </div>
        {error && !error.at("domain") && <p class="error" role="alert">{error.message}</p>}
        <button type="submit" class="primary">Add site</button>
      </form>
    </Modal>
  );
}
