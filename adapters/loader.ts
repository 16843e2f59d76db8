import { DemoEhrAdapter } from './demo/demo.adapter';
import { FhirEhrAdapter, type FhirAuth } from './fhir/fhir.adapter';
import { DemoKoppeltaal } from './koppeltaal/demo-koppeltaal';
import { KoppeltaalFhirAdapter, type KoppeltaalAdapterOptions } from './koppeltaal/koppeltaal.adapter';
import { LogMailer } from './mail/mail';
import { SmtpMailer } from './mail/smtp.mailer';
import type { EhrAdapter, FileStoragePort, KoppeltaalPort, MailPort, SmsPort } from './ports';
import { CmSms } from './sms/cm.sms';
import { LogSms } from './sms/sms';
import { LocalDiskStorage } from './storage/local-disk.storage';
import { parseS3Url, S3Storage, type S3StorageOptions } from './storage/s3.storage';

/** What the EHR adapters are built from (the composition root passes its configuration). */
export interface EhrAdapterSettings {
  /** EHR_ADAPTERS, in order. */
  names: readonly string[];
  fhir?: { baseUrl: string; auth: FhirAuth; intakeQuestionnaire: string; inlineAttachmentMaxBytes: number };
}

type AdapterFactory = (settings: EhrAdapterSettings) => EhrAdapter;

/** The one place that turns EHR_ADAPTERS names into adapters (Medplum's storage loader, for EHRs). */
const factories: Record<string, AdapterFactory> = {
  demo: () => new DemoEhrAdapter(),
  fhir: ({ fhir }) => {
    // The configuration already insists on FHIR_BASE_URL with 'fhir'; this guards settings built by hand.
    if (!fhir) throw new Error("the 'fhir' adapter needs FHIR_BASE_URL");
    return new FhirEhrAdapter(fhir);
  },
};

/** Builds the configured adapters in order; `given` replaces one by name (tests, benchmarks). */
export function loadEhrAdapters(settings: EhrAdapterSettings, given: Record<string, EhrAdapter> = {}): EhrAdapter[] {
  return settings.names.map((name) => given[name] ?? factories[name](settings));
}

/**
 * Picks the file storage by URL prefix (one place): `file:PATH` (the embedded default, one
 * instance) or `s3://BUCKET[/PREFIX]?endpoint=…&region=…` (production: shared by every instance).
 */
export function loadFileStorage(url: string, s3Credentials?: S3StorageOptions['credentials']): FileStoragePort {
  if (url.startsWith('file:')) return new LocalDiskStorage(url.slice('file:'.length));
  if (url.startsWith('s3://')) return new S3Storage(parseS3Url(url, s3Credentials));
  throw new Error(`unsupported FILE_STORAGE_URL '${url.split(':')[0]}:'`);
}

/**
 * The Koppeltaal domain (eHealth modules): its FHIR server when configured, the embedded demo
 * domain where the demo EHR serves outside production, none otherwise.
 */
export function loadKoppeltaal(settings: { fhir?: KoppeltaalAdapterOptions; demo: boolean }): KoppeltaalPort | null {
  if (settings.fhir) return new KoppeltaalFhirAdapter(settings.fhir);
  return settings.demo ? new DemoKoppeltaal() : null;
}

/** What the mail port is built from: SMTP_URL and SMTP_FROM, or the log (the embedded default). */
export interface MailSettings {
  smtpUrl?: string;
  from: string;
  /** Production: STARTTLS is required (smtps:// is TLS from the start). */
  requireTls: boolean;
  log: ConstructorParameters<typeof LogMailer>[0];
  /** Development: the log shows the text (codes, links). */
  showText: boolean;
}

/** Picks the mail port (one place): SMTP when SMTP_URL is set, the log otherwise; `given` replaces it (tests). */
export function loadMailPort(settings: MailSettings, given?: MailPort): MailPort {
  if (given) return given;
  if (settings.smtpUrl) return new SmtpMailer({ url: settings.smtpUrl, from: settings.from, requireTls: settings.requireTls });
  return new LogMailer(settings.log, settings.showText);
}

/** What the SMS port is built from: a CM.com product token (and gateway URL, sender), or the log. */
export interface SmsSettings {
  gatewayUrl: string;
  productToken?: string;
  sender: string;
  log: ConstructorParameters<typeof LogSms>[0];
  showText: boolean;
}

/** Picks the SMS port (one place): CM.com's messages API when SMS_PRODUCT_TOKEN is set, the log otherwise; `given` replaces it (tests). */
export function loadSmsPort(settings: SmsSettings, given?: SmsPort): { port: SmsPort; real: boolean } {
  if (given) return { port: given, real: true };
  if (settings.productToken) return { port: new CmSms({ url: settings.gatewayUrl, productToken: settings.productToken, sender: settings.sender }), real: true };
  return { port: new LogSms(settings.log, settings.showText), real: false };
}
