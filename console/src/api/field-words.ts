import { type ApiProblem, type FieldProblem, sentence } from "./problem";

/** Whether a field problem belongs to the form field `field` (its own path, or a path inside it). */
export const atField = (error: FieldProblem, field: string) =>
  error.path === field || error.path.startsWith(`${field}.`);

/**
 * The API's field messages come from its schemas: most are written for people ("a price such as 9.99"), the schema
 * library's defaults are not ("Too small: expected string to have >=1 characters"); those are put in words here.
 */
const FIELD_WORDS: [RegExp, (...groups: string[]) => string][] = [
  [/^Too small: expected string to have >=1 characters?$/, () => "Required."],
  [/^Too small: expected string to have >=(\d+) characters?$/, (n) => `At least ${n} characters.`],
  [/^Too big: expected string to have <=(\d+) characters?$/, (n) => `At most ${n} characters.`],
  [/^Too small: expected number to be >=(\S+)$/, (n) => `At least ${n}.`],
  [/^Too small: expected number to be >(\S+)$/, (n) => `More than ${n}.`],
  [/^Too big: expected number to be <=(\S+)$/, (n) => `At most ${n}.`],
  [/^Too big: expected number to be <(\S+)$/, (n) => `Less than ${n}.`],
  [/^Invalid input: expected number, received \w+$/, () => "Enter a number."],
  [/^Invalid input: expected \w+, received undefined$/, () => "Required."],
  [/^Invalid option: expected one of .*$/, () => "Choose one of the options."],
  [/^Invalid ISO datetime$/, () => "Enter a date and time."],
  [/^Invalid email address$/, () => "Enter an email address, such as name@example.com."],
];

/** One field problem's message in words. */
export function fieldWords(message: string): string {
  for (const [pattern, words] of FIELD_WORDS) {
    const match = pattern.exec(message);
    if (match) return words(...match.slice(1));
  }
  return sentence(message);
}

/** The message for one form field, in words: every problem whose path is that field (or starts with it). */
export function fieldMessage(problem: ApiProblem, field: string): string | undefined {
  const messages = problem.errors.filter((e) => atField(e, field)).map((e) => fieldWords(e.message));
  return messages.length > 0 ? [...new Set(messages)].join(" ") : undefined;
}
