// The tracker snippet and the WordPress plugin, each with a copy button and a short how-to.
import type { Site } from "../App";
import { CopyButton } from "../ui";

export function snippet(site: Site): string {
  return `<script defer src="${location.origin}/js/goalpost.js" data-site="${site.domain}"></script>\n`
    + `<script>window.goalpost = window.goalpost || {track: function () { (goalpost.q = goalpost.q || []).push(arguments) }}</script>`;
}

export function Snippet({ site }: { site: Site }) {
  const code = snippet(site);
  return (
    <div class="stack">
      <pre class="snippet"><code>{code}</code></pre>
      <CopyButton text={code} label="Copy snippet" />
    </div>
  );
}

export function WordPress({ site }: { site: Site }) {
  const zip = `${location.origin}/wordpress/goalpost.zip`;
  return (
    <div class="stack">
      <p>
        On WordPress, install the plugin instead: download it, upload it under Plugins → Add New →
        Upload Plugin, activate it, and under Settings → Goalpost enter this server's URL
        ({location.origin}), the domain {site.domain} and a site API key. It adds the tracker and
        reports Contact Form 7, WPForms and Gravity Forms submissions from the server.
      </p>
      <div class="row">
        <a href="/wordpress/goalpost.zip" download>Download the WordPress plugin</a>
        <CopyButton text={zip} label="Copy download link" />
      </div>
    </div>
  );
}
