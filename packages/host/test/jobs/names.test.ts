import { describe, expect, it } from "vitest";
import { ErrorCode, WebJobsError } from "../../src/errors.ts";
import { validateJobName } from "../../src/jobs/names.ts";

function refusal(name: string): WebJobsError {
  try {
    validateJobName(name);
  } catch (error) {
    expect(error).toBeInstanceOf(WebJobsError);
    expect((error as WebJobsError).code).toBe(ErrorCode.BadName);
    return error as WebJobsError;
  }
  return expect.fail(`'${name}' was accepted`);
}

describe("validateJobName", () => {
  for (const name of ["a", "7", "nightly-report", "Job_2", "A-b_C-9", "x".repeat(128)]) {
    it(`accepts '${name.length > 20 ? `${name.slice(0, 10)}… (${name.length})` : name}'`, () => {
      expect(() => validateJobName(name)).not.toThrow();
    });
  }

  const bad = [
    "",
    "-job",
    "_job",
    "my job",
    "a.b",
    "..",
    "../x",
    "a/b",
    "a\\b",
    "jöb",
    "job!",
    "job\n",
    " job",
  ];
  for (const name of bad) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      expect(refusal(name).message).toBe(
        `Invalid job name '${name}': a name must start with a letter or digit and hold only letters, digits, '-' and '_'.`,
      );
    });
  }

  it("refuses a name longer than 128 characters, quoting only its start", () => {
    const name = "a".repeat(129);
    expect(refusal(name).message).toBe(
      `Invalid job name '${"a".repeat(32)}…': a name must be at most 128 characters long, this one has 129.`,
    );
  });
});
