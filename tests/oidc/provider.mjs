// A real OpenID provider for the tests: the certified `oidc-provider` package (tests/browser/package.json), on
// loopback, with its built-in login and consent pages (any password is taken: the account is the login typed).
//
//   node tests/oidc/provider.mjs '<json>'
//
// The JSON gives the port, the clients (client_id, client_secret, redirect_uris) and the accounts by login
// (email, email_verified, name). An account whose login starts with "late" gets authorization codes that expire
// after one second, so a test can present a code too late. It prints "listening <issuer>" once it answers.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The package lives beside the browser tests' other npm modules (`make test` installs them with `npm ci`).
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'browser', 'package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const config = JSON.parse(process.argv[2]);
const issuer = `http://127.0.0.1:${config.port}`;
const accounts = config.accounts;

const provider = new Provider(issuer, {
  clients: config.clients.map((client) => ({
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: account.email_verified, name: account.name };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  pkce: { required: () => true },
  cookies: { keys: ['handsup-test-provider-cookie-key'] },
  ttl: {
    AuthorizationCode: (ctx, code) => (code.accountId && code.accountId.startsWith('late') ? 1 : 60),
    IdToken: 300,
    AccessToken: 300,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`listening ${issuer}`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
