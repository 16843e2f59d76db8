import { createHash, createPrivateKey, timingSafeEqual, webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import { isValidBsn, type AccountsService } from './accounts.service';
import type { IssuedSession, SessionsService } from './sessions.service';

export const EIDAS_LEVELS = ['http://eidas.europa.eu/LoA/low', 'http://eidas.europa.eu/LoA/substantial', 'http://eidas.europa.eu/LoA/high'] as const;
export const EIDAS_SUBSTANTIAL = EIDAS_LEVELS[1];

/** How long a browser has between the redirect to the provider and the callback. */
const LOGIN_TTL_SECONDS = 600;

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** PEM (RSA or EC P-256) for private_key_jwt; takes the place of clientSecret. */
  clientPrivateKey?: string;
  clientKeyId?: string;
  redirectUri: string;
  subjectClaim: string;
  subjectType: 'bsn' | 'pseudonym';
  /** Lowest acceptable `acr` (null: no check). */
  requiredAcr: string | null;
  /** http:// issuers only outside production (tests run the provider on loopback). */
  allowInsecureIssuer: boolean;
}

export type OidcFailureReason =
  | 'invalid_return_to'
  | 'missing_state'
  | 'state_mismatch'
  | 'unknown_state'
  | 'provider_error'
  | 'token_rejected'
  | 'nonce_mismatch'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'id_token_expired'
  | 'invalid_signature'
  | 'acr_too_low'
  | 'invalid_subject'
  | 'provider_unavailable';

/** A refused login; `reason` is safe to show and to log (it never carries a token or a BSN). */
export class OidcLoginError extends Error {
  constructor(
    readonly reason: OidcFailureReason,
    readonly status: 400 | 401 | 502,
    message: string,
  ) {
    super(message);
  }
}

/** What the login route stores server-side per redirect, keyed by a hash of `state`. */
interface PendingLogin {
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** eIDAS levels rank low < substantial < high; any other required value must match exactly. */
export function acrSatisfies(actual: unknown, required: string | null): boolean {
  if (required === null) return true;
  if (typeof actual !== 'string') return false;
  const need = EIDAS_LEVELS.indexOf(required as (typeof EIDAS_LEVELS)[number]);
  if (need < 0) return actual === required;
  return EIDAS_LEVELS.indexOf(actual as (typeof EIDAS_LEVELS)[number]) >= need;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * DigiD (through an OpenID NLGov broker) or any OpenID provider: authorization code flow with
 * PKCE S256, `state` and `nonce` per redirect kept server-side. openid-client checks the ID token
 * (iss, aud, exp, nonce; the signature against the provider's JWKS, refetched on an unknown key at
 * most once a minute, only because discovery turns on enableNonRepudiationChecks).
 */
export class OidcService {
  private configuration: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly settings: OidcSettings,
    private readonly kv: KeyValueStore,
    private readonly accounts: AccountsService,
    private readonly sessions: SessionsService,
    private readonly logger: Logger,
  ) {}

  /** Discovery happens at the first login, so the gateway starts while the provider is down. */
  private discover(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const { issuer, clientId, allowInsecureIssuer } = this.settings;
      const insecure = issuer.startsWith('http://');
      if (insecure && !allowInsecureIssuer)
        return Promise.reject(new OidcLoginError('provider_unavailable', 502, 'The identity provider must be reached over https.'));
      this.configuration = this.clientAuthentication()
        .then((auth) =>
          oidc.discovery(new URL(issuer), clientId, undefined, auth, {
            // openid-client skips the ID token signature by default (token endpoint over TLS); the
            // issue asks for it: enableNonRepudiationChecks verifies it against the provider's JWKS.
            execute: insecure ? [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] : [oidc.enableNonRepudiationChecks],
            timeout: 10,
          }),
        )
        .catch((err: unknown) => {
          // Forget the failure so the next login tries again.
          this.configuration = null;
          this.logger.error({ event: 'oidc_discovery_failed', err: err instanceof Error ? err.message : String(err) }, 'OpenID discovery failed');
          throw new OidcLoginError('provider_unavailable', 502, 'The identity provider cannot be reached; try again later.');
        });
    }
    return this.configuration;
  }

  private async clientAuthentication(): Promise<oidc.ClientAuth> {
    const { clientSecret, clientPrivateKey, clientKeyId } = this.settings;
    if (clientPrivateKey) {
      const key = createPrivateKey(clientPrivateKey);
      const curve = key.asymmetricKeyDetails?.namedCurve;
      const algorithm =
        key.asymmetricKeyType === 'rsa'
          ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }
          : key.asymmetricKeyType === 'ec' && curve === 'prime256v1'
            ? { name: 'ECDSA', namedCurve: 'P-256' }
            : null;
      if (!algorithm) throw new Error('OIDC_CLIENT_PRIVATE_KEY must be an RSA or EC P-256 key');
      const cryptoKey = await webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), algorithm, false, ['sign']);
      return oidc.PrivateKeyJwt({ key: cryptoKey, kid: clientKeyId });
    }
    return clientSecret ? oidc.ClientSecretBasic(clientSecret) : oidc.None();
  }

  /**
   * Starts a login: answers the provider URL and the `state` the browser cookie binds to.
   * `returnTo`: where the callback sends the browser, already checked (BrowserOrigins.landing).
   */
  async begin(returnTo: string): Promise<{ url: URL; state: string }> {
    const config = await this.discover();
    const state = oidc.randomState();
    const pending: PendingLogin = { nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), returnTo };
    await this.kv.set(`oidc:login:${sha256(state)}`, JSON.stringify(pending), LOGIN_TTL_SECONDS);
    const params: Record<string, string> = {
      redirect_uri: this.settings.redirectUri,
      scope: 'openid',
      response_type: 'code',
      state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
    };
    if (this.settings.requiredAcr) params.acr_values = this.settings.requiredAcr;
    return { url: oidc.buildAuthorizationUrl(config, params), state };
  }

  /**
   * Finishes a login from the callback's query string. `boundState` is the `state` the browser's
   * cookie holds: a callback from another browser (login CSRF) does not match it.
   */
  async complete(
    query: URLSearchParams,
    boundState: string | null,
    requestId: string,
  ): Promise<{ session: IssuedSession; returnTo: string; accountId: string }> {
    const state = query.get('state');
    if (!state) throw new OidcLoginError('missing_state', 400, 'The login answer has no state; start the login again.');
    if (!boundState || !sameString(state, boundState)) {
      throw new OidcLoginError('state_mismatch', 400, 'This login was not started in this browser; start the login again.');
    }
    const key = `oidc:login:${sha256(state)}`;
    const stored = await this.kv.get(key);
    // Single use: whoever claims the state first proceeds; a replayed callback finds it taken.
    if (!stored || !(await this.kv.setIfAbsent(`oidc:used:${sha256(state)}`, '1', LOGIN_TTL_SECONDS))) {
      throw new OidcLoginError('unknown_state', 400, 'This login has expired or was already used; start the login again.');
    }
    await this.kv.del(key);
    const pending = JSON.parse(stored) as PendingLogin;
    const config = await this.discover();

    const callbackUrl = new URL(this.settings.redirectUri);
    callbackUrl.search = query.toString();
    let claims: oidc.IDToken;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
        pkceCodeVerifier: pending.verifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw new OidcLoginError('token_rejected', 401, 'The identity provider sent no ID token.');
      claims = idClaims;
    } catch (err) {
      throw this.toLoginError(err);
    }

    if (!acrSatisfies(claims.acr, this.settings.requiredAcr)) {
      throw new OidcLoginError('acr_too_low', 401, 'This login method is not strong enough; log in with DigiD at level Substantieel or higher.');
    }
    const subject = claims[this.settings.subjectClaim];
    if (typeof subject !== 'string' || subject === '') {
      throw new OidcLoginError('invalid_subject', 401, 'The identity provider did not say who you are.');
    }
    let account;
    if (this.settings.subjectType === 'bsn') {
      if (!isValidBsn(subject)) throw new OidcLoginError('invalid_subject', 401, 'The identity provider sent no valid BSN.');
      account = await this.accounts.loginWithBsn(subject, { requestId });
    } else {
      account = await this.accounts.loginWithOidcSubject(claims.iss, subject);
    }
    await this.accounts.recordLogin(account.id);
    const session = await this.sessions.create(account.id, 'oidc');
    return { session, returnTo: pending.returnTo, accountId: account.id };
  }

  /** Maps openid-client's refusals to a reason; the message never echoes claims or tokens. */
  private toLoginError(err: unknown): OidcLoginError {
    if (err instanceof OidcLoginError) return err;
    if (err instanceof oidc.AuthorizationResponseError) {
      return new OidcLoginError('provider_error', 401, `The identity provider refused the login (${err.error}).`);
    }
    if (err instanceof oidc.ResponseBodyError) {
      // invalid_grant: a code used twice, expired, or not issued for this PKCE verifier.
      return new OidcLoginError('token_rejected', 401, `The identity provider refused the login code (${err.error}).`);
    }
    const code = err instanceof oidc.ClientError && err.code ? err.code : null;
    if (code === 'OAUTH_HTTP_REQUEST_FORBIDDEN' || code === 'OAUTH_TIMEOUT' || (err instanceof Error && /fetch failed/i.test(err.message))) {
      return new OidcLoginError('provider_unavailable', 502, 'The identity provider cannot be reached; try again later.');
    }
    // oauth4webapi's innermost message is fixed text; its `cause` also holds the claims (a BSN), so only `claim` is read.
    let inner: unknown = err;
    while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
    const detail = inner instanceof Error ? inner.message : String(err);
    const cause = inner instanceof Error && typeof inner.cause === 'object' && inner.cause !== null ? (inner.cause as { claim?: unknown }) : {};
    const claim = typeof cause.claim === 'string' ? cause.claim : null;
    this.logger.warn({ event: 'oidc_token_rejected', code, claim, detail }, 'ID token or response refused');
    // An unknown `kid` refetches the JWKS (key rotation) at most once a minute, then lands here.
    if (code === 'OAUTH_KEY_SELECTION_FAILED' || detail === 'JWT signature verification failed') {
      return new OidcLoginError('invalid_signature', 401, 'The ID token is not signed by the identity provider; start the login again.');
    }
    if (claim === 'nonce') return new OidcLoginError('nonce_mismatch', 401, 'The ID token was not issued for this login (nonce); start the login again.');
    if (claim === 'iss' || /"iss" \(issuer\) response parameter/.test(detail)) {
      return new OidcLoginError('issuer_mismatch', 401, 'The answer did not come from the configured identity provider; start the login again.');
    }
    if (claim === 'aud' || claim === 'azp') return new OidcLoginError('audience_mismatch', 401, 'The ID token was issued for another application.');
    if (claim === 'exp' || claim === 'iat' || claim === 'nbf')
      return new OidcLoginError('id_token_expired', 401, 'The ID token has expired or is not valid yet; start the login again.');
    return new OidcLoginError('token_rejected', 401, 'The answer of the identity provider did not pass the checks; start the login again.');
  }
}
