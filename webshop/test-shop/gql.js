// Minimal GraphQL-over-fetch client for the test shop's CLIs and the plugin tests (Node >= 20).
async function request(url, query, variables = {}, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { throw new Error(`HTTP ${res.status} from ${url}: ${text.slice(0, 300)}`); }
  return { body, token: res.headers.get('vendure-auth-token') };
}

/** Runs an operation; throws on GraphQL errors. Returns `data`. */
async function gql(url, query, variables, token) {
  const { body } = await request(url, query, variables, token);
  if (body.errors) {
    const err = new Error(body.errors.map(e => e.message).join('; '));
    err.graphQLErrors = body.errors;
    throw err;
  }
  return body.data;
}

/** Admin API login; returns the bearer token. */
async function adminLogin(baseUrl, username, password) {
  const { body, token } = await request(`${baseUrl}/admin-api`,
    'mutation($u:String!,$p:String!){ login(username:$u,password:$p,rememberMe:true){ __typename ... on CurrentUser { id identifier } ... on ErrorResult { message } } }',
    { u: username, p: password });
  if (body.errors) throw new Error(body.errors[0].message);
  if (body.data.login.__typename !== 'CurrentUser' || !token) throw new Error(`login failed for ${username}: ${body.data.login.message}`);
  return token;
}

/** Parses --name value / --flag arguments. */
function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
      else { out[a.slice(2)] = next; i++; }
    } else out._.push(a);
  }
  return out;
}

function baseUrlFrom(args) {
  return (args.url || process.env.SHOP_URL || `http://127.0.0.1:${process.env.PORT || 3000}`).replace(/\/$/, '');
}

module.exports = { request, gql, adminLogin, parseArgs, baseUrlFrom };
