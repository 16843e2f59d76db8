import { BadUserInputError } from '../../errors';

export const BODY_MAX = 1000;
export const SUBJECT_MAX = 200;

/** Characters as people count them (an emoji is one), not UTF-16 units. */
const length = (s: string): number => [...s].length;

/** The body after trimming, 1 to 1000 characters; BAD_USER_INPUT naming the limit otherwise. */
export function checkBody(body: string): string {
  const trimmed = body.trim();
  if (length(trimmed) === 0) throw new BadUserInputError(`The message is empty: write 1 to ${BODY_MAX} characters.`, { field: 'body', limit: BODY_MAX });
  if (length(trimmed) > BODY_MAX)
    throw new BadUserInputError(`The message is ${length(trimmed)} characters; at most ${BODY_MAX} are allowed.`, { field: 'body', limit: BODY_MAX });
  return trimmed;
}

export function checkSubject(subject: string): string {
  const trimmed = subject.trim();
  if (length(trimmed) === 0)
    throw new BadUserInputError(`The subject is empty: write 1 to ${SUBJECT_MAX} characters.`, { field: 'subject', limit: SUBJECT_MAX });
  if (length(trimmed) > SUBJECT_MAX)
    throw new BadUserInputError(`The subject is ${length(trimmed)} characters; at most ${SUBJECT_MAX} are allowed.`, { field: 'subject', limit: SUBJECT_MAX });
  return trimmed;
}
