// The site's API keys (admin only): create (the secret shown once, with a copy button), list,
// revoke.
import { useEffect, useState } from "preact/hooks";
import { request } from "../api/client";
import { ApiKeysDocument, CreateApiKeyDocument, RevokeApiKeyDocument, type ApiKeysQuery } from "../gql/graphql";
import type { Site } from "../App";
import { dateTime } from "../format";
import { CopyButton } from "../ui";

type Key = NonNullable<ApiKeysQuery["site"]>["apiKeys"][number];

export function ApiKeys({ site }: { site: Site }) {
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [label, setLabel] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = () => request(ApiKeysDocument, { siteId: site.id }).then((d) => setKeys(d.site?.apiKeys ?? []), (e: Error) => setError(e.message));
  useEffect(() => { reload(); }, [site.id]);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const created = (await request(CreateApiKeyDocument, { siteId: site.id, label: label || null })).createApiKey;
      setSecret(created.secret);
      setLabel("");
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (key: Key) => {
    setError(null);
    try {
      await request(RevokeApiKeyDocument, { id: key.id });
      await reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div class="stack">
      <p class="muted">A site key signs server-side events (the WordPress plugin, your backend) and can read this site's numbers.</p>
      <form class="row" onSubmit={create}>
        <label class="field"><span>Label</span>
          <input value={label} placeholder="wordpress" onInput={(e) => setLabel(e.currentTarget.value)} />
        </label>
        <button type="submit" class="primary">Create key</button>
      </form>
      {secret && (
        <div class="stack" role="status">
          <p><strong>Copy the new key now: it is shown only once.</strong></p>
          <input class="secret" readOnly value={secret} aria-label="New key" onFocus={(e) => e.currentTarget.select()} />
          <div class="row"><CopyButton text={secret} label="Copy key" /><button type="button" onClick={() => setSecret(null)}>Done</button></div>
        </div>
      )}
      {error && <p class="error" role="alert">{error}</p>}
      {keys === null ? <p role="status">Loading keys…</p> : keys.length === 0 ? <p class="empty">No keys yet.</p> : (
        <div class="scroll-x">
          <table class="data" aria-label="API keys">
            <thead><tr><th scope="col">Label</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.id} data-key-id={k.id}>
                  <td>{k.label ?? <span class="muted">(no label)</span>}</td>
                  <td>{dateTime(k.createdAt, site.timezone)}</td>
                  <td>{k.revokedAt ? `Revoked ${dateTime(k.revokedAt, site.timezone)}` : "Active"}</td>
                  <td>{!k.revokedAt && <button type="button" class="danger" onClick={() => revoke(k)}>Revoke</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
