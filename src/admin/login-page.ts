const STYLE = "body{font:14px/1.4 system-ui,sans-serif;margin:48px auto;max-width:360px;color:#1d232a}input{font:inherit;width:100%;box-sizing:border-box;padding:6px;margin:8px 0}.err{color:#b42318}";

/** The admin login form: one password field posting the token; the answer sets the admin cookie. */
export function loginPage({ action, error }: { action: string; error?: string }): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>meshgate admin login</title><style>${STYLE}</style></head>
<body><h1>meshgate admin</h1>${error ? `<p class="err" id="login-error">${escapeHtml(error)}</p>` : ""}
<form method="post" action="${escapeHtml(action)}"><label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button></form></body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
