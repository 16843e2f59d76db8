import type { BrowserOrigins } from '../../http/origins';
import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { IsNull, type DataSource } from 'typeorm';
import type { MailPort, SmsPort } from '../../../adapters/ports';
import { BadUserInputError, NotFoundError, RateLimitedError, UnauthenticatedError } from '../../errors';
import type { KeyValueStore } from '../../kv/kv';
import type { Logger } from '../../observability/logger';
import type { Metrics } from '../../observability/metrics';
import { ALL_PERMISSIONS, PortalRelation } from '../../auth/permissions';
import type { AccountsService } from './accounts.service';
import type { PhoneOnFile } from './phone-on-file';
import { AccountCredentialsEntity, ActivationCodeEntity, LoginChallengeEntity, PasswordResetEntity } from './credentials.entity';
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from './password';
import { LIMITS, type RateLimiter } from '../../kv/rate-limit';
import { SessionEntity } from './session.entity';
import { MUST_CHANGE_PASSWORD, type IssuedSession, type SessionsService } from './sessions.service';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const CODE_TTL_MS = 5 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;
export const RESEND_COOLDOWN_MS = 30_000;
const MAX_RESENDS = 5;
const RESET_TTL_MS = 30 * 60_000;
const ACTIVATION_MAX_ATTEMPTS = 5;
/** A password set for someone (an invitation's one-time password, a staff reset) opens a login this long; then it must be sent again. */
export const TEMPORARY_PASSWORD_DAYS = 30;

/** 12 hex characters in groups of four (XXXX-XXXX-XXXX): 48 bits, typed from a letter. */
function newActivationCode(): string {
  return randomBytes(6)
    .toString('hex')
    .toUpperCase()
    .replace(/(.{4})(?=.)/g, '$1-');
}

export interface Challenge {
  challengeId: string;
  channel: 'EMAIL' | 'SMS';
  maskedDestination: string;
  expiresAt: Date;
}

export function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}*****${phone.slice(-2)}`;
}

export interface OwnAccountsServiceOptions {
  db: DataSource;
  accounts: AccountsService;
  sessions: SessionsService;
  limiter: RateLimiter;
  kv: KeyValueStore;
  mail: MailPort;
  sms: SmsPort;
  logger: Logger;
  metrics: Metrics;
  /** The portal frontend's pages (the link in the mail). */
  origins: Pick<BrowserOrigins, 'page'>;
  /** OWN_ACCOUNTS=0: no password login or reset (DigiD only); default on. */
  enabled?: boolean;
  /** Login codes by SMS to the number the organisation has on file; given only when a real SMS port is configured. */
  phoneOnFile?: PhoneOnFile;
}

/** Where one login code goes. */
type CodeDestination = { channel: 'SMS'; phone: string } | { channel: 'EMAIL' };

/** Refused where own accounts are off (OWN_ACCOUNTS=0). */
const ownAccountsOff = () => new NotFoundError('This portal has no password login; log in with DigiD.');

/**
 * Own accounts (Caren, Tromp, Extenzo): password + a 6-digit code by e-mail or SMS on every
 * login, activation codes from the practitioner's letter, and password reset by a single-use link.
 * Every answer is the same for an unknown e-mail as for a known one (no account enumeration).
 */
export class OwnAccountsService {
  constructor(private readonly deps: OwnAccountsServiceOptions) {}

  private get credentials() {
    return this.deps.db.getRepository(AccountCredentialsEntity);
  }
  private get challenges() {
    return this.deps.db.getRepository(LoginChallengeEntity);
  }

  async hasPassword(accountId: string): Promise<boolean> {
    return (await this.credentials.countBy({ accountId })) > 0;
  }

  /** Whether the account's password was set for it and must be replaced before any client data is served. */
  async mustChangePassword(accountId: string): Promise<boolean> {
    return (await this.credentials.findOneBy({ accountId }))?.mustChangePassword ?? false;
  }

  /** Sets (or replaces) an account's password; `mustChange` forces a new one at the next login. */
  async setPassword(accountId: string, password: string, mustChange: boolean): Promise<void> {
    const account = await this.deps.accounts.findById(accountId);
    const problem = passwordProblem(password, account?.email);
    if (problem) throw new BadUserInputError(`The password does not meet the policy: ${problem}.`, { field: 'password' });
    const passwordHash = await hashPassword(password);
    const existing = await this.credentials.findOneBy({ accountId });
    if (existing) await this.credentials.update({ accountId }, { passwordHash, mustChangePassword: mustChange, updatedAt: new Date() });
    else
      await this.credentials.insert({
        accountId,
        passwordHash,
        mustChangePassword: mustChange,
        codeChannel: 'EMAIL',
        phone: null,
        phoneVerified: false,
        updatedAt: new Date(),
      });
  }

  async login(email: string, password: string, ip: string | null): Promise<Challenge> {
    if (this.deps.enabled === false) throw ownAccountsOff();
    const normalized = email.trim().toLowerCase();
    await this.deps.limiter.hit('login-ip', ip, LIMITS.loginPerIp);
    await this.deps.limiter.hit('login-account', normalized, LIMITS.loginPerAccount);
    const account = await this.deps.accounts.findByEmail(normalized);
    const creds = account ? await this.credentials.findOneBy({ accountId: account.id }) : null;
    // Always verify against some hash, so a missing account costs the same time as a wrong password.
    const ok = await verifyPassword(password, creds?.passwordHash ?? DUMMY_HASH);
    // A temporary password left unused in a mailbox stops working (answered as a wrong one).
    const expired = Boolean(creds?.mustChangePassword && creds.updatedAt.getTime() < Date.now() - TEMPORARY_PASSWORD_DAYS * 86_400_000);
    const valid = Boolean(account && creds && ok && !expired);
    const destination: CodeDestination = valid ? await this.codeDestination(creds!) : { channel: 'EMAIL' };
    const sms = destination.channel === 'SMS' ? destination.phone : null;
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = new Date();
    const challenge: LoginChallengeEntity = {
      id: randomUUID(),
      accountId: valid ? account!.id : null,
      codeHash: sha256(valid ? code : randomBytes(16).toString('hex')),
      channel: sms ? 'SMS' : 'EMAIL',
      maskedDestination: sms ? maskPhone(sms) : maskEmail(normalized),
      expiresAt: new Date(now.getTime() + CODE_TTL_MS),
      attempts: 0,
      resends: 0,
      lastSentAt: now,
      consumedAt: null,
    };
    await this.challenges.insert(challenge);
    if (valid) {
      await this.sendCode(destination, code, normalized, creds!);
    } else {
      this.deps.metrics.securityEvents.inc({ event: 'login_failed' });
      const reason = !account ? 'unknown_account' : ok && expired ? 'temporary_password_expired' : 'wrong_password';
      this.deps.logger.warn({ event: 'login_failed', reason, ip }, 'password login refused');
    }
    return { challengeId: challenge.id, channel: challenge.channel, maskedDestination: challenge.maskedDestination, expiresAt: challenge.expiresAt };
  }

  async verifyLoginCode(challengeId: string, code: string, ip: string | null): Promise<IssuedSession & { mustChangePassword: boolean }> {
    await this.deps.limiter.hit('verify-ip', ip, LIMITS.verifyPerIp);
    const challenge = await this.challenges.findOneBy({ id: challengeId });
    if (!challenge || challenge.consumedAt) throw new UnauthenticatedError('This login attempt is no longer valid; log in again.');
    if (challenge.expiresAt <= new Date()) throw new UnauthenticatedError('The code has expired (codes are valid 5 minutes); ask for a new one.');
    if (challenge.attempts >= CODE_MAX_ATTEMPTS) throw new UnauthenticatedError('Too many wrong codes; log in again.');
    // Count the try before comparing, in one statement, so parallel guesses cannot exceed the limit.
    const counted = await this.challenges
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND attempts < :max AND consumed_at IS NULL', { id: challengeId, max: CODE_MAX_ATTEMPTS })
      .execute();
    if (!counted.affected) throw new UnauthenticatedError('Too many wrong codes; log in again.');
    if (!challenge.accountId || !/^\d{6}$/.test(code) || !sameHash(sha256(code), challenge.codeHash)) {
      this.deps.metrics.securityEvents.inc({ event: 'code_failed' });
      this.deps.logger.warn({ event: 'code_failed', challengeId, ip }, 'wrong login code');
      const left = CODE_MAX_ATTEMPTS - challenge.attempts - 1;
      throw new UnauthenticatedError(left > 0 ? `The code is not right; ${left} tries left.` : 'Too many wrong codes; log in again.');
    }
    const consumed = await this.challenges
      .createQueryBuilder()
      .update()
      .set({ consumedAt: new Date() })
      .where('id = :id AND consumed_at IS NULL', { id: challengeId })
      .execute();
    if (!consumed.affected) throw new UnauthenticatedError('This login attempt is no longer valid; log in again.');
    const creds = await this.credentials.findOneBy({ accountId: challenge.accountId });
    const mustChangePassword = creds?.mustChangePassword ?? false;
    await this.deps.accounts.recordLogin(challenge.accountId);
    // A session that must set a new password first reaches no client data and cannot be refreshed.
    const session = await this.deps.sessions.create(challenge.accountId, mustChangePassword ? `password${MUST_CHANGE_PASSWORD}` : 'password');
    return { ...session, mustChangePassword };
  }

  async resendLoginCode(challengeId: string): Promise<boolean> {
    const challenge = await this.challenges.findOneBy({ id: challengeId });
    if (!challenge || challenge.consumedAt || challenge.attempts >= CODE_MAX_ATTEMPTS)
      throw new UnauthenticatedError('This login attempt is no longer valid; log in again.');
    const wait = challenge.lastSentAt.getTime() + RESEND_COOLDOWN_MS - Date.now();
    if (wait > 0) throw new RateLimitedError(Math.ceil(wait / 1000));
    if (challenge.resends >= MAX_RESENDS) throw new RateLimitedError(Math.ceil(CODE_TTL_MS / 1000));
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = new Date();
    // A new code replaces the old one and gets its own 5 minutes; only if no other resend came first
    // (two at once would send two codes, the one arriving last perhaps the one no longer valid).
    const replaced = await this.challenges
      .createQueryBuilder()
      .update()
      .set({
        codeHash: sha256(challenge.accountId ? code : randomBytes(16).toString('hex')),
        expiresAt: new Date(now.getTime() + CODE_TTL_MS),
        lastSentAt: now,
        resends: challenge.resends + 1,
      })
      .where('id = :id AND resends = :resends AND consumed_at IS NULL', { id: challengeId, resends: challenge.resends })
      .execute();
    if (!replaced.affected) throw new RateLimitedError(Math.ceil(RESEND_COOLDOWN_MS / 1000));
    if (challenge.accountId) {
      const [account, creds] = await Promise.all([
        this.deps.accounts.findById(challenge.accountId),
        this.credentials.findOneBy({ accountId: challenge.accountId }),
      ]);
      if (account?.email && creds) {
        // The same way as the first code; a number no longer there (changed meanwhile) falls back to mail.
        const destination = challenge.channel === 'SMS' ? await this.codeDestination(creds) : ({ channel: 'EMAIL' } as const);
        await this.sendCode(destination, code, account.email, creds);
      }
    }
    return true;
  }

  /** Sets a new password, ends every session of the account and answers a fresh one for this device. */
  async changePassword(accountId: string, current: string, next: string): Promise<IssuedSession> {
    const creds = await this.credentials.findOneBy({ accountId });
    if (!creds || !(await verifyPassword(current, creds.passwordHash)))
      throw new BadUserInputError('The current password is not right.', { field: 'currentPassword' });
    if (current === next) throw new BadUserInputError('Choose a password you did not use now.', { field: 'newPassword' });
    await this.setPassword(accountId, next, false);
    await this.revokeOtherSessions(accountId, null, 'password_changed');
    return this.deps.sessions.create(accountId, 'password');
  }

  /** Always answers the same; mails a single-use 30-minute link when the account exists. */
  async requestPasswordReset(email: string, ip: string | null): Promise<void> {
    if (this.deps.enabled === false) throw ownAccountsOff();
    const normalized = email.trim().toLowerCase();
    await this.deps.limiter.hit('reset-ip', ip, LIMITS.resetPerIp);
    await this.deps.limiter.hit('reset-account', normalized, LIMITS.resetPerAccount);
    const account = await this.deps.accounts.findByEmail(normalized);
    if (!account || !(await this.credentials.findOneBy({ accountId: account.id }))) return;
    const token = randomBytes(32).toString('base64url');
    await this.deps.db
      .getRepository(PasswordResetEntity)
      .insert({ id: randomUUID(), accountId: account.id, tokenHash: sha256(token), expiresAt: new Date(Date.now() + RESET_TTL_MS), usedAt: null });
    // A mail that fails answers as any other request does (an error only for addresses with an account would tell
    // which exist); the operator sees it logged, the person asks again.
    await this.deps.mail
      .send({
        to: normalized,
        subject: 'Nieuw wachtwoord instellen',
        text: `Via deze link stelt u een nieuw wachtwoord in (30 minuten geldig, één keer te gebruiken):\n${this.deps.origins.page(`/wachtwoord-herstellen?token=${token}`)}\n\nHeeft u dit niet aangevraagd? Dan kunt u deze e-mail negeren.`,
      })
      .catch((err: Error) => this.deps.logger.error({ err: err.message, event: 'password_reset_mail_failed' }, 'password reset mail not sent'));
  }

  async resetPassword(token: string, password: string): Promise<void> {
    const resets = this.deps.db.getRepository(PasswordResetEntity);
    const row = await resets.findOneBy({ tokenHash: sha256(token) });
    if (!row || row.usedAt || row.expiresAt <= new Date())
      throw new BadUserInputError('This reset link is not valid (any more); ask for a new one.', { field: 'token' });
    const account = await this.deps.accounts.findById(row.accountId);
    const problem = passwordProblem(password, account?.email);
    if (problem) throw new BadUserInputError(`The password does not meet the policy: ${problem}.`, { field: 'password' });
    const claimed = await resets.createQueryBuilder().update().set({ usedAt: new Date() }).where('id = :id AND used_at IS NULL', { id: row.id }).execute();
    if (!claimed.affected) throw new BadUserInputError('This reset link was already used.', { field: 'token' });
    await this.setPassword(row.accountId, password, false);
    await this.revokeOtherSessions(row.accountId, null, 'password_reset');
  }

  /** Issues an activation code for a client record (from a practitioner system or an invitation). */
  async createActivationCode(clientId: string, birthDate: string, relation: PortalRelation = PortalRelation.SELF, validDays = 30): Promise<string> {
    const code = newActivationCode();
    await this.deps.db.getRepository(ActivationCodeEntity).insert({
      id: randomUUID(),
      codeHash: sha256(code.replace(/-/g, '')),
      clientId,
      birthDate,
      relation,
      expiresAt: new Date(Date.now() + validDays * 86_400_000),
      attempts: 0,
      usedAt: null,
      createdAt: new Date(),
    });
    return code;
  }

  /**
   * The activation code of one invitation (`id`: the sync event's stored row). A second call for the
   * same id, as a retried handler makes, replaces the code (the first was never sent, or is lost with
   * the failed attempt): one invitation never has two valid codes. Null once the code was used.
   */
  async activationCodeFor(id: string, clientId: string, birthDate: string, relation: PortalRelation, validDays: number): Promise<string | null> {
    const codes = this.deps.db.getRepository(ActivationCodeEntity);
    const existing = await codes.findOneBy({ id });
    if (existing?.usedAt) return null;
    const code = newActivationCode();
    const fields = { codeHash: sha256(code.replace(/-/g, '')), expiresAt: new Date(Date.now() + validDays * 86_400_000), attempts: 0 };
    if (existing) {
      // Used meanwhile: nothing to send.
      if (!(await codes.update({ id, usedAt: IsNull() }, fields)).affected) return null;
    } else await codes.insert({ id, clientId, birthDate, relation, usedAt: null, createdAt: new Date(), ...fields });
    return code;
  }

  /** The letter's code plus the birth date links the logged-in account to the client record. */
  async activatePortal(accountId: string, activationCode: string, birthDate: string): Promise<{ clientId: string; relation: PortalRelation }> {
    await this.deps.limiter.hit('activate-account', accountId, LIMITS.activatePerAccount);
    const codes = this.deps.db.getRepository(ActivationCodeEntity);
    const row = await codes.findOneBy({ codeHash: sha256(activationCode.trim().toUpperCase().replace(/[\s-]/g, '')) });
    const refuse = () => new BadUserInputError('The activation code or the birth date is not right, or the code is no longer valid.');
    if (!row || row.usedAt || row.expiresAt <= new Date() || row.attempts >= ACTIVATION_MAX_ATTEMPTS) throw refuse();
    // Count the try before comparing, in one statement, so birth dates tried at once cannot exceed the limit.
    const counted = await codes
      .createQueryBuilder()
      .update()
      .set({ attempts: () => 'attempts + 1' })
      .where('id = :id AND attempts < :max AND used_at IS NULL', { id: row.id, max: ACTIVATION_MAX_ATTEMPTS })
      .execute();
    if (!counted.affected) throw refuse();
    if (row.birthDate !== birthDate) {
      this.deps.logger.warn({ event: 'activation_failed', accountId }, 'activation with a wrong birth date');
      throw refuse();
    }
    const claimed = await codes.createQueryBuilder().update().set({ usedAt: new Date() }).where('id = :id AND used_at IS NULL', { id: row.id }).execute();
    if (!claimed.affected) throw refuse();
    const relation = row.relation as PortalRelation;
    await this.deps.accounts.link(accountId, row.clientId, relation, [...ALL_PERMISSIONS], true);
    return { clientId: row.clientId, relation };
  }

  /** Step 1 of a phone change (Caren): an SMS code to the new number; the number counts once confirmed. */
  async requestPhoneChange(accountId: string, phone: string): Promise<void> {
    const normalized = phone.replace(/[\s()-]/g, '');
    if (!/^\+?\d{9,15}$/.test(normalized)) throw new BadUserInputError('Give a mobile number such as +31612345678.', { field: 'phone' });
    if (!(await this.credentials.findOneBy({ accountId }))) throw new BadUserInputError('Only accounts with a password use a phone number for login codes.');
    await this.deps.limiter.hit('phone-change', accountId, LIMITS.activatePerAccount);
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.deps.kv.set(`phone-change:${accountId}`, JSON.stringify({ phone: normalized, codeHash: sha256(code), attempts: 0 }), CODE_TTL_MS / 1000);
    await this.deps.sms.send({ to: normalized, text: `Uw code om dit nummer te bevestigen is ${code}. De code is 5 minuten geldig.` });
  }

  /** Step 2: the code from the SMS; the new number is stored verified and other sessions end. */
  async confirmPhoneChange(accountId: string, sessionId: string, code: string): Promise<void> {
    const key = `phone-change:${accountId}`;
    const pending = await this.deps.kv.get(key);
    if (!pending) throw new BadUserInputError('There is no phone change waiting, or its code expired; start again.');
    const state = JSON.parse(pending) as { phone: string; codeHash: string; attempts: number };
    if (state.attempts >= CODE_MAX_ATTEMPTS || !sameHash(sha256(code.trim()), state.codeHash)) {
      state.attempts++;
      if (state.attempts >= CODE_MAX_ATTEMPTS) await this.deps.kv.del(key);
      else await this.deps.kv.set(key, JSON.stringify(state), CODE_TTL_MS / 1000);
      throw new BadUserInputError('The code is not right.', { field: 'code' });
    }
    await this.deps.kv.del(key);
    await this.credentials.update({ accountId }, { phone: state.phone, phoneVerified: true, updatedAt: new Date() });
    await this.revokeOtherSessions(accountId, sessionId, 'phone_changed');
  }

  /** Where login codes go: SMS needs a confirmed phone number. */
  async setCodeChannel(accountId: string, channel: 'EMAIL' | 'SMS'): Promise<void> {
    const creds = await this.credentials.findOneBy({ accountId });
    if (!creds) throw new BadUserInputError('Only accounts with a password receive login codes.');
    if (channel === 'SMS' && !(creds.phone && creds.phoneVerified)) throw new BadUserInputError('Confirm a phone number first.', { field: 'channel' });
    await this.credentials.update({ accountId }, { codeChannel: channel, updatedAt: new Date() });
  }

  /**
   * Which number a login code goes to. The number the person confirmed with an SMS code and chose
   * for codes wins: they proved they hold it, and chose it later than the organisation noted its own.
   * Otherwise the mobile number the organisation has on file for their own client record (Extenzo:
   * "het mobiele nummer dat we van jou in onze administratie hebben staan"), so the code does not
   * go to the same mailbox as a one-time password. Otherwise the e-mail address.
   */
  private async codeDestination(creds: AccountCredentialsEntity): Promise<CodeDestination> {
    if (creds.codeChannel === 'SMS' && creds.phone && creds.phoneVerified) return { channel: 'SMS', phone: creds.phone };
    const onFile = await this.deps.phoneOnFile?.(creds.accountId);
    if (onFile) return { channel: 'SMS', phone: onFile };
    return { channel: 'EMAIL' };
  }

  private async sendCode(destination: CodeDestination, code: string, email: string, creds: AccountCredentialsEntity): Promise<void> {
    const text = `Uw inlogcode is ${code}. De code is 5 minuten geldig. Deel deze code met niemand.`;
    if (destination.channel === 'SMS') await this.deps.sms.send({ to: destination.phone, text });
    else await this.deps.mail.send({ to: email, subject: 'Uw inlogcode', text });
    this.deps.metrics.securityEvents.inc({ event: 'code_sent' });
    this.deps.logger.info({ event: 'code_sent', accountId: creds.accountId, channel: destination.channel }, 'login code sent');
  }

  private async revokeOtherSessions(accountId: string, keepSessionId: string | null, reason: string): Promise<void> {
    const active = await this.deps.db.getRepository(SessionEntity).find({ where: { accountId }, select: { id: true, revokedAt: true } });
    for (const s of active) if (s.id !== keepSessionId && !s.revokedAt) await this.deps.sessions.revoke(s.id, reason);
  }
}
