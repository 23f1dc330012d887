// Sign-in gate, then the header (site, date range, settings, sign out) over the site's view.
import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, request, setToken } from "./api/client";
import { features as loadFeatures, type Features } from "./api/optional";
import { SitesDocument, ViewerDocument, type SitesQuery } from "./gql/graphql";
import { forgetToken, keepToken, storedToken } from "./auth";
import { navigate, useRoute } from "./route";
import { Header } from "./Header";
import { SiteView } from "./SiteView";
import { AddSite } from "./settings/AddSite";
import { SiteSettings } from "./settings/SiteSettings";
import { ApiKeys } from "./settings/ApiKeys";
import { GoalsModal } from "./goals/GoalsModal";
import { Modal } from "./ui";

export type Site = SitesQuery["sites"][number];
type Session = { sites: Site[]; admin: boolean; features: Features };
export type Dialog = "goals" | "site" | "keys" | "add-site" | null;

async function openSession(): Promise<Session> {
  const [{ sites }, { viewer }, features] = await Promise.all(
    [request(SitesDocument), request(ViewerDocument), loadFeatures()]);
  return { sites, admin: viewer.admin, features };
}

export function App() {
  const [token, setTok] = useState<string | null>(() => storedToken());
  const [session, setSession] = useState<Session | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  const signOut = (message: string | null = null) => {
    forgetToken();
    setToken(null);
    setSession(null);
    setTok(null);
    setFailure(message);
  };

  useEffect(() => {
    if (!token) return;
    setToken(token, () => signOut("Your session ended: the token is no longer accepted."));
    openSession().then(setSession, (e: ApiError) =>
      signOut(e.code === "UNAUTHENTICATED" ? "That token was not accepted." : e.message));
  }, [token]);

  if (!token) return <SignIn message={failure} onSignIn={(t) => { setFailure(null); setTok(t); }} />;
  if (!session) return <div class="signin" role="status">Signing in…</div>;
  return (
    <Signed session={session} onSignOut={() => signOut()}
      onSitesChanged={(sites) => setSession({ ...session, sites })} />
  );
}

function SignIn(props: { message: string | null; onSignIn: (token: string) => void }) {
  const [value, setValue] = useState("");
  const [remember, setRemember] = useState(false);
  const [error, setError] = useState<string | null>(props.message);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (!token) return setError("Enter the admin token or a site key.");
    setBusy(true);
    try {
      await request(SitesDocument, undefined, token);
      keepToken(token, remember);
      props.onSignIn(token);
    } catch (err) {
      setError((err as ApiError).code === "UNAUTHENTICATED"
        ? "That token was not accepted." : (err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main>
      <form class="panel signin stack" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Goalpost</h1>
        <p class="muted">Sign in with the admin token or a site API key.</p>
        <label class="field">
          <span>Token</span>
          <input type="password" autoComplete="current-password" value={value}
            aria-invalid={!!error} aria-describedby={error ? "signin-error" : undefined}
            onInput={(e) => setValue(e.currentTarget.value)} />
        </label>
        <label class="row">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.currentTarget.checked)} />
          Remember me on this browser
        </label>
        {error && <p id="signin-error" class="error" role="alert">{error}</p>}
        <button class="primary" type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}

function Signed(props: { session: Session; onSignOut: () => void; onSitesChanged: (s: Site[]) => void }) {
  const { sites, admin, features } = props.session;
  const route = useRoute();
  const [dialog, setDialog] = useState<Dialog>(null);
  const site = useMemo(() => sites.find((s) => s.id === route.siteId) ?? null, [sites, route.siteId]);

  useEffect(() => {
    if (!site && sites.length) navigate({ ...route, siteId: sites[0].id }, true);
  }, [site, sites]);

  const replaceSite = (changed: Site) => {
    const others = sites.filter((s) => s.id !== changed.id);
    props.onSitesChanged([...others, changed].sort((a, b) => a.domain.localeCompare(b.domain)));
  };

  return (
    <>
      <Header sites={sites} site={site} route={route} admin={admin}
        onDialog={setDialog} onSignOut={props.onSignOut} />
      {site ? (
        <SiteView key={site.id} site={site} route={route} features={features}
          onDialog={setDialog} />
      ) : (
        <main>
          <section class="panel empty stack">
            <h2>No site yet</h2>
            <p>Add the site you want to measure; then put its tracker snippet on your pages.</p>
            {admin && <button class="primary" type="button" onClick={() => setDialog("add-site")}>Add site</button>}
          </section>
        </main>
      )}
      {dialog === "add-site" && (
        <AddSite onClose={() => setDialog(null)} onCreated={(s) => {
          replaceSite(s);
          setDialog(null);
          navigate({ ...route, siteId: s.id });
        }} />
      )}
      {site && dialog === "goals" && <GoalsModal site={site} onClose={() => setDialog(null)} />}
      {site && dialog === "site" && (
        <Modal title="Site settings" onClose={() => setDialog(null)}>
          <SiteSettings site={site} onSaved={replaceSite} />
        </Modal>
      )}
      {site && dialog === "keys" && (
        <Modal title="API keys" onClose={() => setDialog(null)}>
          <ApiKeys site={site} />
        </Modal>
      )}
    </>
  );
}
