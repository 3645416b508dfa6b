/** One idempotent step of `setup`: it reports what it found or changed. */
export interface SetupStep {
  /** Action of the step, printed in the plan and before it runs. */
  description: string;
  run(): Promise<StepOutcome>;
}

export type StepOutcome = { result: 'created' | 'updated' | 'unchanged' | 'skipped'; detail?: string };

/** Prints the plan, or runs each step in order and prints its outcome. */
export async function runSteps(steps: SetupStep[], dryRun: boolean, print: (line: string) => void): Promise<StepOutcome[]> {
  const outcomes: StepOutcome[] = [];
  for (const [index, step] of steps.entries()) {
    const prefix = `${index + 1}/${steps.length}`;
    if (dryRun) {
      print(`${prefix} would ${step.description}`);
      continue;
    }
    print(`${prefix} ${step.description}...`);
    const outcome = await step.run();
    print(`${prefix} ${outcome.result}${outcome.detail ? `: ${outcome.detail}` : ''}`);
    outcomes.push(outcome);
  }
  return outcomes;
}
