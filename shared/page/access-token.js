// The access token of an agent's page: the one in the address (#token=...), else the one this tab kept, else asked
// once (a prompt); kept for the tab (sessionStorage, under the page's own key). A token found in the address is read
// once and removed from it at once (history, screenshots and shared links never hold it); the fragment's other
// parameters stay. Bundled into each page that imports it (build/bundle-page.mjs).
/**
 * @param {string} key the page's sessionStorage key
 * @returns {string} the token ('' when none was given)
 */
export function accessToken(key) {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromAddress = fragment.get('token');
  if (fragment.has('token')) {
    fragment.delete('token');
    const rest = fragment.toString();
    history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  }
  const token = fromAddress || sessionStorage.getItem(key) || window.prompt('Access token') || '';
  if (token) sessionStorage.setItem(key, token);
  return token;
}
