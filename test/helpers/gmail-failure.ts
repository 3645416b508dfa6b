import { ApplicationFailure } from '@temporalio/common';

/** Runs a Gmail call that must fail and returns the typed failure it was mapped to. */
export async function failureOf(call: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await call;
  } catch (error) {
    if (error instanceof ApplicationFailure) {
      return error;
    }
    throw error;
  }
  throw new Error('expected the Gmail call to fail, but it succeeded');
}
