/** The body of every notification mail: who it is for, what happened (no content), where to look, how to stop them. */
export function notificationText(displayName: string, line: string, link: string, extra: string[] = []): string {
  return [
    `Beste ${displayName},`,
    '',
    `${line} Log in om het te bekijken:`,
    link,
    '',
    ...extra,
    'U kunt deze e-mails uitzetten bij uw meldingsinstellingen in het portaal.',
  ].join('\n');
}
