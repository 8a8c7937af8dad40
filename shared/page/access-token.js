// The access token of an agent's page: the one in the address (#token=...), else the one this tab kept, else asked
// once (a prompt); kept for the tab (sessionStorage, under the page's own key). Bundled into each page that imports it
// (build/bundle-page.mjs).
/**
 * @param {string} key the page's sessionStorage key
 * @returns {string} the token ('' when none was given)
 */
export function accessToken(key) {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get('token');
  const token = fromAddress || sessionStorage.getItem(key) || window.prompt('Access token') || '';
  if (token) sessionStorage.setItem(key, token);
  return token;
}
